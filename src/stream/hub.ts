import { nextTurn } from "../async.ts";
import type { LogEntry } from "../entry/entry.ts";
import { type Batch, ClientQueue, type QueueLimits } from "./client_queue.ts";
import type { Codec, Gap, HeartbeatStats } from "./codec.ts";
import { EntryRing, type RingLimits } from "./entry_ring.ts";
import type { EventIds } from "./event_ids.ts";
import { CLIENT_FILTER_BUDGET_MS, FILTER_WINDOW_MS, overBudget } from "./filter_budget.ts";
import { PublishedEntry } from "./published_entry.ts";

/** Decides which entries a client receives (its filter); the hub calls it once per entry. */
export interface EntryFilter {
  /** Whether the client wants `entry`. */
  matches(entry: LogEntry): boolean;
}

/** Who is subscribing, and from where in the stream. */
export interface SubscribeOptions {
  /** The client's wire format. */
  readonly codec: Codec;
  /** `address:port`, for status. */
  readonly remoteAddr: string;
  /** The authenticated user, token name or certificate subject, if any. */
  readonly identity?: string | undefined;
  /** Bounds of the client's queue. */
  readonly limits: QueueLimits;
  /** The client's `Last-Event-ID`: the ring's entries after it are queued first. */
  readonly lastEventId?: string | undefined;
  /**
   * Without `lastEventId`: the last sequence number the client has already been accounted
   * for, e.g. {@linkcode Hub.lastSeq} when it connected and before it said what it wants
   * (a TCP hello): entries published meanwhile are queued first, as for a resume.
   */
  readonly afterSeq?: number | undefined;
  /** Without a usable `lastEventId` or `afterSeq`: start with the last this many entries (`tail=N`). */
  readonly tail?: number | undefined;
  /** Which entries the client receives; all when absent. */
  readonly filter?: EntryFilter | undefined;
  /** How status shows the filter, e.g. `level=WARN grep=timeout`. */
  readonly filterDescription?: string | undefined;
}

/** Totals of one transport over every client it ever had: counters that never go down. */
export interface TransportTotals {
  /** Clients accepted. */
  connections: number;
  /** Entries written to sockets. */
  entriesSent: number;
  /** Bytes written to sockets. */
  bytesSent: number;
  /** Entries dropped for full queues. */
  dropped: number;
  /** Entries left out by clients' filters. */
  filtered: number;
  /** Clients cut for staying full. */
  slowDisconnected: number;
  /** Clients disconnected because their filter took more than its share of the thread. */
  filterDisconnected: number;
}

/** An entry older than the ring, as the source still holds it, with its sequence number. */
export interface HistoryEntry {
  /** The entry's sequence number (its event id). */
  readonly seq: number;
  /** The entry itself. */
  readonly entry: LogEntry;
}

/**
 * Where entries older than the ring are read from (JetStream, for a stream fed from it), for
 * resume and `tail` beyond what the ring keeps. Either call may fail (the source is away).
 */
export interface HubHistory {
  /**
   * The entries with a sequence above `afterSeq` and at most `untilSeq`, oldest first, and
   * the first sequence the source still holds.
   */
  range(afterSeq: number, untilSeq: number): Promise<{ entries: HistoryEntry[]; firstSeq: number }>;
  /** The last `count` entries before `beforeSeq` that `accept` takes, oldest first. */
  last(
    count: number,
    beforeSeq: number,
    accept: (entry: LogEntry) => boolean,
  ): Promise<HistoryEntry[]>;
}

/** How a hub keeps and numbers entries. */
export interface HubOptions {
  /** How entries are named on the wire and how clients' resume ids are read. */
  readonly ids: EventIds;
  /** What is kept for resume and `tail`. */
  readonly ring: RingLimits;
  /** Receives, per entry written to a socket, the seconds since it was published. */
  readonly observeLatency?: (seconds: number) => void;
  /** Told when a client subscribes and when it leaves (the audit log's connect and disconnect). */
  readonly onClient?: (event: "open" | "close", client: Subscription) => void;
  /** Reads entries older than the ring, for resume and `tail` beyond it. */
  readonly history?: HubHistory | undefined;
}

/** The farewell reason of a client whose filter took more than its share of the thread. */
export const FILTER_TOO_EXPENSIVE = "filter_too_expensive";

/** How often a client catching up from history is looked at for room in its queue. */
const CATCH_UP_POLL_MS = 20;
/** Attempts at reading one page of history before the client is let go with a hole. */
const CATCH_UP_ATTEMPTS = 5;

/** One connected client of a hub. */
export class Subscription {
  /** A random id, shown in status and the `connected` event. */
  readonly id: string = crypto.randomUUID();
  /** The client's wire format. */
  readonly codec: Codec;
  /** `address:port`, for status. */
  readonly remoteAddr: string;
  /** The authenticated identity, if any. */
  readonly identity: string | undefined;
  /** When it connected. */
  readonly connectedAt: Date = new Date();
  /** What is waiting to be written to it. */
  readonly queue: ClientQueue;
  /** What the client missed, when it resumed from entries no longer kept. */
  readonly gap: Gap | undefined;
  /** Which entries it receives; all when absent. */
  readonly filter: EntryFilter | undefined;
  /** How status shows the filter. */
  readonly filterDescription: string | undefined;
  /** Set by the transport: ends the connection now, even mid-write to a client that does not read. */
  onTerminate: (() => void) | undefined;
  /**
   * The client resumed from a sequence the hub had not reached (a source numbering its
   * entries, filling the hub after a restart): entries up to it are not sent again.
   */
  resumeAfter = 0;
  /** Reading history before it joins the live entries: the hub does not offer it those. */
  catchingUp = false;
  /** The metering window `#filterMs` belongs to. */
  #window = -1;
  #filterMs = 0;
  /** While {@linkcode metered} runs: when its time was last added to `#filterMs`. */
  #clock: number | undefined;
  #calls = 0;
  #filtered = 0;
  /** Entries and bytes written to this client's socket. */
  entriesSent = 0;
  /** Bytes written to the client so far, for the audit log. */
  bytesSent = 0;
  readonly #hub: Hub;
  readonly #totals: TransportTotals;

  /** @internal Created by {@linkcode Hub.subscribe}. */
  constructor(hub: Hub, options: SubscribeOptions, gap: Gap | undefined, totals: TransportTotals) {
    this.#hub = hub;
    this.codec = options.codec;
    this.remoteAddr = options.remoteAddr;
    this.identity = options.identity;
    this.queue = new ClientQueue(options.limits);
    this.gap = gap;
    this.filter = options.filter;
    this.filterDescription = options.filterDescription;
    this.#totals = totals;
  }

  /** `sse`, `ws` or `tcp`. */
  get transport(): string {
    return this.codec.transport;
  }

  /** Entries its filter left out (not drops: the client did not want them). */
  get filtered(): number {
    return this.#filtered;
  }

  /** The transport wrote `batch` to the socket: counts it, and times its entries. */
  written(batch: Batch, now: number = performance.now()): void {
    this.#totals.entriesSent += batch.entries;
    this.#totals.bytesSent += batch.bytes.length;
    this.entriesSent += batch.entries;
    this.bytesSent += batch.bytes.length;
    this.#hub.observeLatency(batch.publishedAt, now);
  }

  /** Stops delivery: the writer drains what is queued, then sees the end. */
  close(): void {
    this.#hub.unsubscribe(this);
    this.queue.close();
  }

  /** Stops delivery and drops the connection without draining. */
  terminate(): void {
    this.close();
    this.onTerminate?.();
  }

  /**
   * @internal Runs `run`, the live delivery's calls of {@linkcode wants}, with their time
   * metered against the client's filter budget for the hub's window `window` (see
   * `filter_budget.ts`). The clock is read every eighth entry, not around each: reading it
   * costs as much as a cheap filter. Replays (tail, resume) are bounded by the ring and not
   * metered.
   */
  metered<T>(window: number, run: () => T): T {
    if (this.filter === undefined) return run();
    if (this.#window !== window) {
      this.#window = window;
      this.#filterMs = 0;
    }
    this.#clock = performance.now();
    this.#calls = 0;
    try {
      return run();
    } finally {
      this.#filterMs += performance.now() - this.#clock;
      this.#clock = undefined;
    }
  }

  /** @internal Milliseconds its filter took in the hub's current metering window. */
  get filterMs(): number {
    return this.#window === this.#hub.filterWindow ? this.#filterMs : 0;
  }

  /** @internal Whether the client wants `entry`; counts it when not. */
  wants(entry: PublishedEntry): boolean {
    if (entry.seq <= this.resumeAfter) return false;
    if (this.filter === undefined) return true;
    if (this.#clock !== undefined) {
      if ((++this.#calls & 7) === 0) {
        const now = performance.now();
        this.#filterMs += now - this.#clock;
        this.#clock = now;
      }
      // Over its budget: it is ended after this batch; its filter runs no more meanwhile.
      if (this.#filterMs > CLIENT_FILTER_BUDGET_MS) return false;
    }
    let wanted: boolean;
    try {
      wanted = this.filter.matches(entry.entry);
    } catch {
      // A filter that fails on an entry does not take the client down with it.
      wanted = false;
    }
    if (!wanted) {
      this.#filtered++;
      this.#totals.filtered++;
    }
    return wanted;
  }

  /** @internal Offers a frame; counts a drop. */
  offer(frame: Uint8Array, entry: PublishedEntry, now: number): void {
    if (!this.queue.offer(frame, entry.publishedAt, now)) this.#totals.dropped++;
  }
}

/**
 * A stream's fan-out: numbers entries (or takes the source's numbers), hands each to every
 * client's queue without ever waiting for one, and keeps the last entries for resume and
 * `tail`. It knows no wire format: each client's {@linkcode Codec} frames its entries, and
 * every entry is framed once per codec however many clients use it.
 */
export class Hub {
  readonly #options: HubOptions;
  #filterWindowStart = performance.now();
  readonly #ring: EntryRing;
  readonly #clients = new Set<Subscription>();
  readonly #totals = new Map<string, TransportTotals>();
  #seq = 0;
  #unserializable = 0;

  /** A hub with no entries and no clients. */
  constructor(options: HubOptions) {
    this.#options = options;
    this.#ring = new EntryRing(options.ring);
  }

  /**
   * Publishes a batch read at once, numbered on from the last sequence number, or with the
   * source's own sequence numbers `seqs` (increasing). A batch larger than half the smallest
   * client queue is published in slices of that size with one event-loop turn between them,
   * so that clients that keep up drain their queue meanwhile instead of dropping a burst. A
   * client that does not drain still drops: nothing waits for it.
   */
  async publishAll(entries: readonly LogEntry[], seqs?: readonly number[]): Promise<void> {
    let slice = Infinity;
    for (const client of this.#clients) slice = Math.min(slice, client.queue.limits.entries);
    slice = Math.max(1, Math.floor(slice / 2));
    for (let start = 0; start < entries.length; start += slice) {
      if (start > 0 && this.#clients.size > 0) await nextTurn();
      this.#publish(entries.slice(start, start + slice), seqs?.slice(start, start + slice));
    }
  }

  /** Publishes one entry. */
  publish(entry: LogEntry, seq?: number): void {
    this.#publish([entry], seq === undefined ? undefined : [seq]);
  }

  #publish(entries: readonly LogEntry[], seqs: readonly number[] | undefined): void {
    const now = performance.now();
    const published = entries.map((entry, i) => {
      this.#seq = seqs?.[i] ?? this.#seq + 1;
      const entryJson = this.#serialize(entry);
      return new PublishedEntry(
        this.#seq,
        this.#options.ids.format(this.#seq),
        entry,
        entryJson,
        now,
      );
    });
    for (const entry of published) this.#ring.push(entry);
    if (this.#clients.size === 0) return;
    const history = this.#options.history;
    if (history) this.#catchUpResumed(history, published[0]!.seq);

    const byCodec = new Map<Codec, Subscription[]>();
    for (const client of this.#clients) {
      if (client.catchingUp) continue;
      const clients = byCodec.get(client.codec);
      if (clients) clients.push(client);
      else byCodec.set(client.codec, [client]);
    }
    const wall = Date.now();
    for (const [codec, clients] of byCodec) this.#deliver(codec, clients, published, wall);
    // Past a resume point, nothing more to skip.
    for (const client of this.#clients) if (client.resumeAfter <= this.#seq) client.resumeAfter = 0;
    this.#meterFilters(performance.now());
  }

  /** Frames the entries `clients` want once, and offers each client its frames. */
  #deliver(
    codec: Codec,
    clients: readonly Subscription[],
    entries: readonly PublishedEntry[],
    now: number,
  ): void {
    // Which entries each filtered (or resuming) client wants; the others want them all.
    const first = entries[0]?.seq ?? 0;
    for (const client of clients) if (client.resumeAfter < first) client.resumeAfter = 0;
    const selective = (client: Subscription) =>
      client.filter !== undefined || client.resumeAfter > 0;
    const wants = new Map<Subscription, boolean[]>();
    let wantedByAny: boolean[] | undefined;
    if (clients.every(selective)) {
      wantedByAny = new Array(entries.length).fill(false);
    }
    for (const client of clients) {
      if (!selective(client)) continue;
      const wanted = client.metered(
        this.#filterWindowStart,
        () => entries.map((entry) => client.wants(entry)),
      );
      wants.set(client, wanted);
      if (wantedByAny) wanted.forEach((yes, i) => wantedByAny![i] ||= yes);
    }
    const framed = wantedByAny ? entries.filter((_, i) => wantedByAny![i]) : entries;
    if (framed.length === 0) return;
    const frames = codec.encode(framed);
    const frameOf: (Uint8Array | undefined)[] = new Array(entries.length);
    let next = 0;
    entries.forEach((_, i) => {
      if (!wantedByAny || wantedByAny[i]) frameOf[i] = frames[next++];
    });
    // A filtered client takes a few frames out of a batch's shared buffer; holding views
    // would keep the whole buffer alive while its queue counts only the views. Such frames
    // are copied once, and the copies shared by every filtered client.
    const compact: (Uint8Array | undefined)[] = new Array(entries.length);
    for (const client of clients) {
      const wanted = wants.get(client);
      for (let i = 0; i < entries.length; i++) {
        if (wanted && !wanted[i]) continue;
        let frame = frameOf[i]!;
        if (wanted && frame.byteLength * 4 < frame.buffer.byteLength) {
          frame = compact[i] ??= frame.slice();
        }
        client.offer(frame, entries[i]!, now);
      }
    }
  }

  /**
   * The entry's JSON. Entries come from arbitrary lines; one that cannot be serialized
   * (nesting beyond the stack) is replaced by a note saying so, and counted, rather than
   * ending the process.
   */
  #serialize(entry: LogEntry): string {
    try {
      return JSON.stringify(entry);
    } catch (error) {
      this.#unserializable++;
      return JSON.stringify({
        time: entry.time,
        source: entry.source,
        message: "LogWisp could not serialize this entry",
        fields: { error: error instanceof Error ? error.message : String(error) },
      });
    }
  }

  /**
   * Registers a client. Its codec's greeting comes first; then, with a `lastEventId` of
   * this stream, the ring's entries after it; with one of an earlier run, the whole ring and
   * a gap saying so; else with `tail`, the last entries it wants. All in the same
   * synchronous step as the registration: no gap, no duplicate with what is published next.
   */
  subscribe(options: SubscribeOptions): Subscription {
    const point = options.lastEventId !== undefined
      ? this.#options.ids.parse(options.lastEventId)
      : options.afterSeq !== undefined
      ? { seq: options.afterSeq }
      : undefined;
    const oldest = this.#ring.oldest?.seq ?? this.#seq + 1;
    let backlog: PublishedEntry[] = [];
    let gap: Gap | undefined;
    if (point && "seq" in point) {
      if (point.seq < this.#seq) {
        backlog = this.#ring.after(point.seq);
        if (oldest > point.seq + 1) gap = this.#gap("evicted", point.seq + 1, oldest - 1);
      }
    } else if (point) {
      backlog = this.#ring.after(0);
      gap = { ...this.#gap("restart", 1, oldest - 1), lastEventId: options.lastEventId! };
    }
    const totals = this.totals(options.codec.transport);
    totals.connections++;
    const history = this.#options.history;
    if (history && point && "seq" in point && gap?.reason === "evicted") {
      const subscription = new Subscription(this, options, undefined, totals);
      void this.#catchUp(subscription, history, point.seq);
      return subscription;
    }
    const subscription = new Subscription(this, options, gap, totals);
    // Only a source's own numbering (it has a history) reaches ids this hub has not seen yet.
    if (history && point && "seq" in point && point.seq > this.#seq) {
      subscription.resumeAfter = point.seq;
    }
    const tail = point === undefined && options.tail !== undefined && options.tail > 0
      ? options.tail
      : 0;
    if (tail > 0) {
      backlog = this.#ring.last(tail, (entry) => subscription.wants(entry));
    } else {
      backlog = backlog.filter((entry) => subscription.wants(entry));
    }
    const before = backlog[0]?.seq ?? oldest;
    if (history && tail > backlog.length && before > 1) {
      void this.#tailFromHistory(subscription, history, tail - backlog.length, before);
      return subscription;
    }
    this.#greet(subscription, gap);
    this.#offerAll(subscription, backlog);
    this.#clients.add(subscription);
    this.#options.onClient?.("open", subscription);
    return subscription;
  }

  #greet(subscription: Subscription, gap: Gap | undefined): void {
    const greeting = subscription.codec.greeting({ clientId: subscription.id, gap });
    if (greeting) subscription.queue.force(greeting);
  }

  #offerAll(subscription: Subscription, entries: readonly PublishedEntry[]): void {
    if (entries.length === 0) return;
    const frames = subscription.codec.encode(entries);
    const now = Date.now();
    entries.forEach((entry, i) => subscription.offer(frames[i]!, entry, now));
  }

  /** History entries as the hub hands out entries, those the client wants. */
  #fromHistory(subscription: Subscription, found: readonly HistoryEntry[]): PublishedEntry[] {
    const now = performance.now();
    return found
      .map(({ seq, entry }) =>
        new PublishedEntry(seq, this.#options.ids.format(seq), entry, this.#serialize(entry), now)
      )
      .filter((entry) => subscription.wants(entry));
  }

  /**
   * A client that resumed from a sequence the hub had not reached (a gateway filling its
   * ring after a restart) and whose source starts later than that: the entries in between
   * come from the history, as for any resume from before the ring.
   */
  #catchUpResumed(history: HubHistory, first: number): void {
    for (const client of this.#clients) {
      if (client.resumeAfter === 0 || client.catchingUp || first <= client.resumeAfter + 1) {
        continue;
      }
      client.catchingUp = true;
      void this.#catchUp(client, history, client.resumeAfter, true);
      client.resumeAfter = 0;
    }
  }

  /**
   * A client resuming from before the ring reads the history page by page, each as large as
   * its queue has room for, until it reaches the ring; then it joins the live entries in
   * the same synchronous step as the ring's backlog: no gap, no duplicate. Its greeting says
   * what the history no longer holds (unless it was `greeted` already).
   */
  async #catchUp(
    subscription: Subscription,
    history: HubHistory,
    after: number,
    greeted = false,
  ): Promise<void> {
    const queue = subscription.queue;
    let position = after;
    let failures = 0;
    while (!queue.closed) {
      const oldest = this.#ring.oldest?.seq ?? this.#seq + 1;
      if (position >= oldest - 1) {
        // Joins once the queue has room for the ring's backlog; the ring may move meanwhile.
        const backlog = this.#ring.after(position).length;
        if (queue.limits.entries - queue.length >= backlog || queue.length === 0) break;
        await roomIn(queue, backlog);
        continue;
      }
      const room = await roomIn(queue, queue.limits.entries / 2);
      if (room === 0) return;
      const until = Math.min(oldest - 1, position + room);
      let page: { entries: HistoryEntry[]; firstSeq: number };
      try {
        page = await history.range(position, until);
      } catch {
        if (++failures < CATCH_UP_ATTEMPTS && greeted) {
          await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS * 25));
          continue;
        }
        // The source is away: the ring's entries, and the gap (or drops) say the rest.
        if (greeted) this.totals(subscription.transport).dropped += oldest - 1 - position;
        else this.#greet(subscription, this.#gap("evicted", position + 1, oldest - 1));
        greeted = true;
        position = oldest - 1;
        break;
      }
      failures = 0;
      // What the source no longer holds (its retention) is skipped: said once, or counted.
      const missedTo = Math.min(oldest - 1, page.firstSeq - 1);
      if (!greeted) {
        const gap = missedTo > position ? this.#gap("evicted", position + 1, missedTo) : undefined;
        this.#greet(subscription, gap);
        greeted = true;
        // Registered (for status, heartbeats and farewells) but offered no live entries yet.
        subscription.catchingUp = true;
        this.#clients.add(subscription);
      } else if (missedTo > position) {
        this.totals(subscription.transport).dropped += missedTo - position;
      }
      this.#offerAll(subscription, this.#fromHistory(subscription, page.entries));
      position = Math.max(until, missedTo);
    }
    if (queue.closed) return;
    if (!greeted) this.#greet(subscription, undefined);
    this.#offerAll(
      subscription,
      this.#ring.after(position).filter((entry) => subscription.wants(entry)),
    );
    subscription.catchingUp = false;
    this.#clients.add(subscription);
  }

  /**
   * `tail` beyond the ring: finds where the older entries start in the history, then
   * catches up from there as a resume does, page by page as the queue has room; a tail
   * longer than the queue, plus the ring's part, would not fit in one go.
   */
  async #tailFromHistory(
    subscription: Subscription,
    history: HubHistory,
    count: number,
    before: number,
  ): Promise<void> {
    const filter = subscription.filter;
    let start: number | undefined;
    try {
      const older = await history.last(count, before, (entry) => {
        try {
          return filter === undefined || filter.matches(entry);
        } catch {
          return false;
        }
      });
      start = older[0]?.seq;
    } catch {
      // The source is away: the ring's part of the tail only.
    }
    if (subscription.queue.closed) return;
    if (start !== undefined) {
      await this.#catchUp(subscription, history, start - 1);
      return;
    }
    this.#greet(subscription, undefined);
    // The ring's part, and whatever was published while the history was read.
    this.#offerAll(
      subscription,
      this.#ring.after(before - 1).filter((entry) => subscription.wants(entry)),
    );
    this.#clients.add(subscription);
  }

  #gap(reason: Gap["reason"], from: number, to: number): Gap {
    const missed = Math.max(0, to - from + 1);
    if (missed === 0) return { reason, missed };
    const ids = this.#options.ids;
    return { reason, from: ids.format(from), to: ids.format(to), missed };
  }

  /** @internal Called by {@linkcode Subscription.close}. */
  unsubscribe(subscription: Subscription): void {
    if (this.#clients.delete(subscription)) this.#options.onClient?.("close", subscription);
  }

  /** @internal Called by {@linkcode Subscription.written}. */
  observeLatency(publishedAt: readonly number[], now: number): void {
    const observe = this.#options.observeLatency;
    if (!observe) return;
    for (const at of publishedAt) observe((now - at) / 1000);
  }

  /** Sends `codec`'s heartbeat to each of its clients. */
  heartbeat(codec: Codec, stats: HeartbeatStats, now: Date = new Date()): void {
    const frame = codec.heartbeat(stats, now);
    if (!frame) return;
    for (const client of this.#clients) if (client.codec === codec) client.queue.force(frame);
  }

  /**
   * Ends the clients whose filters took more than their share of the thread this window
   * (see `filter_budget.ts`), with a farewell saying why; a new window starts every second.
   */
  #meterFilters(now: number): void {
    for (const client of overBudget(this.#clients)) {
      this.totals(client.transport).filterDisconnected++;
      bid(client, client.codec.farewell(FILTER_TOO_EXPENSIVE));
    }
    // Each client's time of an earlier window reads as 0 (see Subscription.filterMs).
    if (now - this.#filterWindowStart >= FILTER_WINDOW_MS) this.#filterWindowStart = now;
  }

  /** @internal When the current filter metering window began. */
  get filterWindow(): number {
    return this.#filterWindowStart;
  }

  /** Sends `codec`'s farewell to each of its clients and ends them once they have drained. */
  farewell(codec: Codec, reason: string): void {
    const frame = codec.farewell(reason);
    for (const client of [...this.#clients]) if (client.codec === codec) bid(client, frame);
  }

  /**
   * Disconnects clients of `codecs` whose queue has been full, with nothing taken, for
   * `timeoutMs`: they hold a full queue and gain nothing from it. Returns how many.
   */
  evictSlow(codecs: readonly Codec[], timeoutMs: number, now: number = Date.now()): number {
    let evicted = 0;
    for (const client of [...this.#clients]) {
      const since = client.queue.fullSince;
      if (!codecs.includes(client.codec) || since === undefined || now - since < timeoutMs) {
        continue;
      }
      this.totals(client.transport).slowDisconnected++;
      evicted++;
      client.terminate();
    }
    return evicted;
  }

  /** Connected clients, for status; read only. */
  get clients(): Iterable<Subscription> {
    return this.#clients.values();
  }

  /** How many clients are connected through `codecs` (all when not given). */
  clientCount(codecs?: readonly Codec[]): number {
    if (codecs === undefined) return this.#clients.size;
    let count = 0;
    for (const client of this.#clients) if (codecs.includes(client.codec)) count++;
    return count;
  }

  /** The counters of `transport`, created at zero on first use. */
  totals(transport: string): TransportTotals {
    let totals = this.#totals.get(transport);
    if (!totals) {
      totals = {
        connections: 0,
        entriesSent: 0,
        bytesSent: 0,
        dropped: 0,
        filtered: 0,
        slowDisconnected: 0,
        filterDisconnected: 0,
      };
      this.#totals.set(transport, totals);
    }
    return totals;
  }

  /** Every transport's counters so far. */
  get transportTotals(): ReadonlyMap<string, Readonly<TransportTotals>> {
    return this.#totals;
  }

  /** The last sequence number given out. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Entries dropped for full client queues, over all clients ever connected. */
  get droppedEntries(): number {
    return this.#sum("dropped");
  }

  /** Clients disconnected because their filter took too much of the thread. */
  get filterDisconnected(): number {
    return this.#sum("filterDisconnected");
  }

  /** Clients disconnected by {@linkcode Hub.evictSlow}. */
  get slowDisconnected(): number {
    return this.#sum("slowDisconnected");
  }

  /** One counter of every transport, added up. */
  #sum(counter: keyof TransportTotals): number {
    let sum = 0;
    for (const totals of this.#totals.values()) sum += totals[counter];
    return sum;
  }

  /** Entries that could not be serialized and were replaced by a note. */
  get unserializableEntries(): number {
    return this.#unserializable;
  }

  /** Entries and bytes the ring keeps now. */
  get ring(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.#ring.size, bytes: this.#ring.bytes };
  }
}

/**
 * Waits until `queue` has room for `need` entries (or is empty) and is at most half full in
 * bytes; returns how many entries it has room for, 0 once it is closed.
 */
async function roomIn(queue: ClientQueue, need: number): Promise<number> {
  const { entries, bytes } = queue.limits;
  const wanted = Math.min(need, entries);
  while (
    !queue.closed && queue.length > 0 &&
    (entries - queue.length < wanted || queue.bytes > bytes / 2)
  ) {
    await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
  }
  return queue.closed ? 0 : entries - queue.length;
}

/** Queues `frame` (a farewell) past the client's limits, then ends it once it has drained. */
function bid(client: Subscription, frame: Uint8Array | undefined): void {
  if (frame) client.queue.force(frame);
  client.close();
}
