/**
 * `[streams.publish]`: every entry of a stream also goes to JetStream, at least once.
 *
 * An entry is pending from the moment {@linkcode JetStreamPublisher.publish} takes it until
 * JetStream acknowledges it; a failed or unanswered publish is sent again with the same
 * `Nats-Msg-Id`, which JetStream de-duplicates. Publishes are pipelined (many in flight on
 * one connection, acknowledgements matched by reply subject) rather than awaited one by
 * one: that is what makes tens of thousands of acknowledged entries per second possible.
 *
 * Order: JetStream stores what one connection sends in the order sent, but a publish that
 * fails while later ones succeed (the stream appearing mid-window, say) would be stored
 * after them when retried. So the window is one entry until an acknowledgement proves the
 * path works, at the start, after a failure and after a reconnect; only then is it opened.
 *
 * @module
 */
import {
  createInbox,
  headers,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import type { ConfigIssue } from "../config/config_error.ts";
import type { PublishConfig } from "../config/types.ts";
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
} from "./connection.ts";
import {
  renderSubject,
  streamNameProblem,
  streamSubjectFor,
  subjectMatches,
  templateProblem,
} from "./subject.ts";
import { throttledLog } from "./throttled_log.ts";
import { encodeEntry } from "./wire_entry.ts";

export { natsMessageId } from "./message_id.ts";

/** `blocked`: the pending set is full and {@linkcode JetStreamPublisher.publish} waits. */
export type PublishState = "connected" | "reconnecting" | "blocked";

/** One entry to publish and its `Nats-Msg-Id` (see {@linkcode natsMessageId}). */
export interface PublishItem {
  /** The entry, sent as its JSON. */
  readonly entry: LogEntry;
  /** Its `Nats-Msg-Id`: the same for the same line, whenever it is published. */
  readonly id: string;
}

/** Counters for status and metrics. */
export interface PublisherStats {
  /** `connected`, `reconnecting`, or `blocked` while publish() waits. */
  readonly state: PublishState;
  /** Entries JetStream acknowledged, including those it recognized as duplicates. */
  readonly published: number;
  /** Of `published`, those JetStream had stored already (a retry after a lost ack). */
  readonly duplicates: number;
  /** Entries taken and not acknowledged yet. */
  readonly pending: number;
  /** Publishes sent again after a failure, a timeout or a lost connection. */
  readonly retries: number;
  /** Entries cut to fit the server's maximum payload. */
  readonly shortened: number;
}

/** How to run a publisher. */
export interface PublisherOptions {
  /** The `[streams.publish]` table. */
  readonly config: PublishConfig;
  /** The LogWisp stream's name, for `{stream}` in the subject. */
  readonly stream: string;
  /** The host name for `{host}` and `LogWisp-Host`: see {@linkcode publishHost}. */
  readonly host: string;
  /** Where state changes and failures are reported. */
  readonly log: Log;
  /** Closes the publisher when aborted; waiting publish() calls return. */
  readonly signal?: AbortSignal;
  /** Most publishes awaiting their acknowledgement at a time; default 256. */
  readonly window?: number;
  /** How long an acknowledgement may take before the entry is sent again; default 5 s. */
  readonly ackTimeoutMs?: number;
  /** Bounds of the wait before a retry and between connection attempts. */
  readonly backoff?: Backoff;
}

/** An entry from publish() to its acknowledgement. */
interface Pending {
  readonly entry: LogEntry;
  readonly id: string;
  body: Uint8Array | undefined;
  /** Never sent, or sent and failed: the pump sends it (again). */
  waiting: boolean;
  acked: boolean;
  /** The attempt in flight; 0 before the first. */
  attempt: number;
  sentAt: number;
}

/** A publish() call waiting for room in the pending set. */
interface Admission {
  readonly items: readonly PublishItem[];
  taken: number;
  readonly resolve: () => void;
}

/** Room kept for the headers within the server's maximum payload. */
const HEADER_ROOM = 2048;

/**
 * Publishes a stream's entries to JetStream, one message per entry, in the order given.
 * See the module documentation for the guarantees.
 */
export class JetStreamPublisher implements AsyncDisposable {
  /** The subject every entry is published on. */
  readonly subject: string;
  readonly #options: PublisherOptions;
  readonly #link: NatsLink;
  readonly #log: Log;
  readonly #label: string;
  readonly #window: number;
  readonly #ackTimeoutMs: number;
  readonly #backoff: Backoff;
  readonly #max: number;
  readonly #stopListening: () => void;

  /** Unacknowledged entries in order, from #head on; acknowledged ones before #head. */
  #items: Pending[] = [];
  #head = 0;
  /** Where the pump looks for the next entry to send. */
  #cursor = 0;
  #pending = 0;
  readonly #inflight = new Map<number, Pending>();
  #nextAttempt = 1;
  /** A publish failed: send nothing until every one in flight is answered, then resend. */
  #rewind = false;
  #retryAt = 0;
  #failingSince = 0;
  /** Nothing acknowledged since the start, a failure or a reconnect: one in flight at most. */
  #probing = true;
  /** The first attempt whose acknowledgement ends probing: older ones prove nothing. */
  #probeFrom = 0;
  #admissions: Admission[] = [];
  /** When the current block was logged; 0 when it was not. */
  #blockedSince = 0;
  #blockLoggedAt = -Infinity;
  #drained: (() => void)[] = [];
  #pumpTimer: ReturnType<typeof setTimeout> | undefined;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #subscription: { nc: NatsConnection; inbox: string; sub: Subscription } | undefined;
  #diagnosing = false;
  #closed = false;
  #published = 0;
  #duplicates = 0;
  #retries = 0;
  #shortened = 0;

  private constructor(options: PublisherOptions, link: NatsLink) {
    this.#options = options;
    this.#link = link;
    this.#label = `stream ${JSON.stringify(options.stream)}: publish`;
    this.#log = throttledLog(options.log);
    this.#window = options.window ?? 256;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#max = options.config.maxPendingEntries;
    this.subject = renderSubject(options.config.subject, {
      host: options.host,
      stream: options.stream,
    });
    this.#stopListening = link.onStateChange((state) => {
      if (state === "reconnecting") this.#connectionLost();
      else this.#pump();
    });
    options.signal?.addEventListener("abort", () => void this.close().catch(() => {}), {
      once: true,
    });
  }

  /**
   * Reads the credentials and starts connecting in the background: entries are taken at
   * once and sent when NATS is reachable. Throws a {@linkcode StartupError} when a
   * credential file cannot be read or the subject template is unusable.
   */
  static async open(options: PublisherOptions): Promise<JetStreamPublisher> {
    const problem = templateProblem(options.config.subject) ??
      streamNameProblem(options.config.jetstreamStream);
    if (problem) throw new StartupError(`stream ${JSON.stringify(options.stream)}: ${problem}`);
    const link = await NatsLink.open({
      config: options.config,
      name: `logwisp ${options.stream} publish`,
      label: `stream ${JSON.stringify(options.stream)}: publish`,
      log: options.log,
      ...(options.backoff && { backoff: options.backoff }),
    });
    return new JetStreamPublisher(options, link);
  }

  /** `blocked` while publish() waits for room, else the connection's state. */
  get state(): PublishState {
    return this.#admissions.length > 0 ? "blocked" : this.#link.state;
  }

  /** Counters and state for status and metrics. */
  get stats(): PublisherStats {
    return {
      state: this.state,
      published: this.#published,
      duplicates: this.#duplicates,
      pending: this.#pending,
      retries: this.#retries,
      shortened: this.#shortened,
    };
  }

  /**
   * Takes `batch` into the pending set and returns; while the set holds
   * `max_pending_entries`, waits for acknowledgements to make room (the stream's reader
   * pauses on it). Entries are published in the order of the calls. Returns at once,
   * taking nothing, once the publisher is closed.
   */
  publish(batch: readonly PublishItem[]): Promise<void> {
    if (this.#closed || batch.length === 0) return Promise.resolve();
    if (this.#admissions.length === 0) {
      const taken = this.#take(batch, 0);
      if (taken === batch.length) return Promise.resolve();
      return this.#wait(batch, taken);
    }
    return this.#wait(batch, 0);
  }

  /** Resolves when nothing is pending (at once if nothing is), or when `signal` aborts. */
  flush(signal?: AbortSignal): Promise<void> {
    if (this.#pending === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        this.#drained = this.#drained.filter((candidate) => candidate !== done);
        resolve();
      };
      signal?.addEventListener("abort", done, { once: true });
      this.#drained.push(done);
    });
  }

  /**
   * Stops publishing: waits up to `flushMs` (default 0) for pending entries to be
   * acknowledged, then closes the connection. Entries still pending are lost and logged.
   */
  async close(options: { flushMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    if ((options.flushMs ?? 0) > 0) {
      const timeout = AbortSignal.timeout(options.flushMs!);
      await this.flush(timeout);
    }
    if (this.#closed) return;
    this.#closed = true;
    this.#stopListening();
    clearTimeout(this.#pumpTimer);
    clearTimeout(this.#ackTimer);
    for (const admission of this.#admissions) admission.resolve();
    this.#admissions = [];
    for (const done of this.#drained) done();
    this.#subscription?.sub.unsubscribe();
    this.#subscription = undefined;
    await this.#link.close();
    if (this.#pending > 0) {
      this.#options.log(
        "warn",
        `${this.#label}: ${this.#pending} entries were not acknowledged by JetStream before closing`,
      );
    }
  }

  /** Same as {@linkcode JetStreamPublisher.close} without waiting for acknowledgements. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Adds entries from `batch[from]` on while there is room; returns the new position. */
  #take(batch: readonly PublishItem[], from: number): number {
    const room = Math.max(0, this.#max - this.#pending);
    const end = Math.min(batch.length, from + room);
    for (let i = from; i < end; i++) {
      const { entry, id } = batch[i]!;
      this.#items.push({
        entry,
        id,
        body: undefined,
        waiting: true,
        acked: false,
        attempt: 0,
        sentAt: 0,
      });
    }
    this.#pending += end - from;
    if (end > from) this.#schedulePump(0);
    return end;
  }

  #wait(batch: readonly PublishItem[], taken: number): Promise<void> {
    const now = Date.now();
    // A NATS just slower than the files blocks and unblocks all the time: said once a minute.
    if (this.#admissions.length === 0 && now - this.#blockLoggedAt >= 60_000) {
      this.#blockedSince = now;
      this.#blockLoggedAt = now;
      this.#options.log(
        "warn",
        `${this.#label}: blocked: ${this.#pending} entries wait for JetStream to acknowledge them; reading paused`,
      );
    }
    return new Promise((resolve) => this.#admissions.push({ items: batch, taken, resolve }));
  }

  /** Lets waiting publish() calls in, in order, as far as there is room. */
  #admit(): void {
    while (this.#admissions.length > 0 && this.#pending < this.#max) {
      const admission = this.#admissions[0]!;
      admission.taken = this.#take(admission.items, admission.taken);
      if (admission.taken < admission.items.length) break;
      this.#admissions.shift();
      admission.resolve();
    }
    if (this.#blockedSince !== 0 && this.#admissions.length === 0) {
      const seconds = ((Date.now() - this.#blockedSince) / 1000).toFixed(1);
      this.#blockedSince = 0;
      this.#options.log("info", `${this.#label}: unblocked after ${seconds} s; reading resumed`);
    }
  }

  #schedulePump(delayMs: number): void {
    if (this.#pumpTimer !== undefined || this.#closed) return;
    this.#pumpTimer = setTimeout(() => {
      this.#pumpTimer = undefined;
      this.#pump();
    }, delayMs);
  }

  /** Sends waiting entries in order while the window has room; never throws. */
  #pump(): void {
    try {
      this.#send();
    } catch (error) {
      // Runs from timers and connection callbacks: a throw here would end the process.
      this.#failure(describeError(error));
      this.#schedulePump(Math.max(0, this.#retryAt - Date.now()));
    }
  }

  #send(): void {
    const nc = this.#link.connection;
    if (!nc || this.#closed) return;
    const wait = this.#retryAt - Date.now();
    if (wait > 0) return this.#schedulePump(wait);
    if (this.#rewind) {
      if (this.#inflight.size > 0) return;
      this.#rewind = false;
      this.#cursor = this.#head;
    }
    const { inbox } = this.#subscribe(nc);
    const maxBody = Math.max(1024, (nc.info?.max_payload ?? 1_048_576) - HEADER_ROOM);
    const window = this.#probing ? 1 : this.#window;
    while (this.#inflight.size < window && this.#cursor < this.#items.length) {
      const item = this.#items[this.#cursor++]!;
      if (!item.waiting) continue;
      if (item.body === undefined) {
        const { body, shortened } = encodeEntry(item.entry, maxBody);
        item.body = body;
        if (shortened) this.#shortened++;
      }
      if (item.attempt !== 0) this.#retries++;
      const attempt = this.#nextAttempt++;
      item.waiting = false;
      item.attempt = attempt;
      item.sentAt = Date.now();
      this.#inflight.set(attempt, item);
      try {
        nc.publish(this.subject, item.body, {
          reply: `${inbox}.${attempt}`,
          headers: this.#headers(item),
        });
      } catch (error) {
        this.#inflight.delete(attempt);
        item.waiting = true;
        // Encoded again next time: a server with a smaller maximum payload may refuse it.
        item.body = undefined;
        this.#failure(describeError(error));
        break;
      }
    }
    this.#armAckTimer();
  }

  #headers(item: Pending): MsgHdrs {
    const h = headers();
    h.set("Nats-Msg-Id", headerValue(item.id));
    if (item.entry.level) h.set("LogWisp-Level", item.entry.level);
    h.set("LogWisp-Source", headerValue(item.entry.source));
    h.set("LogWisp-Host", headerValue(this.#options.host));
    return h;
  }

  /** The reply subscription of `nc`, made once per connection. */
  #subscribe(nc: NatsConnection): { inbox: string } {
    if (this.#subscription?.nc === nc) return this.#subscription;
    const inbox = createInbox();
    const sub = nc.subscribe(`${inbox}.*`, {
      callback: (error, msg) => {
        if (error) {
          this.#log(
            "error",
            `${this.#label}: Cannot receive acknowledgements: ${describeError(error)}`,
          );
          return;
        }
        this.#answered(msg, inbox);
      },
    });
    this.#subscription = { nc, inbox, sub };
    return this.#subscription;
  }

  #answered(msg: Msg, inbox: string): void {
    const attempt = Number(msg.subject.slice(inbox.length + 1));
    const item = this.#inflight.get(attempt);
    // An answer to an attempt given up on: the retry gets its own.
    if (!item) return;
    this.#inflight.delete(attempt);
    const ack = parseAck(msg);
    if (ack.ok) {
      this.#acked(item, ack.duplicate);
    } else {
      item.waiting = true;
      this.#failure(ack.reason, ack.noResponders);
    }
    this.#pump();
  }

  #acked(item: Pending, duplicate: boolean): void {
    item.acked = true;
    if (item.attempt >= this.#probeFrom) this.#probing = false;
    item.body = undefined;
    this.#pending--;
    this.#published++;
    if (duplicate) this.#duplicates++;
    if (this.#failingSince !== 0) {
      this.#failingSince = 0;
      this.#options.log("info", `${this.#label}: JetStream acknowledges again`);
    }
    while (this.#head < this.#items.length && this.#items[this.#head]!.acked) this.#head++;
    if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#cursor -= this.#head;
      this.#head = 0;
    }
    this.#admit();
    if (this.#pending === 0) {
      for (const done of this.#drained) done();
    }
  }

  /** Resends from the oldest unacknowledged entry once nothing is in flight, after a wait. */
  #failure(reason: string, noResponders = false): void {
    this.#rewind = true;
    this.#probe();
    const now = Date.now();
    if (this.#failingSince === 0) this.#failingSince = now;
    this.#retryAt = now + backoffDelay(this.#backoff, now - this.#failingSince);
    this.#log(
      "warn",
      `${this.#label}: JetStream did not store an entry on ${
        JSON.stringify(this.subject)
      }: ${reason}; retrying`,
    );
    if (noResponders) this.#diagnose();
  }

  /** Sends one entry at a time until one sent from now on is acknowledged. */
  #probe(): void {
    this.#probing = true;
    this.#probeFrom = this.#nextAttempt;
  }

  /** Everything in flight is lost with the connection: resend it once reconnected. */
  #connectionLost(): void {
    this.#probe();
    for (const item of this.#inflight.values()) item.waiting = true;
    if (this.#inflight.size > 0) this.#rewind = true;
    this.#inflight.clear();
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#retryAt = 0;
  }

  #armAckTimer(): void {
    if (this.#ackTimer !== undefined || this.#inflight.size === 0 || this.#closed) return;
    const oldest = this.#inflight.values().next().value!;
    const delay = Math.max(0, oldest.sentAt + this.#ackTimeoutMs - Date.now());
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      const now = Date.now();
      let expired = 0;
      for (const [attempt, item] of this.#inflight) {
        if (item.sentAt + this.#ackTimeoutMs > now) break;
        this.#inflight.delete(attempt);
        item.waiting = true;
        expired++;
      }
      if (expired > 0) this.#failure(`no acknowledgement within ${this.#ackTimeoutMs} ms`);
      this.#armAckTimer();
      this.#pump();
    }, delay);
  }

  /**
   * JetStream did not answer for the subject: say why (no such stream, a stream that does
   * not take the subject), and create the stream when `create_stream` is set.
   */
  async #diagnose(): Promise<void> {
    const nc = this.#link.connection;
    if (this.#diagnosing || !nc) return;
    this.#diagnosing = true;
    const { jetstreamStream: name, createStream, subject: template } = this.#options.config;
    try {
      const jsm = await jetstreamManager(nc, { timeout: this.#ackTimeoutMs });
      let subjects: string[] | undefined;
      try {
        subjects = (await jsm.streams.info(name)).config.subjects ?? [];
      } catch (error) {
        if (!isStreamNotFound(error)) throw error;
      }
      if (subjects === undefined && createStream) {
        const streamSubject = streamSubjectFor(template);
        await jsm.streams.add({ name, subjects: [streamSubject] });
        this.#options.log(
          "info",
          `${this.#label}: created JetStream stream ${JSON.stringify(name)} for subjects ${
            JSON.stringify(streamSubject)
          }`,
        );
        this.#retryAt = 0;
        this.#schedulePump(0);
      } else if (subjects === undefined) {
        this.#log(
          "error",
          `${this.#label}: JetStream stream ${JSON.stringify(name)} not found: ` +
            "create it, or set create_stream = true",
        );
      } else if (!subjects.some((pattern) => subjectMatches(pattern, this.subject))) {
        this.#log(
          "error",
          `${this.#label}: JetStream stream ${JSON.stringify(name)} does not take subject ${
            JSON.stringify(this.subject)
          }: its subjects are ${JSON.stringify(subjects)}`,
        );
      }
    } catch (error) {
      if (this.#closed) return;
      this.#log(
        "warn",
        `${this.#label}: Cannot check JetStream stream ${JSON.stringify(name)}: ${
          describeError(error)
        }`,
      );
    } finally {
      this.#diagnosing = false;
    }
  }
}

type Ack =
  | { ok: true; duplicate: boolean }
  | { ok: false; reason: string; noResponders: boolean };

/** A publish acknowledgement: `{stream, seq, duplicate?}`, an API error, or a 503 status. */
function parseAck(msg: Msg): Ack {
  if (msg.headers?.hasError) {
    const noResponders = msg.headers.code === 503;
    return {
      ok: false,
      noResponders,
      reason: noResponders
        ? "no JetStream stream answered (no responders)"
        : `${msg.headers.code} ${msg.headers.description}`,
    };
  }
  try {
    const ack = msg.json<
      {
        stream?: string;
        seq?: number;
        duplicate?: boolean;
        error?: { code?: number; description?: string };
      }
    >();
    if (ack.error) {
      return {
        ok: false,
        noResponders: false,
        reason: `${ack.error.description ?? "error"} (${ack.error.code ?? "?"})`,
      };
    }
    if (typeof ack.seq === "number" && typeof ack.stream === "string") {
      return { ok: true, duplicate: ack.duplicate === true };
    }
  } catch {
    // Reported below.
  }
  return { ok: false, noResponders: false, reason: "not a JetStream acknowledgement" };
}

function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}

/** A header value cannot hold line breaks or other control characters. */
function headerValue(value: string): string {
  // deno-lint-ignore no-control-regex
  return value.replace(/[\x00-\x1f\x7f]/g, "\ufffd");
}

/**
 * The host name for `{host}` and the `LogWisp-Host` header: `host_name` when set,
 * otherwise the system's host name, which needs `--allow-sys=hostname`. Throws a
 * {@linkcode StartupError} saying so when that permission is missing.
 */
export function publishHost(config: PublishConfig): string {
  if (config.hostName !== "") return config.hostName;
  try {
    return Deno.hostname();
  } catch (error) {
    throw new StartupError(
      `Cannot read the host name for the NATS subject: ${describeError(error)}: ` +
        "set host_name in [streams.publish], or allow it with --allow-sys=hostname",
    );
  }
}

/**
 * Problems of a `[streams.publish]` table for `logwisp --check`: its connection (see
 * {@linkcode checkNatsConnection}), subject template and JetStream stream name. `base` is
 * its key path, e.g. `streams[0].publish`.
 */
export async function checkPublishConfig(
  config: PublishConfig,
  base: string,
): Promise<ConfigIssue[]> {
  const issues = await checkNatsConnection(config, base);
  const subject = templateProblem(config.subject);
  if (subject) issues.push({ key: `${base}.subject`, message: subject });
  const stream = streamNameProblem(config.jetstreamStream);
  if (stream) issues.push({ key: `${base}.jetstream_stream`, message: stream });
  return issues;
}
