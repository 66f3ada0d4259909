/**
 * `[streams.source]`: a stream fed from JetStream subjects instead of files. Entries come
 * in stream-sequence order through an ordered consumer; the sequence is the entry's id, so
 * a reader that keeps the last one resumes exactly, on this LogWisp or any other.
 *
 * @module
 */
import {
  type ConsumerMessages,
  jetstream,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { settledWithin } from "../async.ts";
import type { ConfigIssue } from "../config/config_error.ts";
import type { NatsSourceConfig } from "../config/types.ts";
import type { LogEntry } from "../entry/entry.ts";
import type { Log } from "../log.ts";
import { StartupError } from "../service/startup_error.ts";
import {
  type Backoff,
  backoffDelay,
  checkNatsConnection,
  DEFAULT_BACKOFF,
  describeError,
  NatsLink,
  type NatsState,
} from "./connection.ts";
import { sleep } from "./abortable.ts";
import { coverSubject, streamNameProblem, subjectMatches, subjectProblem } from "./subject.ts";
import { throttledLog } from "./throttled_log.ts";
import { decodeEntry } from "./wire_entry.ts";

/** One entry read from JetStream, with its stream sequence (its event id). */
export interface SourceEntry {
  /** The JetStream stream sequence: the entry's event id. */
  readonly seq: number;
  /** The entry, with the publishing host in `fields.host` when known. */
  readonly entry: LogEntry;
  /** The subject it was published on. */
  readonly subject: string;
}

/** Counters for status and metrics. */
export interface SourceStats {
  /** `connected` or `reconnecting`. */
  readonly state: NatsState;
  /** Entries handed to `onEntries`. */
  readonly delivered: number;
  /** Messages on the subjects that are not LogWisp entries, skipped. */
  readonly invalid: number;
  /** The sequence of the last message read (delivered, skipped or queued); 0 before any. */
  readonly lastSeq: number;
}

/** How to run a source. */
export interface JetStreamSourceOptions {
  /** The `[streams.source]` table. */
  readonly config: NatsSourceConfig;
  /** The LogWisp stream's name, for log messages. */
  readonly stream: string;
  /** Where connection changes and failures are reported. */
  readonly log: Log;
  /**
   * Receives entries in sequence order, one batch at a time: the next batch waits for
   * this one's promise, so a slow receiver slows reading (bounded memory).
   */
  readonly onEntries: (batch: SourceEntry[]) => void | Promise<void>;
  /**
   * Deliver entries with a sequence above this one. Absent: only entries stored after
   * the source first reaches NATS.
   */
  readonly afterSeq?: number;
  /**
   * Without `afterSeq`: start this many sequences before the stream's end when the source
   * first reaches NATS, so that a reader starting afresh holds recent history; default 0.
   */
  readonly backfill?: number;
  /** Stops reading and closes the connection when aborted. */
  readonly signal?: AbortSignal;
  /** The largest batch handed to `onEntries`; default 1000. */
  readonly maxBatch?: number;
  /** Bounds of the wait before reading again after a failure, and between connections. */
  readonly backoff?: Backoff;
}

/** What {@linkcode JetStreamSource.history} found. */
export interface HistoryPage {
  /** The entries after `afterSeq`, in order, at most `limit`. */
  readonly entries: SourceEntry[];
  /**
   * The first sequence the stream still holds: when it is above `afterSeq + 1`, the
   * messages in between were removed by the stream's retention (a gap).
   */
  readonly firstSeq: number;
  /** The stream's last sequence when the read started. */
  readonly lastSeq: number;
}

/** Bounds of a read from JetStream beyond the live feed. */
export interface ReadOptions {
  /** The whole read fails after this long (default 5 s). */
  readonly timeoutMs?: number;
}

interface Api {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
}

/** Reads entries from JetStream subjects and hands them on in stream-sequence order. */
export class JetStreamSource implements AsyncDisposable {
  readonly #options: JetStreamSourceOptions;
  readonly #link: NatsLink;
  readonly #log: Log;
  readonly #label: string;
  readonly #filter: string;
  readonly #subjects: readonly string[];
  readonly #maxBatch: number;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  /** Last sequence read from the live consumer; undefined until known for "new". */
  #position: number | undefined;
  #queue: SourceEntry[] = [];
  #delivering: Promise<void> | undefined;
  #roomWaiters: (() => void)[] = [];
  #messages: ConsumerMessages | undefined;
  #api: Api | undefined;
  #delivered = 0;
  #invalid = 0;
  /** When reading started to fail; 0 while it works. */
  #failingSince = 0;
  readonly #running: Promise<void>;

  private constructor(options: JetStreamSourceOptions, link: NatsLink) {
    this.#options = options;
    this.#link = link;
    this.#label = `stream ${JSON.stringify(options.stream)}: source`;
    this.#log = throttledLog(options.log);
    this.#subjects = options.config.subjects;
    this.#filter = coverSubject(options.config.subjects);
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#position = options.afterSeq;
    options.signal?.addEventListener("abort", () => this.#stop.abort(), { once: true });
    this.#stop.signal.addEventListener("abort", () => {
      this.#messages?.stop();
      for (const wake of this.#roomWaiters.splice(0)) wake();
    }, { once: true });
    this.#running = this.#run();
  }

  /**
   * Reads the credentials and starts reading in the background; NATS need not be
   * reachable yet. Throws a {@linkcode StartupError} when a credential file cannot be read
   * or a subject or the stream name is invalid.
   */
  static async open(options: JetStreamSourceOptions): Promise<JetStreamSource> {
    const problem = sourceProblems(options.config)[0];
    if (problem) {
      throw new StartupError(
        `stream ${JSON.stringify(options.stream)}: ${problem.key}: ${problem.message}`,
      );
    }
    const link = await NatsLink.open({
      config: options.config,
      name: `logwisp ${options.stream} source`,
      label: `stream ${JSON.stringify(options.stream)}: source`,
      log: options.log,
      ...(options.signal && { signal: options.signal }),
      ...(options.backoff && { backoff: options.backoff }),
    });
    return new JetStreamSource(options, link);
  }

  /** `connected` or `reconnecting`. */
  get state(): NatsState {
    return this.#link.state;
  }

  /** Counters for status and metrics. */
  get stats(): SourceStats {
    return {
      state: this.state,
      delivered: this.#delivered,
      invalid: this.#invalid,
      lastSeq: this.#position ?? 0,
    };
  }

  /**
   * Up to `limit` entries with a sequence above `afterSeq` (and at most `untilSeq`), in
   * order, read from JetStream: for a resume older than anything kept locally. Fails when
   * NATS is unreachable or the read takes longer than `timeoutMs`.
   */
  async history(
    afterSeq: number,
    limit: number,
    options: ReadOptions & { untilSeq?: number } = {},
  ): Promise<HistoryPage> {
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    const api = await this.#connected(deadline);
    const { state } = await api.jsm.streams.info(this.#options.config.jetstreamStream);
    const entries: SourceEntry[] = [];
    const until = Math.min(options.untilSeq ?? Infinity, state.last_seq);
    if (limit > 0 && afterSeq < until) {
      await this.#readRange(api, afterSeq + 1, until, deadline, (entry) => {
        entries.push(entry);
        return entries.length < limit;
      });
    }
    return { entries, firstSeq: state.first_seq, lastSeq: state.last_seq };
  }

  /**
   * The last `n` entries (before `beforeSeq` when given; that `match`, when given), in
   * order: for `tail` beyond anything kept locally. Reads backwards in growing windows;
   * stops after `maxScan` messages (default 100,000) with what it found. Fails when NATS is
   * unreachable or the read takes longer than `timeoutMs`.
   */
  async last(
    n: number,
    options: ReadOptions & {
      beforeSeq?: number;
      match?: (entry: SourceEntry) => boolean;
      maxScan?: number;
    } = {},
  ): Promise<SourceEntry[]> {
    if (n <= 0) return [];
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    const maxScan = options.maxScan ?? 100_000;
    const api = await this.#connected(deadline);
    const { state } = await api.jsm.streams.info(this.#options.config.jetstreamStream);
    let high = Math.min(state.last_seq, (options.beforeSeq ?? Infinity) - 1);
    let found: SourceEntry[] = [];
    let scanned = 0;
    let window = n;
    while (found.length < n && high >= state.first_seq && scanned < maxScan) {
      // A window of sequences holds at most as many messages: the scan stays in budget.
      const span = Math.min(window, maxScan - scanned);
      const low = Math.max(state.first_seq, high - span + 1);
      const chunk: SourceEntry[] = [];
      scanned += await this.#readRange(api, low, high, deadline, (entry) => {
        if (!options.match || options.match(entry)) chunk.push(entry);
        return true;
      });
      found = [...chunk.slice(-(n - found.length)), ...found];
      high = low - 1;
      window *= 2;
    }
    return found;
  }

  /** Stops reading and closes the connection; a batch being delivered is finished. */
  async close(): Promise<void> {
    this.#stop.abort();
    // Lets the reader delete its consumer while the connection is up, if it answers soon.
    await settledWithin(this.#running, 1_000);
    await this.#link.close();
    await this.#running;
    await this.#delivering;
  }

  /** Same as {@linkcode JetStreamSource.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #connected(deadline: number): Promise<Api> {
    const signal = AbortSignal.any([
      this.#stop.signal,
      AbortSignal.timeout(Math.max(0, deadline - Date.now())),
    ]);
    let nc: NatsConnection;
    try {
      nc = await this.#link.connected(signal);
    } catch {
      throw new Error(`${this.#label}: Cannot read from JetStream: NATS is not reachable`);
    }
    return await this.#apiFor(nc);
  }

  async #apiFor(nc: NatsConnection): Promise<Api> {
    if (this.#api?.nc !== nc) {
      this.#api = { nc, jsm: await jetstreamManager(nc, { checkAPI: false }) };
    }
    return this.#api;
  }

  /**
   * Reads the messages from `from` to `until` through a short-lived ordered consumer,
   * handing each entry on the subjects to `take` until it returns false. Returns how many
   * messages it read.
   */
  async #readRange(
    api: Api,
    from: number,
    until: number,
    deadline: number,
    take: (entry: SourceEntry) => boolean,
  ): Promise<number> {
    const remaining = () => deadline - Date.now();
    if (remaining() <= 0) throw new Error(`${this.#label}: JetStream read timed out`);
    const consumer = await jetstream(api.nc, { timeout: Math.max(1, remaining()) }).consumers
      .get(this.#options.config.jetstreamStream, {
        filter_subjects: this.#filter,
        opt_start_seq: from,
      });
    let read = 0;
    try {
      if ((await consumer.info(true)).num_pending === 0) return 0;
      const messages = await consumer.consume({
        max_messages: Math.min(1000, until - from + 1),
        expires: 5_000,
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        messages.stop();
      }, Math.max(0, remaining()));
      try {
        for await (const msg of messages) {
          if (msg.seq > until) break;
          read++;
          const entry = this.#toEntry(msg);
          if (entry && !take(entry)) break;
          if (msg.info.pending === 0 || msg.seq === until) break;
        }
      } finally {
        clearTimeout(timer);
        messages.stop();
      }
      if (timedOut) throw new Error(`${this.#label}: JetStream read timed out`);
    } finally {
      await consumer.delete().catch(() => {});
    }
    return read;
  }

  /** The entry a message holds if it is on the subjects and valid; counts it otherwise. */
  #toEntry(msg: JsMsg): SourceEntry | undefined {
    if (!this.#subjects.some((subject) => subjectMatches(subject, msg.subject))) return undefined;
    const entry = decodeEntry(msg.data);
    if (!entry) {
      this.#invalid++;
      this.#log(
        "warn",
        `${this.#label}: skipped messages on ${
          JSON.stringify(msg.subject)
        } that are not LogWisp entries`,
      );
      return undefined;
    }
    const host = msg.headers?.get("LogWisp-Host") || hostFromSubject(msg.subject);
    return {
      seq: msg.seq,
      subject: msg.subject,
      entry: host === undefined ? entry : { ...entry, fields: { ...entry.fields, host } },
    };
  }

  /**
   * Follows the stream, one ordered consumer after another, each starting after the last
   * message read: a new one after a reconnect, a failure or a consumer the server lost.
   */
  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      let nc: NatsConnection;
      try {
        nc = await this.#link.connected(signal);
      } catch {
        break;
      }
      let outcome: "reconnected" | "interrupted" | "failed";
      try {
        outcome = await this.#follow(nc, signal);
      } catch (error) {
        if (signal.aborted) break;
        this.#failingSince ||= Date.now();
        this.#log(
          "warn",
          `${this.#label}: Cannot read JetStream stream ${
            JSON.stringify(this.#options.config.jetstreamStream)
          }: ${describeError(error)}; retrying`,
        );
        outcome = "failed";
      }
      if (signal.aborted) break;
      if (outcome === "reconnected") continue;
      const wait = outcome === "failed"
        ? backoffDelay(this.#backoff, Date.now() - this.#failingSince)
        : this.#backoff.minMs;
      await sleep(wait, signal);
    }
  }

  /**
   * Reads through one ordered consumer until the connection comes back from an outage
   * (`reconnected`), the consumer reports trouble (`interrupted`), or it fails (throws).
   *
   * The client library's ordered consumer repairs itself after such events too, but then
   * waits for missed heartbeats (seconds) before it reads on: starting a fresh one from the
   * position is immediate, and the position makes it exact.
   */
  async #follow(nc: NatsConnection, signal: AbortSignal): Promise<"reconnected" | "interrupted"> {
    const name = this.#options.config.jetstreamStream;
    const api = await this.#apiFor(nc);
    const { state } = await api.jsm.streams.info(name);
    if (this.#position === undefined) {
      const backfill = this.#options.backfill ?? 0;
      this.#position = Math.max(0, state.first_seq - 1, state.last_seq - backfill);
    } else if (this.#position > state.last_seq) {
      this.#options.log(
        "warn",
        `${this.#label}: JetStream stream ${
          JSON.stringify(name)
        } ends at sequence ${state.last_seq}, ` +
          `before ${this.#position}: it was purged or created again; reading from ${
            state.last_seq + 1
          }`,
      );
      this.#position = state.last_seq;
    }
    if (this.#position + 1 < state.first_seq) {
      this.#options.log(
        "warn",
        `${this.#label}: sequences ${this.#position + 1} to ${state.first_seq - 1} ` +
          `are no longer in JetStream stream ${JSON.stringify(name)}`,
      );
    }
    const consumer = await jetstream(nc).consumers.get(name, {
      filter_subjects: this.#filter,
      opt_start_seq: this.#position + 1,
    });
    const messages = await consumer.consume({ max_messages: this.#maxBatch, expires: 5_000 });
    this.#messages = messages;
    if (signal.aborted) messages.stop();
    if (this.#failingSince !== 0) {
      this.#failingSince = 0;
      this.#options.log(
        "info",
        `${this.#label}: reading JetStream stream ${JSON.stringify(name)} again`,
      );
    }
    let reconnected = false;
    const stopListening = this.#link.onStateChange((linkState) => {
      if (linkState !== "connected") return;
      reconnected = true;
      messages.stop();
    });
    const watching = (async () => {
      for await (const notice of messages.status()) {
        if (!RESTART_ON.has(notice.type)) continue;
        messages.stop();
        break;
      }
    })();
    try {
      for await (const msg of messages) {
        // A new consumer may repeat what an old one delivered last.
        if (msg.seq <= this.#position) continue;
        this.#position = msg.seq;
        const entry = this.#toEntry(msg);
        if (entry) await this.#enqueue(entry);
      }
    } finally {
      stopListening();
      messages.stop();
      this.#messages = undefined;
      await watching;
      consumer.delete().catch(() => {});
    }
    return reconnected ? "reconnected" : "interrupted";
  }

  /** Queues `entry` for delivery; waits while the queue holds ten batches. */
  async #enqueue(entry: SourceEntry): Promise<void> {
    this.#queue.push(entry);
    this.#delivering ??= this.#deliver();
    if (this.#queue.length >= this.#maxBatch * 10 && !this.#stop.signal.aborted) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
  }

  async #deliver(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      if (this.#queue.length < this.#maxBatch * 10) {
        const waiters = this.#roomWaiters;
        this.#roomWaiters = [];
        for (const wake of waiters) wake();
      }
      try {
        await this.#options.onEntries(batch);
      } catch (error) {
        this.#options.log(
          "error",
          `${this.#label}: delivering entries failed: ${describeError(error)}`,
        );
      }
      this.#delivered += batch.length;
    }
    this.#delivering = undefined;
  }
}

/** Consumer notices after which a fresh consumer reads on sooner than the library would. */
const RESTART_ON = new Set([
  "reset",
  "ordered_consumer_recreated",
  "consumer_not_found",
  "consumer_deleted",
  "heartbeats_missed",
  "stream_not_found",
  "no_responders",
]);

/** The host of a subject of the default template `logwisp.{host}.{stream}`. */
function hostFromSubject(subject: string): string | undefined {
  const tokens = subject.split(".");
  return tokens.length === 3 && tokens[0] === "logwisp" ? tokens[1] : undefined;
}

function sourceProblems(config: NatsSourceConfig): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  const stream = streamNameProblem(config.jetstreamStream);
  if (stream) problems.push({ key: "jetstream_stream", message: stream });
  if (config.subjects.length === 0) {
    problems.push({ key: "subjects", message: "required: at least one subject" });
  }
  config.subjects.forEach((subject, i) => {
    const problem = subjectProblem(subject, { wildcards: true });
    if (problem) problems.push({ key: `subjects[${i}]`, message: problem });
  });
  return problems;
}

/**
 * Problems of a `[streams.source]` table for `logwisp --check`: its connection (see
 * {@linkcode checkNatsConnection}), subjects and JetStream stream name. `base` is its key
 * path, e.g. `streams[1].source`.
 */
export async function checkSourceConfig(
  config: NatsSourceConfig,
  base: string,
): Promise<ConfigIssue[]> {
  const issues = await checkNatsConnection(config, base);
  for (const problem of sourceProblems(config)) {
    issues.push({ key: `${base}.${problem.key}`, message: problem.message });
  }
  return issues;
}
