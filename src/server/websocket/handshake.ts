/**
 * The server side of the WebSocket opening handshake (RFC 6455 section 4.2), for requests
 * taken from `node:http`'s `upgrade` (or `request`) event.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The fields of a request the handshake is judged on; `node:http`'s `IncomingMessage` fits. */
export interface UpgradeRequest {
  /** `GET` for a handshake. */
  readonly method?: string | undefined;
  /** `"1.1"` for HTTP/1.1. */
  readonly httpVersion: string;
  /** Header names in lower case; repeated headers joined with `", "` (as `node:http` does). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A valid handshake: what {@linkcode upgradeResponse} needs. */
export interface HandshakeAccepted {
  /** Accepted. */
  readonly ok: true;
  /** The client's `Sec-WebSocket-Key`. */
  readonly key: string;
  /** The subprotocols the client offers (`Sec-WebSocket-Protocol`), in its order; often none. */
  readonly protocols: readonly string[];
}

/** A refused handshake: the HTTP answer to give instead of `101`. */
export interface HandshakeRejected {
  /** Refused. */
  readonly ok: false;
  /** `400` for a malformed handshake, `405` for a method other than GET, `426` when it is no WebSocket handshake or the version is not 13. */
  readonly status: 400 | 405 | 426;
  /** What is wrong, for the response body and the logs. */
  readonly reason: string;
  /** Headers the answer must carry: `Upgrade`, `Connection` and `Sec-WebSocket-Version` with `426`, `Allow` with `405`. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The verdict on an upgrade request. */
export type HandshakeResult = HandshakeAccepted | HandshakeRejected;

/** The only WebSocket protocol version there is (RFC 6455). */
export const WEBSOCKET_VERSION = "13";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** 16 bytes in base64: 22 characters (the last holds 2 bits of the 16th byte), then padding. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;
/** An HTTP token (RFC 9110 section 5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const encoder = new TextEncoder();
/** A `426` names the protocol to upgrade to, and `Upgrade` is a connection option (RFC 9110). */
const UPGRADE = {
  "Upgrade": "websocket",
  "Connection": "Upgrade",
  "Sec-WebSocket-Version": WEBSOCKET_VERSION,
} as const;

/**
 * Checks that `request` is a WebSocket opening handshake this server accepts: GET over
 * HTTP/1.1 or later with `Host`, `Upgrade: websocket`, `Connection: upgrade` (token lists,
 * any case), `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key` of 16 bytes in base64.
 * `Sec-WebSocket-Extensions` is ignored: no extension is ever negotiated.
 */
export function checkHandshake(request: UpgradeRequest): HandshakeResult {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  if (!hasToken(header("upgrade"), "websocket")) {
    return reject(426, 'Not a WebSocket handshake: expected "Upgrade: websocket"', UPGRADE);
  }
  if (request.method !== "GET") {
    return reject(405, `Method ${quote(request.method ?? "")} is not allowed: expected GET`, {
      "Allow": "GET",
    });
  }
  if (!isHttp11OrLater(request.httpVersion)) {
    return reject(400, `HTTP version ${quote(request.httpVersion)} cannot upgrade: expected 1.1`);
  }
  if (!header("host")) return reject(400, "Missing Host header");
  if (!hasToken(header("connection"), "upgrade")) {
    return reject(400, 'Missing "Connection: upgrade"');
  }
  const version = header("sec-websocket-version")?.trim();
  if (version !== WEBSOCKET_VERSION) {
    return reject(
      426,
      version === undefined
        ? "Missing Sec-WebSocket-Version: expected 13"
        : `Unsupported WebSocket version ${quote(version)}: expected 13`,
      UPGRADE,
    );
  }
  const key = header("sec-websocket-key")?.trim();
  if (key === undefined) return reject(400, "Missing Sec-WebSocket-Key");
  if (!KEY.test(key)) {
    return reject(400, `Invalid Sec-WebSocket-Key ${quote(key)}: expected 16 bytes in base64`);
  }
  return { ok: true, key, protocols: tokens(header("sec-websocket-protocol")) };
}

/** `Sec-WebSocket-Accept` for `key`: base64 of SHA-1 of the key and the RFC's GUID. */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** What {@linkcode upgradeResponse} may add. */
export interface UpgradeResponseOptions {
  /** The subprotocol chosen; it must be one the client offered. None by default. */
  readonly protocol?: string | undefined;
}

/**
 * The complete `101 Switching Protocols` response for a handshake with `key`, to write to
 * the raw socket. It names no extension (no permessage-deflate) and a subprotocol only
 * when `options.protocol` is given.
 *
 * @throws {TypeError} when `options.protocol` is not an HTTP token
 */
export function upgradeResponse(key: string, options: UpgradeResponseOptions = {}): Uint8Array {
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${acceptKey(key)}`,
  ];
  if (options.protocol !== undefined) {
    if (!TOKEN.test(options.protocol)) {
      throw new TypeError(`Invalid subprotocol ${JSON.stringify(options.protocol)}`);
    }
    lines.push(`Sec-WebSocket-Protocol: ${options.protocol}`);
  }
  return encoder.encode(`${lines.join("\r\n")}\r\n\r\n`);
}

const STATUS_TEXT = {
  400: "Bad Request",
  405: "Method Not Allowed",
  426: "Upgrade Required",
} as const;

/**
 * The complete HTTP response refusing a handshake, to write to the raw socket before
 * ending it: the status, the rejection's headers with `close` added to `Connection`, and
 * a JSON body `{"error": reason}`.
 */
export function rejectionResponse(rejection: HandshakeRejected): Uint8Array {
  const body = JSON.stringify({ error: rejection.reason });
  const { Connection: connection, ...headers } = rejection.headers;
  const head = [
    `HTTP/1.1 ${rejection.status} ${STATUS_TEXT[rejection.status]}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    `Connection: ${connection === undefined ? "close" : `${connection}, close`}`,
    "Content-Type: application/json",
    "Cache-Control: no-cache",
    `Content-Length: ${encoder.encode(body).length}`,
  ];
  return encoder.encode(`${head.join("\r\n")}\r\n\r\n${body}`);
}

function reject(
  status: HandshakeRejected["status"],
  reason: string,
  headers: Record<string, string> = {},
): HandshakeRejected {
  return { ok: false, status, reason, headers };
}

/** The comma-separated elements of a header value, trimmed, empty ones left out. */
function tokens(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(",").map((token) => token.trim()).filter((token) => token !== "");
}

function hasToken(value: string | undefined, token: string): boolean {
  return tokens(value).some((element) => element.toLowerCase() === token);
}

function isHttp11OrLater(version: string): boolean {
  const match = /^(\d+)\.(\d+)$/.exec(version);
  if (!match) return false;
  const major = Number(match[1]);
  return major > 1 || (major === 1 && Number(match[2]) >= 1);
}

/** A client-supplied value for a message: quoted, and cut so a huge header stays short. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
