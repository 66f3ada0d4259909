/**
 * RFC 6455 WebSocket for LogWisp's own HTTP server: the opening handshake on a
 * `node:http` upgrade, server frames built from pre-encoded payloads, a strict decoder
 * for client frames, and a session that handles control frames, liveness and closing on
 * the raw socket while leaving backpressure to the caller's bounded queue. LogWisp's own
 * HTTP server hands its connections over as `ConnectionSocket`s (see `ws_endpoint.ts`).
 *
 * ```ts ignore
 * server.on("upgrade", (request, socket, head) => {
 *   const handshake = checkHandshake(request);
 *   if (!handshake.ok) return socket.end(rejectionResponse(handshake));
 *   socket.write(upgradeResponse(handshake.key));
 *   const session = new WebSocketSession(socket, {
 *     head,
 *     pingIntervalMs: 30_000,
 *     onClose: () => subscription.close(),
 *   });
 *   subscription.onTerminate = () => session.terminate("Slow client");
 *   (async () => {
 *     for (let frames; (frames = await subscription.queue.take()) !== null;) {
 *       if (!session.send(frames) && !(await session.drained())) break;
 *     }
 *     session.close(CLOSE_CODE.GOING_AWAY);
 *   })();
 * });
 * ```
 *
 * @module
 */
export * from "./close_code.ts";
export * from "./connection_socket.ts";
export * from "./frame.ts";
export * from "./frame_decoder.ts";
export * from "./handshake.ts";
export * from "./session.ts";
