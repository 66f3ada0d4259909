/**
 * A server-side WebSocket connection on a raw socket, after the `101` response: control
 * frames, liveness and the closing handshake. Data frames are the caller's, pre-encoded.
 *
 * @module
 */
import { CLOSE_CODE } from "./close_code.ts";
import { closeFrame, pingFrame, pongFrame } from "./frame.ts";
import { FrameDecoder, type WebSocketEvent } from "./frame_decoder.ts";

/**
 * The socket a session speaks on: what `node:http` hands to an `upgrade` listener (a
 * `node:net` `Socket`, or a `node:tls` `TLSSocket` under `node:https`).
 */
export interface WebSocketSocket {
  /** Queues `data`; false once the socket holds its high-water mark or more. */
  write(data: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  /** Sends FIN once everything queued is written. */
  end(): unknown;
  /** Closes at once, dropping what is queued. */
  destroy(): unknown;
  /** Bytes queued and not yet handed to the kernel. */
  readonly writableLength: number;
  /** Whether the socket was destroyed (its `close` event may have been emitted already). */
  readonly destroyed: boolean;
  /** Registers a listener for input, end of input, a drained buffer, errors and the final close. */
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  /** Registers a listener for input, end of input, a drained buffer, errors and the final close. */
  on(event: "end" | "drain" | "close", listener: () => void): unknown;
  /** Registers a listener for input, end of input, a drained buffer, errors and the final close. */
  on(event: "error", listener: (error: Error) => void): unknown;
}

/** How a session behaves; every duration in milliseconds. */
export interface WebSocketSessionOptions {
  /** Bytes that followed the handshake request (the `head` of the `upgrade` event). */
  readonly head?: Uint8Array | undefined;
  /** The largest message accepted from the client, fragments together; default 64 KiB. */
  readonly maxMessageBytes?: number | undefined;
  /** Send a ping this often; 0 (the default) sends none. */
  readonly pingIntervalMs?: number | undefined;
  /** A ping unanswered this long ends the connection; default: the ping interval. */
  readonly pongTimeoutMs?: number | undefined;
  /** After a close frame, how long the peer has to finish the closing handshake; default 5000. */
  readonly closeTimeoutMs?: number | undefined;
  /**
   * Each text (string) or binary message while the session is open. If it throws, the
   * session closes with 1011 and the error is reported in the close info.
   */
  readonly onMessage?: ((data: string | Uint8Array) => void) | undefined;
  /** Called exactly once, when the socket has closed, whatever the way. */
  readonly onClose?: ((info: WebSocketCloseInfo) => void) | undefined;
}

/** How a session ended. */
export interface WebSocketCloseInfo {
  /**
   * The client's close code when it sent a close frame (1005 when that had none); else
   * the code the server sent; else 1006, the connection ended without a close frame.
   */
  readonly code: number;
  /** The reason that came with `code`; with 1006, what happened. */
  readonly reason: string;
  /** Whether close frames went both ways. */
  readonly wasClean: boolean;
  /** Who started the end: the client (a close frame, or leaving) or the server. */
  readonly initiator: "client" | "server";
  /** The socket's error, or what `onMessage` threw. */
  readonly error?: unknown;
}

/** `open`: data flows. `closing`: a close frame was sent or the socket is going; nothing more is sent. */
export type WebSocketState = "open" | "closing" | "closed";

/** The default time the peer has to complete a closing handshake. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

interface Close {
  readonly code: number;
  readonly reason: string;
}

/**
 * One WebSocket connection, server side. It answers pings (coalescing them, so a client
 * that pings and never reads cannot pile up pongs), answers a close frame with one and
 * ends the socket, pings at an interval and drops a peer that does not answer, and
 * destroys a socket whose closing handshake does not finish in time.
 *
 * It buffers nothing of its own: {@linkcode WebSocketSession.send} writes the caller's
 * frames straight to the socket, so what waits for a slow client stays in the caller's
 * bounded queue. The caller's loop:
 *
 * ```ts ignore
 * for (let frames; (frames = await queue.take()) !== null;) {
 *   if (!session.send(frames) && !(await session.drained())) break;
 * }
 * ```
 */
export class WebSocketSession {
  /** Resolves once the socket has closed, right before `onClose` is called. */
  readonly closed: Promise<WebSocketCloseInfo>;
  readonly #socket: WebSocketSocket;
  readonly #decoder: FrameDecoder;
  readonly #onMessage: ((data: string | Uint8Array) => void) | undefined;
  readonly #onClose: ((info: WebSocketCloseInfo) => void) | undefined;
  readonly #pongTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  #resolveClosed: (info: WebSocketCloseInfo) => void = () => {};
  #state: WebSocketState = "open";
  #sent: Close | undefined;
  #received: Close | undefined;
  #initiator: "client" | "server" | undefined;
  /** Why the socket was destroyed, once it was. */
  #lostReason: string | undefined;
  #error: unknown;
  #needDrain = false;
  #drainWaiters: ((writable: boolean) => void)[] = [];
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #pongInFlight = false;
  #pendingPong: Uint8Array | undefined;

  /**
   * Takes over `socket`, to which the `101` response has been written.
   *
   * @throws {RangeError} when a size or duration is negative or not a number
   */
  constructor(socket: WebSocketSocket, options: WebSocketSessionOptions = {}) {
    const pingIntervalMs = duration("ping interval", options.pingIntervalMs ?? 0);
    this.#pongTimeoutMs = duration("pong timeout", options.pongTimeoutMs ?? pingIntervalMs);
    this.#closeTimeoutMs = duration(
      "close timeout",
      options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    );
    this.#decoder = new FrameDecoder({ maxMessageBytes: options.maxMessageBytes });
    this.#socket = socket;
    this.#onMessage = options.onMessage;
    this.#onClose = options.onClose;
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    socket.on("data", (chunk) => this.#receive(chunk));
    socket.on("drain", () => this.#drain(true));
    socket.on("end", () => {
      if (this.#received) return;
      this.#lose("Connection closed without a close frame", "client");
    });
    socket.on("error", (error) => {
      // A reset after close frames went both ways is not worth reporting.
      if (!(this.#received && this.#sent)) this.#error ??= error;
      this.#lose(error.message, "client");
    });
    socket.on("close", () => this.#finish());
    // Gone before the session took over (while the caller awaited an auth check, say):
    // its close event may be past, so finish after this turn if it does not come.
    if (socket.destroyed) setTimeout(() => this.#finish(), 0);
    if (pingIntervalMs > 0) this.#pingTimer = setInterval(() => this.#ping(), pingIntervalMs);
    const head = options.head;
    // Later, so that messages in `head` find the caller holding the session.
    if (head && head.length > 0) queueMicrotask(() => this.#receive(head));
  }

  /** Where the session is in its life. */
  get state(): WebSocketState {
    return this.#state;
  }

  /** Bytes the socket holds that the client has not been sent yet. */
  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  /**
   * Writes pre-encoded data frames (from `textFrame` or `writeFrameHeader`). False when
   * the caller should wait for {@linkcode WebSocketSession.drained} before sending more,
   * or when the session is no longer open and `frames` were dropped.
   */
  send(frames: Uint8Array): boolean {
    if (this.#state !== "open") return false;
    const writable = this.#socket.write(frames);
    if (!writable) this.#needDrain = true;
    return writable;
  }

  /**
   * Resolves true once the socket has written out what it held (at once if `send` did
   * not return false), or false as soon as the session stops being open.
   */
  drained(): Promise<boolean> {
    if (this.#state !== "open") return Promise.resolve(false);
    if (!this.#needDrain) return Promise.resolve(true);
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * Starts the closing handshake: sends a close frame with `code` and `reason` (cut to
   * 123 bytes), then waits for the client's close frame up to the close timeout. Does
   * nothing unless the session is open.
   *
   * @throws {RangeError} when `code` may not be sent
   */
  close(code: number = CLOSE_CODE.NORMAL, reason = ""): void {
    if (this.#state !== "open") return;
    const frame = closeFrame(code, reason);
    this.#initiator = "server";
    this.#sendClose({ code, reason }, frame);
    this.#closing();
  }

  /** Destroys the socket now, without a closing handshake; for clients that must go at once. */
  terminate(reason = "Terminated by the server"): void {
    this.#lose(reason, "server");
  }

  #receive(chunk: Uint8Array): void {
    for (const event of this.#decoder.push(chunk)) this.#handle(event);
  }

  #handle(event: WebSocketEvent): void {
    switch (event.type) {
      case "text":
      case "binary":
        if (this.#state !== "open") return;
        try {
          this.#onMessage?.(event.data);
        } catch (error) {
          this.#error ??= error;
          this.#fail({ code: CLOSE_CODE.INTERNAL_ERROR, reason: "Internal error" });
        }
        return;
      case "ping":
        if (this.#state === "open") this.#pong(event.data);
        return;
      case "pong":
        clearTimeout(this.#pongTimer);
        this.#pongTimer = undefined;
        return;
      case "close":
        this.#received = event;
        this.#initiator ??= "client";
        // Echo the client's code and reason; an empty close frame gets an empty one.
        this.#endWith(
          event,
          () =>
            event.code === CLOSE_CODE.NO_STATUS
              ? closeFrame()
              : closeFrame(event.code, event.reason),
        );
        return;
      case "error":
        this.#fail(event);
    }
  }

  /** Fails the connection: a close frame if none went out yet, then the end of the socket. */
  #fail(close: Close): void {
    this.#initiator ??= "server";
    this.#endWith(close, () => closeFrame(close.code, close.reason));
  }

  /**
   * Sends a close frame unless one went out already, then ends the socket: the server
   * closes the TCP connection first (RFC 6455 section 7.1.1).
   */
  #endWith(close: Close, frame: () => Uint8Array): void {
    if (this.#lostReason !== undefined) return;
    if (!this.#sent) this.#sendClose(close, frame());
    this.#closing();
    this.#socket.end();
  }

  #sendClose(close: Close, frame: Uint8Array): void {
    this.#sent = close;
    this.#socket.write(frame);
  }

  /** Leaves the open state: nothing more is sent, waiters are released, a deadline starts. */
  #closing(): void {
    if (this.#state !== "open") return;
    this.#state = "closing";
    this.#stopPinging();
    this.#drain(false);
    this.#closeTimer = setTimeout(
      () =>
        this.#lose(`Closing handshake not finished within ${this.#closeTimeoutMs} ms`, "server"),
      this.#closeTimeoutMs,
    );
  }

  /** The connection ends without (the rest of) the closing handshake. */
  #lose(reason: string, initiator: "client" | "server"): void {
    if (this.#lostReason !== undefined || this.#state === "closed") return;
    this.#lostReason = reason;
    this.#initiator ??= initiator;
    this.#closing();
    this.#socket.destroy();
  }

  /** Answers a ping, or keeps only the latest one while an earlier pong is still queued. */
  #pong(payload: Uint8Array): void {
    if (this.#pongInFlight) {
      this.#pendingPong = payload;
      return;
    }
    this.#pongInFlight = true;
    this.#socket.write(pongFrame(payload), () => {
      this.#pongInFlight = false;
      const next = this.#pendingPong;
      this.#pendingPong = undefined;
      if (next && this.#state === "open") this.#pong(next);
    });
  }

  #ping(): void {
    if (this.#pongTimer !== undefined) return;
    this.#socket.write(pingFrame());
    this.#pongTimer = setTimeout(
      () => this.#lose(`No pong within ${this.#pongTimeoutMs} ms`, "server"),
      this.#pongTimeoutMs,
    );
  }

  #stopPinging(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    this.#pingTimer = undefined;
    this.#pongTimer = undefined;
  }

  #drain(writable: boolean): void {
    if (writable) this.#needDrain = false;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve(writable);
  }

  #finish(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#stopPinging();
    this.#drain(false);
    clearTimeout(this.#closeTimer);
    const info = this.#info();
    this.#resolveClosed(info);
    this.#onClose?.(info);
  }

  #info(): WebSocketCloseInfo {
    const close = this.#received ?? this.#sent;
    return {
      code: close?.code ?? CLOSE_CODE.ABNORMAL,
      reason: close?.reason ?? this.#lostReason ?? "Connection closed without a close frame",
      wasClean: this.#received !== undefined && this.#sent !== undefined,
      initiator: this.#initiator ?? "client",
      ...(this.#error !== undefined && { error: this.#error }),
    };
  }
}

function duration(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`Invalid ${name} ${JSON.stringify(ms)}: expected milliseconds`);
  }
  return ms;
}
