/**
 * A {@linkcode Connection} as the socket a {@linkcode WebSocketSession} speaks on, so that
 * WebSocket runs on LogWisp's own HTTP server (and its TLS) after a `101` takeover.
 *
 * @module
 */
import { type Connection, writeAll } from "../connection.ts";
import type { WebSocketSocket } from "./session.ts";

/**
 * Bytes queued in the socket at which `write` asks the caller to wait for `drain`. What a
 * client that does not read costs is this plus one batch from its bounded queue.
 */
export const SOCKET_HIGH_WATER_MARK = 64 * 1024;

type Listener = (argument?: unknown) => void;

/**
 * The node-socket events and methods a session uses, over a {@linkcode Connection}: writes
 * go out in order, one at a time; `end` closes once they are written (the server closes a
 * WebSocket's TCP connection first); `close` is emitted once, after the connection is
 * closed, whoever closed it.
 */
export class ConnectionSocket implements WebSocketSocket {
  readonly #connection: Connection;
  readonly #listeners = new Map<string, Listener[]>();
  #queue: { bytes: Uint8Array; callback: ((error?: Error | null) => void) | undefined }[] = [];
  #queued = 0;
  #writing = false;
  #needDrain = false;
  #ending = false;
  #destroyed = false;
  #closeEmitted = false;
  readonly #reading: Promise<void>;
  #pumping: Promise<void> = Promise.resolve();

  /** Takes over `connection`, to which the `101` response has been written. */
  constructor(connection: Connection) {
    this.#connection = connection;
    // Listeners are registered in the same turn by the session: input waits one turn.
    this.#reading = Promise.resolve().then(() => this.#read());
  }

  /** Resolves once reading and writing have both stopped. */
  get finished(): Promise<void> {
    return Promise.all([this.#reading, this.#pumping]).then(() => {});
  }

  get writableLength(): number {
    return this.#queued;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  on(event: string, listener: (...args: never[]) => void): this {
    const listeners = this.#listeners.get(event) ?? [];
    listeners.push(listener as Listener);
    this.#listeners.set(event, listeners);
    return this;
  }

  write(data: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    if (this.#destroyed || this.#ending) {
      callback?.(new Error("Socket is closed"));
      return false;
    }
    this.#queue.push({ bytes: data, callback });
    this.#queued += data.length;
    if (!this.#writing) this.#pumping = this.#pump();
    const writable = this.#queued < SOCKET_HIGH_WATER_MARK;
    if (!writable) this.#needDrain = true;
    return writable;
  }

  end(): void {
    if (this.#ending || this.#destroyed) return;
    this.#ending = true;
    if (!this.#writing) this.destroy();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#connection.close();
    const dropped = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    for (const { callback } of dropped) callback?.(new Error("Socket is closed"));
    // As node does, `close` comes after the code that destroyed the socket has run.
    queueMicrotask(() => this.#emitClose());
  }

  #emitClose(): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.#emit("close");
  }

  #emit(event: string, argument?: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(argument);
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#destroyed) {
        const item = this.#queue[0]!;
        await writeAll(this.#connection, item.bytes);
        if (this.#destroyed) return;
        this.#queue.shift();
        this.#queued -= item.bytes.length;
        item.callback?.();
      }
    } catch (error) {
      if (!this.#destroyed) {
        this.#emit("error", error instanceof Error ? error : new Error(String(error)));
        this.destroy();
      }
      return;
    } finally {
      this.#writing = false;
    }
    if (this.#destroyed) return;
    if (this.#ending) {
      this.destroy();
      return;
    }
    if (this.#needDrain) {
      this.#needDrain = false;
      this.#emit("drain");
    }
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(16 * 1024);
    try {
      for (;;) {
        const count = await this.#connection.read(buffer);
        if (this.#destroyed) return;
        if (count === null) {
          this.#emit("end");
          return;
        }
        this.#emit("data", buffer.slice(0, count));
      }
    } catch (error) {
      if (!this.#destroyed) {
        this.#emit("error", error instanceof Error ? error : new Error(String(error)));
        this.destroy();
      }
    }
  }
}
