/**
 * TLS sockets for the listeners: `Deno.listenTls` where it can serve, `node:tls` where it
 * cannot. Deno's own TLS cannot request client certificates (denoland/deno#26825) nor set a
 * lowest version, so a listener with `client_ca_file` or `min_version = "1.3"` runs on a
 * `node:tls` server, adapted here to the same {@linkcode Connection} as every other.
 *
 * @module
 */
import type { Socket } from "node:net";
import { createServer, type Server, type TLSSocket } from "node:tls";
import {
  type Connection,
  type ConnectionSource,
  denoSource,
  normalizeAddress,
  type Peer,
} from "../server/connection.ts";
import { nodeTlsOptions, type TlsMaterial } from "./certificates.ts";

/** Binds a TLS listener on `address` serving `material`. Rejects as `Deno.listen` would. */
export async function bindTls(
  material: TlsMaterial,
  address: { readonly hostname: string; readonly port: number },
): Promise<ConnectionSource> {
  if (material.clientCa === undefined && material.minVersion === "1.2") {
    return denoSource(
      Deno.listenTls({ ...address, cert: material.certChain, key: material.key }),
    );
  }
  const server = createServer(nodeTlsOptions(material));
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error & { code?: string }) => reject(denoError(error));
    server.once("error", failed);
    server.listen({ host: address.hostname, port: address.port }, () => {
      server.off("error", failed);
      resolve();
    });
  });
  return new NodeTlsSource(server);
}

/** A bind error as `Deno.listen` throws it, so callers tell "address in use" the same way. */
function denoError(error: Error & { code?: string }): Error {
  switch (error.code) {
    case "EADDRINUSE":
      return new Deno.errors.AddrInUse(error.message);
    case "EACCES":
      return new Deno.errors.PermissionDenied(error.message);
    case "EADDRNOTAVAIL":
      return new Deno.errors.AddrNotAvailable(error.message);
    default:
      return error;
  }
}

/** The raw socket a `node:tls` server wrapped (undocumented, but what the server keeps). */
function parentOf(socket: TLSSocket | undefined): Socket | undefined {
  return (socket as unknown as { _parent?: Socket } | undefined)?._parent;
}

/**
 * Connections of a `node:tls` server, handed out as soon as TCP accepts them (the
 * `connection` event, before the handshake), so access checks and refusals happen before
 * any TLS byte, as on the other listeners.
 */
class NodeTlsSource implements ConnectionSource {
  readonly #server: Server;
  readonly #ready: Connection[] = [];
  readonly #waiting: { resolve: (c: Connection) => void; reject: (e: Error) => void }[] = [];
  readonly #byRaw = new Map<Socket, NodeTlsConnection>();
  #closed = false;

  constructor(server: Server) {
    this.#server = server;
    server.on("connection", (raw: Socket) => {
      const connection = new NodeTlsConnection(raw);
      this.#byRaw.set(raw, connection);
      raw.once("close", () => {
        this.#byRaw.delete(raw);
        connection.failed(new Error("the client closed the connection during the handshake"));
      });
      raw.on("error", () => {/* reported by the handshake or the reader */});
      const waiter = this.#waiting.shift();
      if (waiter) waiter.resolve(connection);
      else this.#ready.push(connection);
    });
    server.on("secureConnection", (socket: TLSSocket) => {
      const connection = this.#byRaw.get(parentOf(socket)!);
      if (connection) connection.secured(socket);
      else socket.destroy();
    });
    server.on("tlsClientError", (error: Error, socket: TLSSocket) => {
      this.#byRaw.get(parentOf(socket)!)?.failed(error);
      socket?.destroy();
    });
    server.on("error", () => {/* accept errors: the listener keeps going */});
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  accept(): Promise<Connection> {
    const next = this.#ready.shift();
    if (next) return Promise.resolve(next);
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("Listener closed"));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(new Deno.errors.BadResource("Listener closed"));
    }
    for (const connection of this.#ready.splice(0)) connection.close();
  }
}

/** Most bytes read ahead of the reader before the socket is paused. */
const READ_AHEAD = 64 * 1024;

/** A `node:tls` server connection as a {@linkcode Connection}. */
class NodeTlsConnection implements Connection {
  readonly #raw: Socket;
  readonly #peer: { address: string; port: number };
  #socket: TLSSocket | undefined;
  #certificate: Peer["certificate"];
  readonly #handshake: Promise<void>;
  #settle!: { resolve: () => void; reject: (error: unknown) => void };
  #settled = false;
  #closed = false;
  #ended = false;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #reader: ((value: void) => void) | undefined;
  readonly #writes = new Set<(error: Error) => void>();

  constructor(raw: Socket) {
    this.#raw = raw;
    this.#peer = {
      address: normalizeAddress(raw.remoteAddress ?? ""),
      port: raw.remotePort ?? 0,
    };
    this.#handshake = new Promise((resolve, reject) => this.#settle = { resolve, reject });
    // Nobody may await it (a refused connection): a failure is not unhandled.
    this.#handshake.catch(() => {});
  }

  get peer(): Peer {
    return this.#certificate ? { ...this.#peer, certificate: this.#certificate } : this.#peer;
  }

  handshake(): Promise<void> {
    return this.#handshake;
  }

  /** The handshake succeeded: `socket` carries the application data. */
  secured(socket: TLSSocket): void {
    if (this.#settled || this.#closed) {
      socket.destroy();
      return;
    }
    this.#settled = true;
    this.#socket = socket;
    const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
    if (peer && Object.keys(peer).length > 0) {
      const subject = (peer.subject ?? {}) as unknown as Record<string, string | string[]>;
      const cn = subject.CN;
      this.#certificate = {
        subject: Object.entries(subject).map(([key, value]) => `${key}=${value}`).join(","),
        commonName: typeof cn === "string" ? cn : undefined,
      };
    }
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered > READ_AHEAD) socket.pause();
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on("end", end);
    socket.on("close", () => {
      end();
      this.#failWrites(new Deno.errors.BrokenPipe("Connection closed"));
    });
    socket.on("error", () => {/* seen as the end of the connection */});
    this.#settle.resolve();
  }

  /** The handshake failed (or the client left before it ended). */
  failed(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#settle.reject(error);
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    await this.#handshake;
    for (;;) {
      const chunk = this.#chunks[0];
      if (chunk) {
        const count = Math.min(chunk.length, buffer.length);
        buffer.set(chunk.subarray(0, count));
        if (count === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(count);
        this.#buffered -= count;
        if (this.#buffered <= READ_AHEAD) this.#socket?.resume();
        return count;
      }
      if (this.#ended || this.#closed) return null;
      await new Promise<void>((resolve) => this.#reader = resolve);
    }
  }

  async write(bytes: Uint8Array): Promise<number> {
    await this.#handshake;
    const socket = this.#socket!;
    if (this.#closed || socket.destroyed) throw new Deno.errors.BrokenPipe("Connection closed");
    return await new Promise<number>((resolve, reject) => {
      const fail = (error: Error) => {
        this.#writes.delete(fail);
        reject(error);
      };
      this.#writes.add(fail);
      socket.write(bytes, (error?: Error | null) => {
        if (!this.#writes.delete(fail)) return;
        if (error) reject(error);
        else resolve(bytes.length);
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.failed(new Error("closed before the handshake"));
    this.#socket?.destroy();
    this.#raw.destroy();
    this.#wake();
    this.#failWrites(new Deno.errors.BrokenPipe("Connection closed"));
  }

  #wake(): void {
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.();
  }

  #failWrites(error: Error): void {
    for (const fail of [...this.#writes]) fail(error);
  }
}
