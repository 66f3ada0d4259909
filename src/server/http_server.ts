import type { ListenerLimits } from "../config/types.ts";
import type { Log } from "../log.ts";
import { type Connection, formatPeer, type Peer, writeAll } from "./connection.ts";
import { Listener, type ListenerOptions, type Refusal, type RefusalReason } from "./listener.ts";
import { headEnd, type HeadError, parseRequestHead, type RequestHead } from "./request_head.ts";
import { ALLOWED_METHODS } from "./responses.ts";

/** Who sent a request, as handlers see it. */
export interface ClientInfo {
  /** Who is at the other end. */
  readonly peer: Peer;
  /** `address:port` for status and logs. */
  readonly remoteAddr: string;
  /** Whether the connection is TLS. */
  readonly secure: boolean;
  /** The authenticated user, token name or certificate subject (see `guardHandler`). */
  readonly identity?: string;
}

/** A stream's or the router's endpoints as a plain function: testable without a socket. */
export type HttpHandler = (request: Request, client: ClientInfo) => Response | Promise<Response>;

/**
 * Takes over a connection after a `101 Switching Protocols` answer (WebSocket). `head` holds
 * the bytes the client sent after its request head, which belong to the new protocol.
 */
export type Takeover = (connection: Connection, head: Uint8Array) => Promise<void>;

const takeovers = new WeakMap<Response, Takeover>();

/**
 * A `101` response whose connection `takeover` serves once the server has written the
 * response head; `headers` are the handshake's (e.g. `Sec-WebSocket-Accept`).
 */
export function upgradeResponse(headers: HeadersInit, takeover: Takeover): Response {
  const response = new Response(null, { status: 101, headers });
  takeovers.set(response, takeover);
  return response;
}

/** How one HTTP connection is served. */
export interface HttpConnectionOptions {
  /** Answers each request. */
  readonly handler: HttpHandler;
  /** Complete request headers must arrive within this, also between requests on a kept-alive connection. */
  readonly headerTimeoutMs: number;
  /** A buffered response must be written within this, or the connection is closed. */
  readonly writeTimeoutMs: number;
  /** Whether the connection is TLS. */
  readonly secure: boolean;
  /** Aborted at shutdown: no further request is read, and idle connections close at once. */
  readonly signal: AbortSignal;
  /** Reports a handler that threw: a bug, answered with 500. */
  readonly onHandlerError: (error: unknown) => void;
}

/** Longest request head accepted: request line and every header. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Longest buffered response body, a guard against a handler building an unbounded one. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

const encoder = new TextEncoder();

/**
 * Serves HTTP/1.0 and HTTP/1.1 requests on `connection` until either side ends it, then
 * closes it. Request heads are bounded in size and time; nothing a client sends makes this
 * throw. Event streams (`text/event-stream`) are sent close-delimited, everything else with
 * `Content-Length`, so kept-alive connections stay in step.
 */
export async function serveHttpConnection(
  connection: Connection,
  options: HttpConnectionOptions,
): Promise<void> {
  const client: ClientInfo = {
    peer: connection.peer,
    remoteAddr: formatPeer(connection.peer),
    secure: options.secure,
  };
  const reader = new HeadReader(connection);
  let busy = false;
  let served = 0;
  const onShutdown = () => {
    if (!busy) connection.close();
  };
  options.signal.addEventListener("abort", onShutdown, { once: true });
  try {
    while (!options.signal.aborted) {
      const read = await reader.next(options.headerTimeoutMs);
      if (read === "closed") return;
      busy = true;
      if (read === "timeout") {
        // An idle kept-alive connection is closed without a word: a client that reuses it
        // just then would read a 408 as the answer to its next request.
        if (served > 0 && reader.empty) return;
        await sendError(connection, { status: 408, message: "Request headers took too long" });
        return;
      }
      if ("error" in read) {
        await sendError(connection, read.error);
        return;
      }
      const { head, rest } = read;
      const request = toRequest(head);
      if (request === undefined) {
        await sendError(connection, { status: 400, message: "Malformed header value" });
        return;
      }
      let response: Response;
      try {
        response = await options.handler(request, client);
      } catch (error) {
        options.onHandlerError(error);
        response = Response.json({ error: "Internal server error" }, { status: 500 });
      }
      const takeover = response.status === 101 ? takeovers.get(response) : undefined;
      if (takeover) {
        const upgrade = response.headers.get("connection") ?? "Upgrade";
        await writeAll(
          connection,
          encoder.encode(responseHead(response, "1.1", [["connection", upgrade]])),
        );
        await takeover(connection, rest);
        return;
      }
      const again = head.keepAlive && !head.hasBody && !options.signal.aborted;
      const kept = await sendResponse(connection, head, response, again, options);
      if (!kept) return;
      reader.keep(rest);
      served++;
      busy = false;
    }
  } catch {
    // The client went away or sent something unreadable (a TLS handshake gone wrong).
  } finally {
    options.signal.removeEventListener("abort", onShutdown);
    connection.close();
  }
}

/** Reads request heads, keeping bytes that follow one for the next. */
class HeadReader {
  readonly #connection: Connection;
  #buffer = new Uint8Array(1024);
  #length = 0;

  constructor(connection: Connection) {
    this.#connection = connection;
  }

  /** Whether no byte of the next request has arrived. */
  get empty(): boolean {
    return this.#length === 0;
  }

  /** Bytes read beyond the last head, to be parsed as the start of the next one. */
  keep(rest: Uint8Array): void {
    this.#buffer = rest.length > this.#buffer.length ? rest.slice() : this.#buffer;
    this.#buffer.set(rest);
    this.#length = rest.length;
  }

  /** The next request head, or why there is none. */
  async next(
    timeoutMs: number,
  ): Promise<
    { head: RequestHead; rest: Uint8Array } | { error: HeadError } | "timeout" | "closed"
  > {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"timeout">((resolve) =>
      timer = setTimeout(() => resolve("timeout"), timeoutMs)
    );
    try {
      let searched = 0;
      for (;;) {
        const end = headEnd(this.#buffer.subarray(0, this.#length), searched);
        if (end >= 0) {
          const parsed = parseRequestHead(this.#buffer.subarray(0, end));
          if ("error" in parsed) return parsed;
          return { head: parsed.head, rest: this.#buffer.slice(end, this.#length) };
        }
        searched = this.#length;
        if (this.#length >= MAX_HEAD_BYTES) {
          return { error: { status: 431, message: "Request headers are too large" } };
        }
        if (this.#length === this.#buffer.length) {
          const grown = new Uint8Array(Math.min(this.#buffer.length * 4, MAX_HEAD_BYTES));
          grown.set(this.#buffer);
          this.#buffer = grown;
        }
        const count = await Promise.race([
          this.#connection.read(this.#buffer.subarray(this.#length)),
          late,
        ]);
        if (count === "timeout") return "timeout";
        if (count === null) return "closed";
        this.#length += count;
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The `Request` a handler sees: its URL holds the path only; the Host header does not route. */
function toRequest(head: RequestHead): Request | undefined {
  try {
    const headers = new Headers();
    for (const [name, value] of head.headers) headers.append(name, value);
    return new Request(`http://localhost${head.target === "*" ? "/" : head.target}`, {
      method: head.method,
      headers,
    });
  } catch {
    return undefined;
  }
}

/**
 * Writes `response` as the answer to `head`. Resolves whether the connection may serve
 * another request.
 */
async function sendResponse(
  connection: Connection,
  head: RequestHead,
  response: Response,
  keepAlive: boolean,
  options: HttpConnectionOptions,
): Promise<boolean> {
  const streaming = response.body !== null &&
    (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
  if (streaming && head.method !== "HEAD") {
    await streamBody(connection, head, response);
    return false;
  }
  let body: Uint8Array | undefined;
  if (response.body !== null && head.method !== "HEAD") {
    body = await readBody(response);
    if (body === undefined) {
      options.onHandlerError(new Error(`Response body over ${MAX_BODY_BYTES} bytes`));
      return false;
    }
  }
  const extra: [string, string][] = [];
  if (body !== undefined || (head.method !== "HEAD" && !noBody(response.status))) {
    extra.push(["content-length", String(body?.length ?? 0)]);
  }
  if (!keepAlive) extra.push(["connection", "close"]);
  else if (head.version === "1.0") extra.push(["connection", "keep-alive"]);
  const headBytes = encoder.encode(responseHead(response, head.version, extra));
  const bytes = body === undefined ? headBytes : concat(headBytes, body);
  const written = await deadline(writeAll(connection, bytes), options.writeTimeoutMs);
  return written && keepAlive;
}

/**
 * Sends an event stream until it ends or the client leaves: the body's end is the
 * connection's end. What the client sends meanwhile is read and dropped, so that its
 * leaving is noticed even while nothing is written.
 */
async function streamBody(connection: Connection, head: RequestHead, response: Response) {
  const reader = response.body!.getReader();
  const gone = discardInput(connection).then(() => reader.cancel().catch(() => {}));
  // A body errored by its producer (a slow client cut by the hub) ends the connection now:
  // the loop may be stuck in a write to a client that does not read, which only this ends.
  reader.closed.catch(() => connection.close());
  try {
    await writeAll(
      connection,
      encoder.encode(responseHead(response, head.version, [["connection", "close"]])),
    );
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      await writeAll(connection, value);
    }
  } catch {
    // The client left, or the stream was cut (a slow client): either way it is over.
  } finally {
    await reader.cancel().catch(() => {});
    connection.close();
    await gone;
  }
}

async function discardInput(connection: Connection): Promise<void> {
  const scratch = new Uint8Array(4096);
  try {
    while ((await connection.read(scratch)) !== null) { /* dropped */ }
  } catch {
    // Closed by us or reset by the client: it is gone either way.
  }
}

async function readBody(response: Response): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of response.body!) {
    length += chunk.length;
    if (length > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : concat(...chunks);
}

/** Answers a request that cannot be served, and ends the connection. */
async function sendError(
  connection: Connection,
  error: HeadError | { status: 408; message: string },
) {
  const body = encoder.encode(JSON.stringify({ error: error.message }));
  const allow = error.status === 405 ? `allow: ${ALLOWED_METHODS.join(", ")}\r\n` : "";
  const head = `HTTP/1.1 ${error.status} ${REASONS[error.status] ?? ""}\r\n${allow}` +
    `content-type: application/json\r\ncontent-length: ${body.length}\r\n` +
    `connection: close\r\ndate: ${httpDate()}\r\n\r\n`;
  await deadline(writeAll(connection, concat(encoder.encode(head), body)), 1000).catch(() => {});
}

function noBody(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200);
}

/** The status line and header section of `response`, plus `extra` fields. */
function responseHead(
  response: Response,
  version: "1.0" | "1.1",
  extra: readonly (readonly [string, string])[],
): string {
  let text = `HTTP/${version} ${response.status} ${REASONS[response.status] ?? "Unknown"}\r\n`;
  for (const [name, value] of response.headers) {
    if (name === "content-length" || name === "connection" || name === "transfer-encoding") {
      continue;
    }
    text += `${name}: ${value}\r\n`;
  }
  for (const [name, value] of extra) text += `${name}: ${value}\r\n`;
  return `${text}date: ${httpDate()}\r\n\r\n`;
}

let dateSecond = 0;
let dateText = "";

/** The current time in HTTP's date format, computed once a second. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** True when `promise` settles within `ms`; false when it did not (or failed). */
async function deadline(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

const REASONS: Readonly<Record<number, string>> = {
  101: "Switching Protocols",
  200: "OK",
  204: "No Content",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** Where and what to serve over HTTP. */
export interface HttpServerOptions {
  /** Who serves, for messages, e.g. `stream "app" http` or `router`. */
  readonly label: string;
  /** Bind address. */
  readonly host: string;
  /** Port; 0 picks a free one. */
  readonly port: number;
  /** Connection limits. */
  readonly limits: ListenerLimits;
  /** Answers each request. */
  readonly handler: HttpHandler;
  /** A buffered response must be written within this, or the connection is closed. */
  readonly writeTimeoutMs: number;
  /** Access and rate checks, before any byte is read. */
  readonly admit?: ListenerOptions["admit"];
  /** A TLS socket (HTTPS); plain TCP on `host:port` by default. */
  readonly source?: ListenerOptions["source"];
  /** Counts and reports a failed TLS handshake. */
  readonly onTlsError?: ListenerOptions["onTlsError"];
  /** Where problems are reported. */
  readonly log: Log;
  /** The process-wide shutdown signal. */
  readonly shutdown: AbortSignal;
  /** How long open responses may take to finish after shutdown before they are cut. */
  readonly drainMs: number;
}

/**
 * Serves `handler` over HTTP/1.1 on a {@linkcode Listener}: connection limits, a deadline
 * for request headers, and refusals answered with `503`, `403` or `429` (with
 * `Retry-After`). Throws at once when the port cannot be bound.
 */
export function serveHttp(options: HttpServerOptions): Listener {
  const { log, label } = options;
  let lastError = "";
  const connection: HttpConnectionOptions = {
    handler: options.handler,
    headerTimeoutMs: options.limits.headerTimeoutSeconds * 1000,
    writeTimeoutMs: options.writeTimeoutMs,
    secure: options.source !== undefined,
    signal: options.shutdown,
    onHandlerError(error) {
      // A bug, not a client's doing: said once per distinct message.
      const message = error instanceof Error ? error.message : String(error);
      if (message === lastError) return;
      lastError = message;
      log("error", `${label}: request failed: ${message}`);
    },
  };
  return new Listener({
    label,
    host: options.host,
    port: options.port,
    limits: options.limits,
    ...(options.admit && { admit: options.admit }),
    ...(options.source && { source: options.source }),
    ...(options.onTlsError && { onTlsError: options.onTlsError }),
    serve: (conn) => serveHttpConnection(conn, connection),
    refuse: refuseHttp,
    log,
    shutdown: options.shutdown,
    drainMs: options.drainMs,
  });
}

const REFUSALS: Readonly<Record<RefusalReason, { status: number; error: string }>> = {
  max_connections: { status: 503, error: "Too many connections: try again later" },
  max_connections_per_ip: {
    status: 503,
    error: "Too many connections from your address: try again later",
  },
  denied: { status: 403, error: "Your address may not connect to this server" },
  rate_limited: { status: 429, error: "Too many connections from your address: slow down" },
  tls_error: { status: 400, error: "TLS handshake failed" },
  auth_failure: { status: 401, error: "Unauthorized" },
};

/** How long a refused client has to take its answer before the connection is closed. */
const REFUSAL_LINGER_MS = 200;

/**
 * Answers a refused connection without reading its request: the status, and `Retry-After`
 * when waiting helps. The request is then read and dropped for a moment, so that closing
 * does not reset the connection before the client has read the answer.
 */
async function refuseHttp(connection: Connection, refusal: Refusal): Promise<void> {
  const { status, error } = REFUSALS[refusal.reason];
  const body = encoder.encode(JSON.stringify({ error, reason: refusal.reason }));
  const retry = refusal.retryAfterSeconds === undefined
    ? ""
    : `retry-after: ${refusal.retryAfterSeconds}\r\n`;
  const head = `HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: application/json\r\n` +
    `content-length: ${body.length}\r\n${retry}connection: close\r\n\r\n`;
  if (await deadline(writeAll(connection, concat(encoder.encode(head), body)), 1000)) {
    const scratch = new Uint8Array(4096);
    const drain = (async () => {
      while ((await connection.read(scratch)) !== null) { /* dropped */ }
    })();
    await deadline(drain, REFUSAL_LINGER_MS);
  }
  connection.close();
}
