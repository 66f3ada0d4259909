/**
 * Helpers for the WebSocket tests: client frames built by hand (including broken ones),
 * a reference parser for server frames, and a `node:http` server handing upgrades to
 * {@linkcode WebSocketSession}.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { textFrame } from "./frame.ts";
import { checkHandshake, rejectionResponse, upgradeResponse } from "./handshake.ts";
import {
  type WebSocketCloseInfo,
  WebSocketSession,
  type WebSocketSessionOptions,
} from "./session.ts";

/** How {@linkcode clientFrame} builds a frame; the defaults make a valid final masked frame. */
export interface ClientFrameOptions {
  /** False: more fragments follow. */
  readonly fin?: boolean;
  /** The three reserved bits, as the value of bits 6–4 of the first byte (0–7). */
  readonly rsv?: number;
  /** False leaves the frame unmasked, which a server must refuse. */
  readonly masked?: boolean;
  /** The masking key. */
  readonly mask?: readonly [number, number, number, number];
  /** Claim this length instead of the payload's (the payload is still appended). */
  readonly length?: bigint;
  /** The length field to use, when not the shortest. */
  readonly lengthBits?: 7 | 16 | 64;
}

/** A client-to-server frame with `opcode` and `payload`. */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(0),
  options: ClientFrameOptions = {},
): Uint8Array {
  const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const length = options.length ?? BigInt(data.length);
  const masked = options.masked ?? true;
  const mask = options.mask ?? [0x37, 0xfa, 0x21, 0x3d];
  const header: number[] = [(options.fin ?? true ? 0x80 : 0) | (options.rsv ?? 0) << 4 | opcode];
  const maskBit = masked ? 0x80 : 0;
  const bits = options.lengthBits ?? (length < 126n ? 7 : length < 0x10000n ? 16 : 64);
  if (bits === 7) {
    header.push(maskBit | Number(length));
  } else if (bits === 16) {
    header.push(maskBit | 126, Number(length >> 8n), Number(length & 0xffn));
  } else {
    header.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) header.push(Number(length >> shift & 0xffn));
  }
  if (masked) header.push(...mask);
  const bytes = new Uint8Array(header.length + data.length);
  bytes.set(header);
  for (let i = 0; i < data.length; i++) {
    bytes[header.length + i] = masked ? data[i]! ^ mask[i & 3]! : data[i]!;
  }
  return bytes;
}

/** A server frame as a client reads it. */
export interface ServerFrame {
  /** The final fragment: always, from this server. */
  readonly fin: boolean;
  /** The reserved bits: always 0, from this server. */
  readonly rsv: number;
  /** The frame's opcode. */
  readonly opcode: number;
  /** Never, from a server. */
  readonly masked: boolean;
  /** The frame's payload, a view of the bytes parsed. */
  readonly payload: Uint8Array;
}

/** Reads every frame of `bytes`, a whole number of unfragmented server frames. */
export function parseServerFrames(bytes: Uint8Array): ServerFrame[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: ServerFrame[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const first = bytes[offset]!;
    const second = bytes[offset + 1]!;
    let length = second & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      length = view.getUint16(start);
      start += 2;
    } else if (length === 127) {
      length = Number(view.getBigUint64(start));
      start += 8;
    }
    if (start + length > bytes.length) throw new Error(`Frame at ${offset} is cut short`);
    frames.push({
      fin: (first & 0x80) !== 0,
      rsv: first >> 4 & 0x07,
      opcode: first & 0x0f,
      masked: (second & 0x80) !== 0,
      payload: bytes.subarray(start, start + length),
    });
    offset = start + length;
  }
  return frames;
}

/** A session the test server accepted, with what it saw. */
export interface ServedSession {
  /** The session under test. */
  readonly session: WebSocketSession;
  /** Its raw socket, to watch what the client sends. */
  readonly socket: Socket;
  /** Every message the session received. */
  readonly messages: (string | Uint8Array)[];
  /** Every `onClose` call, to check there is exactly one. */
  readonly closeCalls: WebSocketCloseInfo[];
}

/** What the test server does with each session. */
export interface TestServerOptions {
  /** Options for every session; `head`, `onMessage` and `onClose` are the server's. */
  readonly session?: WebSocketSessionOptions;
  /** Called with each message; by default text is echoed back. */
  readonly onMessage?: (served: ServedSession, data: string | Uint8Array) => void;
  /** PEM certificate and key: serve `wss://` with `node:https`. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
}

/** A `node:http` server on 127.0.0.1 that serves WebSocket sessions on every path. */
export interface TestServer extends AsyncDisposable {
  /** The port bound. */
  readonly port: number;
  /** `ws://` or `wss://` URL of the server. */
  readonly url: string;
  /** Every session accepted, in order. */
  readonly sessions: ServedSession[];
}

const encoder = new TextEncoder();

/** Starts a {@linkcode TestServer} on port 0; disposing it terminates what is left and stops it. */
export async function startServer(options: TestServerOptions = {}): Promise<TestServer> {
  const sessions: ServedSession[] = [];
  const sockets = new Set<Socket>();
  const answer = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const result = checkHandshake(request);
    response.writeHead(result.ok ? 400 : result.status, result.ok ? {} : result.headers);
    response.end(result.ok ? "" : JSON.stringify({ error: result.reason }));
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, answer)
    : http.createServer(answer);
  server.on(options.tls ? "secureConnection" : "connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Uint8Array) => {
    const result = checkHandshake(request);
    if (!result.ok) {
      socket.end(rejectionResponse(result));
      return;
    }
    socket.setNoDelay(true);
    socket.write(upgradeResponse(result.key));
    const messages: (string | Uint8Array)[] = [];
    const closeCalls: WebSocketCloseInfo[] = [];
    const served: ServedSession = {
      session: new WebSocketSession(socket, {
        ...options.session,
        head,
        onMessage: (data) => {
          messages.push(data);
          if (options.onMessage) options.onMessage(served, data);
          else if (typeof data === "string") served.session.send(textFrame(encoder.encode(data)));
        },
        onClose: (info) => closeCalls.push(info),
      }),
      socket,
      messages,
      closeCalls,
    };
    sessions.push(served);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${options.tls ? "wss" : "ws"}://127.0.0.1:${port}/ws`,
    sessions,
    async [Symbol.asyncDispose]() {
      for (const { session } of sessions) session.terminate();
      for (const socket of sockets) socket.destroy();
      await Promise.all(sessions.map(({ session }) => session.closed));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A WebSocket client on a plain TCP connection, for what no well-behaved client sends. */
export class RawClient implements Disposable {
  readonly #conn: Deno.Conn;
  /** Bytes after the `101` response not yet read by {@linkcode RawClient.readToEnd}. */
  #pending: Uint8Array;
  #closed = false;

  private constructor(conn: Deno.Conn, pending: Uint8Array) {
    this.#conn = conn;
    this.#pending = pending;
  }

  /**
   * Connects (over TLS when given the server's certificate), sends the handshake (and
   * `extra` in the same write), reads the `101`.
   */
  static async connect(
    port: number,
    options: { readonly extra?: Uint8Array; readonly cert?: string | undefined } = {},
  ): Promise<RawClient> {
    const extra = options.extra ?? new Uint8Array(0);
    const conn = options.cert === undefined
      ? await Deno.connect({ hostname: "127.0.0.1", port })
      : await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [options.cert] });
    const request = encoder.encode(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    const first = new Uint8Array(request.length + extra.length);
    first.set(request);
    first.set(extra, request.length);
    await conn.write(first);
    let received: Uint8Array = new Uint8Array(0);
    const buffer = new Uint8Array(4096);
    for (;;) {
      const read = await conn.read(buffer);
      if (read === null) throw new Error("Connection closed during the handshake");
      received = join(received, buffer.subarray(0, read));
      const end = new TextDecoder().decode(received).indexOf("\r\n\r\n");
      if (end < 0) continue;
      const head = new TextDecoder().decode(received.subarray(0, end));
      if (!head.startsWith("HTTP/1.1 101 ")) throw new Error(`Handshake refused: ${head}`);
      return new RawClient(conn, received.subarray(end + 4));
    }
  }

  /** Writes `bytes` completely. */
  async write(bytes: Uint8Array): Promise<void> {
    for (let written = 0; written < bytes.length;) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }

  /** Everything the server sends until it closes the connection. */
  async readToEnd(): Promise<Uint8Array> {
    let received = this.#pending;
    this.#pending = new Uint8Array(0);
    const buffer = new Uint8Array(64 * 1024);
    for (let read; (read = await this.#conn.read(buffer)) !== null;) {
      received = join(received, buffer.subarray(0, read));
    }
    return received;
  }

  /** Closes the connection (once). */
  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const result = new Uint8Array(a.length + b.length);
  result.set(a);
  result.set(b, a.length);
  return result;
}

/** A self-signed certificate for 127.0.0.1 made with `openssl`, and its key, in `dir`. */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const keyFile = `${dir}/key.pem`;
  const certFile = `${dir}/cert.pem`;
  const openssl = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      // rustls refuses a certificate marked as a CA as the server's own.
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!openssl.success) {
    throw new Error(`Cannot make a certificate: ${new TextDecoder().decode(openssl.stderr)}`);
  }
  return { cert: await Deno.readTextFile(certFile), key: await Deno.readTextFile(keyFile) };
}
