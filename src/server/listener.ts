import { aborted, settledWithin } from "../async.ts";
import type { ListenerLimits } from "../config/types.ts";
import type { Log } from "../log.ts";
import { type Connection, type ConnectionSource, denoSource, type Peer } from "./connection.ts";

/** Why a connection was refused before it was served; status and metrics count each. */
export type RefusalReason =
  | "max_connections"
  | "max_connections_per_ip"
  | "denied"
  | "rate_limited"
  | "tls_error"
  | "auth_failure";

/** A refused connection, and when the client may try again. */
export interface Refusal {
  /** Why it was refused. */
  readonly reason: RefusalReason;
  /** When the client may try again, for an HTTP `Retry-After`. */
  readonly retryAfterSeconds?: number;
}

/** What accepts connections for one server: where, how many, and what to do with each. */
export interface ListenerOptions {
  /** Who listens, for messages, e.g. `stream "app" http`. */
  readonly label: string;
  /** Bind address. */
  readonly host: string;
  /** Port; 0 picks a free one. */
  readonly port: number;
  /** Connection limits. */
  readonly limits: ListenerLimits;
  /** Decides, from the address alone and before any byte is read, whether a peer may connect. */
  readonly admit?: (peer: Peer) => Refusal | undefined;
  /** Serves an admitted connection; the listener closes it when this settles. */
  readonly serve: (connection: Connection) => Promise<void>;
  /** Tells a refused client why (HTTP: a status), or nothing (TCP: closed before any byte). */
  readonly refuse: (connection: Connection, refusal: Refusal) => Promise<void>;
  /** The bound socket: plain TCP on `host:port` by default; TLS listeners pass their own. */
  readonly source?: ConnectionSource;
  /** A TLS handshake failed or took longer than `limits.headerTimeoutSeconds` (counted). */
  readonly onTlsError?: (peer: Peer, error: unknown) => void;
  /** Where problems are reported. */
  readonly log: Log;
  /** The process-wide shutdown: stop accepting, let connections drain, then cut them. */
  readonly shutdown: AbortSignal;
  /** How long connections may take to finish after shutdown before they are cut. */
  readonly drainMs: number;
}

/** How long accepting waits after running out of descriptors, at first and at most. */
const BACKOFF_MS = { first: 50, max: 1000 };

/**
 * Accepts connections with `Deno.listen` (which, unlike `Deno.serve` and `node:net`, keeps
 * accepting after the process runs out of file descriptors) and admits them within bounds:
 * at most `max_connections` open, `max_connections_per_ip` from one address, and whatever
 * `admit` says. Running out of descriptors is logged once per burst and accepting resumes
 * when some are free again. Throws at once when the address cannot be bound.
 */
export class Listener {
  readonly #options: ListenerOptions;
  readonly #listener: ConnectionSource;
  readonly #open = new Set<Connection>();
  readonly #perAddress = new Map<string, number>();
  readonly #serving = new Set<Promise<void>>();
  readonly #refused = new Map<RefusalReason, number>();
  #accepted = 0;
  #exhaustedSince: number | undefined;
  /** Resolves once the listener and its connections are closed after shutdown. */
  readonly finished: Promise<void>;

  /** Binds at once; throws when the port cannot be bound. */
  constructor(options: ListenerOptions) {
    this.#options = options;
    this.#listener = options.source ??
      denoSource(Deno.listen({ hostname: options.host, port: options.port, transport: "tcp" }));
    const accepting = this.#accept();
    this.finished = this.#finish(accepting);
  }

  /** The bound port (the real one when 0 was asked for). */
  get port(): number {
    return this.#listener.port;
  }

  /** Connections being served now. */
  get connections(): number {
    return this.#open.size;
  }

  /** Connections admitted since start. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Connections refused since start, by reason. */
  get refused(): ReadonlyMap<RefusalReason, number> {
    return this.#refused;
  }

  /** Counts a refusal decided after admission (an authentication or TLS failure). */
  countRefusal(reason: RefusalReason): void {
    this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
  }

  async #accept(): Promise<void> {
    let backoff = 0;
    for (;;) {
      let conn: Connection;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource || this.#options.shutdown.aborted) return;
        backoff = Math.min(Math.max(backoff * 2, BACKOFF_MS.first), BACKOFF_MS.max);
        this.#acceptFailed(error);
        await new Promise((resolve) => setTimeout(resolve, backoff));
        continue;
      }
      backoff = 0;
      this.#recovered();
      this.#admit(conn);
    }
  }

  /** Out of descriptors (or another accept failure): said once per burst, never fatal. */
  #acceptFailed(error: unknown): void {
    if (this.#exhaustedSince !== undefined) return;
    this.#exhaustedSince = Date.now();
    const message = error instanceof Error ? error.message : String(error);
    const reason = /os error 2[34]\b/.test(message)
      ? "out of file descriptors (raise LimitNOFILE or ulimit -n, or lower max_connections)"
      : message;
    this.#options.log(
      "warn",
      `${this.#options.label}: cannot accept connections: ${reason}; ` +
        `${this.#open.size} open; retrying`,
    );
  }

  #recovered(): void {
    if (this.#exhaustedSince === undefined) return;
    const seconds = ((Date.now() - this.#exhaustedSince) / 1000).toFixed(1);
    this.#exhaustedSince = undefined;
    this.#options.log(
      "info",
      `${this.#options.label}: accepting connections again after ${seconds} s`,
    );
  }

  #admit(connection: Connection): void {
    const { limits } = this.#options;
    const address = connection.peer.address;
    const fromAddress = this.#perAddress.get(address) ?? 0;
    const refusal: Refusal | undefined = this.#options.shutdown.aborted
      ? { reason: "max_connections", retryAfterSeconds: 5 }
      : this.#open.size >= limits.maxConnections
      ? { reason: "max_connections", retryAfterSeconds: 5 }
      : fromAddress >= limits.maxConnectionsPerIp
      ? { reason: "max_connections_per_ip", retryAfterSeconds: 5 }
      : this.#options.admit?.(connection.peer);
    if (refusal) {
      this.countRefusal(refusal.reason);
      this.#track(this.#options.refuse(connection, refusal), connection);
      return;
    }
    this.#accepted++;
    this.#open.add(connection);
    this.#perAddress.set(address, fromAddress + 1);
    const served = this.#handshake(connection).then((ok) =>
      ok ? this.#options.serve(connection) : undefined
    ).finally(() => {
      this.#open.delete(connection);
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(address, left);
      else this.#perAddress.delete(address);
    });
    this.#track(served, connection);
  }

  /** Completes a TLS handshake within the header timeout; a failure is counted and reported. */
  async #handshake(connection: Connection): Promise<boolean> {
    if (!connection.handshake) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ms = this.#options.limits.headerTimeoutSeconds * 1000;
    const late = new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error(`no handshake within ${ms / 1000} s`)), ms)
    );
    try {
      await Promise.race([connection.handshake(), late]);
      return true;
    } catch (error) {
      if (this.#options.shutdown.aborted) return false;
      this.countRefusal("tls_error");
      this.#options.onTlsError?.(connection.peer, error);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Keeps `work` until it settles, then closes `connection`, whatever happened. */
  #track(work: Promise<void>, connection: Connection): void {
    const done = work.catch(() => {}).finally(() => {
      connection.close();
      this.#serving.delete(done);
    });
    this.#serving.add(done);
  }

  async #finish(accepting: Promise<void>): Promise<void> {
    await aborted(this.#options.shutdown);
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await accepting;
    if (!(await settledWithin(Promise.all(this.#serving), this.#options.drainMs))) {
      for (const connection of this.#open) connection.close();
    }
    await Promise.all(this.#serving);
  }
}
