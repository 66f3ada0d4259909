/**
 * The audit log (`[audit]`): one JSON line per connection, refusal, authentication failure
 * and reload, on stderr or appended to a file.
 *
 * A flood of refused connections cannot flood the log: per interval (1 s) at most
 * `maxRefusalsPerInterval` (20) refusal lines (`auth_failure`, `denied`, `rate_limited`,
 * `tls_error`) are written; the rest are counted and summed up in one line when the interval
 * ends:
 *
 * ```json
 * {"time":"…","event":"suppressed","interval_ms":1000,"counts":{"denied":4980}}
 * ```
 *
 * `connect`, `disconnect` and `reload` are always written. Writing never throws into the
 * caller and never waits: lines are buffered (at most `maxPendingBytes`, beyond which they
 * are dropped and counted) and written in the background; a failed write (full disk,
 * closed stderr) loses its lines, counted, and the log carries on. Appending to a file needs
 * `--allow-write=<file>` and nothing else.
 *
 * @module
 */
import { fsErrorReason } from "../fs_error.ts";
import type { Log } from "../log.ts";
import type { AuditConfig } from "../config/types.ts";

/** Which server a client came through. */
export type AuditTransport = "http" | "tcp" | "websocket";

/** Events that refuse a client: these are limited per interval. */
export type RefusalEvent = "auth_failure" | "denied" | "rate_limited" | "tls_error";

/** Fields every event may carry. */
export interface AuditFields {
  /** The stream's name; absent for router-wide endpoints. */
  readonly stream?: string;
  /** The server the client came through. */
  readonly transport?: AuditTransport;
  /** The client's address. */
  readonly remoteAddr?: string;
  /** User, token name or JWT subject, once authenticated. */
  readonly user?: string;
  /** Client certificate subject (mTLS), once authenticated. */
  readonly subject?: string;
  /** Why: the refusal or failure reason, the end of a connection, what was reloaded. */
  readonly reason?: string;
}

/** One event. A `disconnect` tells how long the client stayed and what it was sent. */
export type AuditEvent =
  | AuditFields & { readonly event: "connect" | "reload" | RefusalEvent }
  | AuditFields & {
    readonly event: "disconnect";
    readonly durationMs: number;
    readonly entries: number;
    readonly bytes: number;
  };

/** Where lines go: a file or stderr, or a test's collector. */
export interface AuditSink {
  /** Writes some of `data`; returns how much. May reject. */
  write(data: Uint8Array): Promise<number>;
  /** Releases the file; may throw when already closed. */
  close(): void;
}

/** Options of `AuditLog.open()`. */
export interface AuditLogOptions {
  /** The clock, in milliseconds. */
  readonly now?: () => number;
  /** Length of a summary interval (default 1000 ms). */
  readonly intervalMs?: number;
  /** Refusal lines per interval before the rest are summed up (default 20). */
  readonly maxRefusalsPerInterval?: number;
  /** Lines waiting to be written, in bytes, before new ones are dropped (default 1 MiB). */
  readonly maxPendingBytes?: number;
  /** Told once per run of failed writes, so the operator learns the log is losing lines. */
  readonly log?: Log;
  /** Write here instead of the configured file or stderr. */
  readonly sink?: AuditSink;
}

/** Counters of an audit log, for status and metrics. */
export interface AuditStats {
  /** Lines written. */
  readonly written: number;
  /** Refusals summed up instead of written. */
  readonly suppressed: number;
  /** Lines dropped because too many were waiting (or the log was closed). */
  readonly dropped: number;
  /** Lines lost to failed writes. */
  readonly failed: number;
}

/** Longest string field, in characters: fields may come from clients. */
const MAX_FIELD = 256;
/** Most bytes handed to one write. */
const MAX_BATCH = 64 * 1024;

const REFUSALS: ReadonlySet<string> = new Set<RefusalEvent>([
  "auth_failure",
  "denied",
  "rate_limited",
  "tls_error",
]);

/** Writes audit events as JSON lines; see the module documentation. */
export class AuditLog implements AsyncDisposable {
  readonly #sink: AuditSink | undefined;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #maxRefusals: number;
  readonly #maxPendingBytes: number;
  readonly #log: Log | undefined;
  readonly #encoder = new TextEncoder();

  #pending: string[] = [];
  #pendingBytes = 0;
  #flushing: Promise<void> | undefined;
  #closed = false;
  #failing = false;

  #windowEnd = -Infinity;
  #refusals = 0;
  #suppressed = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  #written = 0;
  #suppressedTotal = 0;
  #dropped = 0;
  #failed = 0;

  private constructor(sink: AuditSink | undefined, options: AuditLogOptions) {
    this.#sink = sink;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#maxRefusals = options.maxRefusalsPerInterval ?? 20;
    this.#maxPendingBytes = options.maxPendingBytes ?? 1024 * 1024;
    this.#log = options.log;
  }

  /**
   * Opens the log `config` describes: nothing when disabled, stderr for `file = ""`, else the
   * file, appended to and created with mode 0640. Throws when the file cannot be opened, with
   * the reason. A FIFO is refused (opening one would block) when the read permission covers
   * the file, as looking needs it.
   */
  static async open(config: AuditConfig, options: AuditLogOptions = {}): Promise<AuditLog> {
    if (!config.enabled) return new AuditLog(undefined, options);
    if (options.sink) return new AuditLog(options.sink, options);
    if (config.file === "") return new AuditLog(stderrSink(), options);
    const where = JSON.stringify(config.file);
    if (Deno.permissions.querySync({ name: "write", path: config.file }).state !== "granted") {
      throw new Error(
        `Cannot open the audit log ${where}: no write permission: run with ` +
          `--allow-write=${config.file}`,
      );
    }
    try {
      // Writing needs --allow-write only; looking first (a FIFO would block the open) needs
      // --allow-read too, so it is done only where that is granted.
      const readable = Deno.permissions.querySync({ name: "read", path: config.file });
      const info = readable.state !== "granted" ? undefined : await Deno.stat(config.file)
        .catch((error) => {
          if (error instanceof Deno.errors.NotFound) return undefined;
          throw error;
        });
      if (info && !info.isFile && !info.isCharDevice) {
        throw new Error("it is not a regular file");
      }
      const file = await Deno.open(config.file, { append: true, create: true, mode: 0o640 });
      return new AuditLog(file, options);
    } catch (error) {
      throw new Error(`Cannot open the audit log ${where}: ${fsErrorReason(error)}`);
    }
  }

  /** Whether events are written at all (`[audit] enabled`). */
  get enabled(): boolean {
    return this.#sink !== undefined;
  }

  /** What the log has written, summed up, dropped and lost. */
  get stats(): AuditStats {
    return {
      written: this.#written,
      suppressed: this.#suppressedTotal,
      dropped: this.#dropped,
      failed: this.#failed,
    };
  }

  /** Records `event`. Returns at once; never throws. */
  record(event: AuditEvent): void {
    if (this.#sink === undefined) return;
    if (this.#closed) {
      this.#dropped++;
      return;
    }
    const now = this.#now();
    if (now >= this.#windowEnd) this.#endWindow(now);
    if (REFUSALS.has(event.event)) {
      if (this.#refusals >= this.#maxRefusals) {
        this.#suppressed.set(event.event, (this.#suppressed.get(event.event) ?? 0) + 1);
        this.#suppressedTotal++;
        this.#armTimer();
        return;
      }
      this.#refusals++;
    }
    this.#enqueue(formatEvent(event, now));
  }

  /** Writes the pending summary and every buffered line, then closes the file. */
  async close(): Promise<void> {
    if (this.#closed || this.#sink === undefined) return;
    this.#endWindow(this.#now());
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#flushing) await this.#flushing;
    try {
      this.#sink.close();
    } catch {
      // Already closed (stderr closed by the other end): nothing is left to lose.
    }
  }

  /** Same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Ends the current interval at `now`: writes its summary, if anything was suppressed. */
  #endWindow(now: number): void {
    if (this.#suppressed.size > 0) {
      const counts = Object.fromEntries(this.#suppressed);
      this.#enqueue(
        JSON.stringify({
          time: rfc3339(now),
          event: "suppressed",
          interval_ms: this.#intervalMs,
          counts,
        }),
      );
      this.#suppressed = new Map();
    }
    this.#refusals = 0;
    this.#windowEnd = now + this.#intervalMs;
  }

  /** Makes sure the summary is written when the interval ends, even if nothing follows. */
  #armTimer(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(1, this.#windowEnd - this.#now());
    const timer = setTimeout(() => {
      this.#timer = undefined;
      const now = this.#now();
      if (now >= this.#windowEnd) this.#endWindow(now);
      // A clock that has not reached the end (a test's) waits another round.
      else if (this.#suppressed.size > 0) this.#armTimer();
    }, wait);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #enqueue(line: string): void {
    if (this.#pendingBytes + line.length + 1 > this.#maxPendingBytes) {
      this.#dropped++;
      return;
    }
    this.#pending.push(`${line}\n`);
    this.#pendingBytes += line.length + 1;
    this.#flushing ??= this.#flush().finally(() => this.#flushing = undefined);
  }

  /** Writes pending lines in batches until none are left. */
  async #flush(): Promise<void> {
    const sink = this.#sink!;
    while (this.#pending.length > 0) {
      let size = 0;
      let count = 0;
      while (count < this.#pending.length && (count === 0 || size < MAX_BATCH)) {
        size += this.#pending[count]!.length;
        count++;
      }
      const lines = this.#pending.splice(0, count);
      this.#pendingBytes -= size;
      const data = this.#encoder.encode(lines.join(""));
      try {
        for (let offset = 0; offset < data.length;) {
          offset += await sink.write(data.subarray(offset));
        }
        this.#written += count;
        this.#failing = false;
      } catch (error) {
        this.#failed += count;
        if (!this.#failing) {
          this.#failing = true;
          this.#log?.(
            "error",
            `Cannot write the audit log: ${fsErrorReason(error)}; lost lines are counted`,
          );
        }
      }
    }
  }
}

function stderrSink(): AuditSink {
  return { write: (data) => Deno.stderr.write(data), close: () => {} };
}

/** The JSON line of `event`: fixed field order, strings cut to `MAX_FIELD`. */
function formatEvent(event: AuditEvent, now: number): string {
  const text = (value: string | undefined) =>
    value === undefined || value.length <= MAX_FIELD ? value : `${value.slice(0, MAX_FIELD)}…`;
  return JSON.stringify({
    time: rfc3339(now),
    event: event.event,
    stream: text(event.stream),
    transport: event.transport,
    remote_addr: text(event.remoteAddr),
    user: text(event.user),
    subject: text(event.subject),
    reason: text(event.reason),
    ...(event.event === "disconnect" && {
      duration_ms: Math.round(event.durationMs),
      entries: event.entries,
      bytes: event.bytes,
    }),
  });
}

/** RFC 3339 in UTC with milliseconds: `2026-12-02T17:17:43.123Z`. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
