import type { HttpServerConfig } from "../config/types.ts";
import type { Codec } from "../stream/codec.ts";
import type { EntryFilter, Hub } from "../stream/hub.ts";
import type { Connection } from "./connection.ts";
import { selectionFromRequest } from "./filter_request.ts";
import { type ClientInfo, upgradeResponse } from "./http_server.ts";
import { type ExtraHeaders, jsonResponse } from "./responses.ts";
import { CLOSE_CODE } from "./websocket/close_code.ts";
import { ConnectionSocket } from "./websocket/connection_socket.ts";
import { acceptKey, checkHandshake } from "./websocket/handshake.ts";
import { WebSocketSession } from "./websocket/session.ts";

/** Answers a request to `{ws_path}`: `101` and a WebSocket session, or why not. */
export type WsHandler = (request: Request, client: ClientInfo, headers: ExtraHeaders) => Response;

/** What a stream's WebSocket endpoint serves. */
export interface WsEndpointOptions {
  /** The stream's hub, which WebSocket clients subscribe to. */
  readonly hub: Hub;
  /** The WebSocket wire format. */
  readonly codec: Codec;
  /** The HTTP server the endpoint belongs to (limits, origins, heartbeat). */
  readonly config: HttpServerConfig;
  /** The process-wide shutdown signal: no new sessions once it aborts. */
  readonly shutdown: AbortSignal;
}

/** Longest message a client may send; LogWisp reads none, so this is small. */
const MAX_CLIENT_MESSAGE_BYTES = 4096;

/**
 * `{ws_path}` (README "WebSocket"): the opening handshake, the `Origin` check against
 * `cors_origins`, the client's filter, `tail` and `last_event_id` from the query, then the
 * hub's entries as JSON text frames. The server pings every heartbeat interval and drops a
 * client that does not answer; backpressure is the client's bounded queue, as for SSE and
 * TCP, since the session writes a batch only once the socket has sent the previous one.
 */
export function wsHandler(options: WsEndpointOptions): WsHandler {
  const { config, shutdown } = options;
  return (request, client, headers) => {
    const handshake = checkHandshake({
      method: request.method,
      httpVersion: "1.1",
      headers: Object.fromEntries(request.headers),
    });
    if (!handshake.ok) {
      return jsonResponse(request, { error: handshake.reason }, handshake.status, {
        ...headers,
        ...handshake.headers,
      });
    }
    const origin = request.headers.get("Origin");
    const origins = config.access.corsOrigins;
    if (origin !== null && !origins.includes("*") && !origins.includes(origin)) {
      return jsonResponse(
        request,
        { error: `Origin ${JSON.stringify(origin)} may not open a WebSocket here` },
        403,
        headers,
      );
    }
    if (shutdown.aborted) {
      return jsonResponse(request, { error: "LogWisp is shutting down" }, 503, headers);
    }
    const selection = selectionFromRequest(request, headers);
    if (selection instanceof Response) return selection;
    // As for SSE; browsers cannot set headers on a WebSocket, so the query is the usual way.
    const lastEventId = request.headers.get("Last-Event-ID") ??
      new URL(request.url).searchParams.get("last_event_id");
    return upgradeResponse({
      "Upgrade": "websocket",
      "Connection": "Upgrade",
      "Sec-WebSocket-Accept": acceptKey(handshake.key),
    }, (connection, head) =>
      serveSession(connection, head, {
        ...options,
        remoteAddr: client.remoteAddr,
        identity: client.identity,
        lastEventId: lastEventId === null || lastEventId.length > 64 ? undefined : lastEventId,
        ...selection,
      }));
  };
}

interface SessionOptions extends WsEndpointOptions {
  readonly remoteAddr: string;
  readonly identity: string | undefined;
  readonly lastEventId: string | undefined;
  readonly filter: EntryFilter | undefined;
  readonly filterDescription: string | undefined;
  readonly tail: number | undefined;
}

async function serveSession(
  connection: Connection,
  head: Uint8Array,
  options: SessionOptions,
): Promise<void> {
  const { hub, config, shutdown } = options;
  const socket = new ConnectionSocket(connection);
  const subscription = hub.subscribe({
    codec: options.codec,
    remoteAddr: options.remoteAddr,
    identity: options.identity,
    limits: { entries: config.bufferSize, bytes: config.bufferBytes },
    lastEventId: options.lastEventId,
    tail: options.tail,
    filter: options.filter,
    filterDescription: options.filterDescription,
  });
  const session = new WebSocketSession(socket, {
    head,
    maxMessageBytes: MAX_CLIENT_MESSAGE_BYTES,
    pingIntervalMs: config.heartbeat.intervalSeconds * 1000,
    // `onClose` comes once per session, however the socket ended; closing twice is harmless.
    onClose: () => subscription.close(),
  });
  subscription.onTerminate = () => session.terminate("Slow client disconnected by LogWisp");
  const onShutdown = () => subscription.close();
  shutdown.addEventListener("abort", onShutdown, { once: true });
  try {
    for (let batch; (batch = await subscription.queue.take()) !== null;) {
      if (session.state !== "open") break;
      const writable = session.send(batch.bytes);
      subscription.written(batch);
      if (!writable && !(await session.drained())) break;
    }
  } finally {
    shutdown.removeEventListener("abort", onShutdown);
    subscription.close();
    session.close(shutdown.aborted ? CLOSE_CODE.GOING_AWAY : CLOSE_CODE.NORMAL);
    await session.closed;
    await socket.finished;
  }
}
