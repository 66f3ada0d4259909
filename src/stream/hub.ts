import { nextTurn } from "../async.ts";
import type { LogEntry } from "../entry/entry.ts";
import { ClientQueue } from "./client_queue.ts";

/** The wire formats entries go out in. */
export type Transport = "sse" | "tcp";

const encoder = new TextEncoder();

/**
 * An entry as clients receive it: serialized to JSON once, and encoded once per wire
 * format however many clients get it.
 */
export class PublishedEntry {
  readonly seq: number;
  readonly json: string;
  #sse: Uint8Array | undefined;
  #line: Uint8Array | undefined;

  constructor(seq: number, entry: LogEntry) {
    this.seq = seq;
    this.json = JSON.stringify(entry);
  }

  /**
   * The frame in `transport`'s format: `id: <seq>` / `data: <json>`, a default `message`
   * event (SPEC §5.1), or one NDJSON line (SPEC §5.2).
   */
  text(transport: Transport): string {
    return transport === "sse" ? `id: ${this.seq}\ndata: ${this.json}\n\n` : `${this.json}\n`;
  }

  /** The encoded frame: from the batch it was published in, else encoded now. */
  frame(transport: Transport): Uint8Array {
    if (transport === "sse") return this.#sse ??= encoder.encode(this.text(transport));
    return this.#line ??= encoder.encode(this.text(transport));
  }

  /** @internal Set by {@linkcode encodeFrames}. */
  setFrame(transport: Transport, bytes: Uint8Array): void {
    if (transport === "sse") this.#sse = bytes;
    else this.#line = bytes;
  }
}

/**
 * Encodes the frames of a batch in one call: one encode per entry would cost more than
 * serializing it. Each entry keeps its own view of the shared buffer, so frames published
 * together stay adjacent and a client queue can hand them to the socket without copying.
 */
function encodeFrames(entries: readonly PublishedEntry[], transport: Transport): void {
  const texts = entries.map((entry) => entry.text(transport));
  const joined = texts.join("");
  const bytes = encoder.encode(joined);
  // As many bytes as characters: all ASCII, so each frame's length is its text's.
  const ascii = bytes.length === joined.length;
  let offset = 0;
  for (let i = 0; i < entries.length; i++) {
    const length = ascii ? texts[i]!.length : utf8Length(texts[i]!);
    entries[i]!.setFrame(transport, bytes.subarray(offset, offset + length));
    offset += length;
  }
}

const NON_ASCII = /[\u0080-\uffff]/;

/** The length of `text` in UTF-8, as TextEncoder writes it (a lone surrogate as U+FFFD). */
export function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (
      code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

/** Sequence numbers a resuming client missed because they left the ring. */
export interface Gap {
  readonly from: number;
  readonly to: number;
}

/** Who is subscribing. */
export interface SubscribeOptions {
  readonly transport: Transport;
  readonly remoteAddr: string;
  readonly bufferSize: number;
  /** Resume after this sequence number (SSE `Last-Event-ID`): the ring's later entries are queued first. */
  readonly after?: number | undefined;
}

/** One connected client of a hub. */
export class Subscription {
  readonly id: string = crypto.randomUUID();
  readonly transport: Transport;
  readonly remoteAddr: string;
  readonly connectedAt: Date = new Date();
  readonly queue: ClientQueue;
  /** Entries the client asked to resume from that are no longer in the ring. */
  readonly gap: Gap | undefined;
  /** Set by the transport: ends the connection now, even mid-write to a client that does not read. */
  onTerminate: (() => void) | undefined;
  readonly #hub: Hub;

  /** @internal Created by {@linkcode Hub.subscribe}. */
  constructor(hub: Hub, options: SubscribeOptions, gap: Gap | undefined) {
    this.#hub = hub;
    this.transport = options.transport;
    this.remoteAddr = options.remoteAddr;
    this.queue = new ClientQueue(options.bufferSize);
    this.gap = gap;
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
}

/**
 * A stream's fan-out (SPEC §5): numbers entries from 1, hands each to every client's
 * queue without ever waiting for one, and keeps the last entries for SSE resume.
 */
export class Hub {
  readonly #ring: (PublishedEntry | undefined)[];
  readonly #clients = new Set<Subscription>();
  #seq = 0;
  #dropped = 0;
  #evicted = 0;

  /** `ringSize`: entries kept for resume (the HTTP server's `buffer_size`; 0 without one). */
  constructor(ringSize: number) {
    this.#ring = new Array(ringSize);
  }

  /**
   * Publishes a batch read at once. A batch larger than half the smallest client queue is
   * published in slices of that size with one event-loop turn between them, so that
   * clients that keep up drain their queue meanwhile instead of dropping a burst. A
   * client that does not drain still drops: nothing waits for it.
   */
  async publishAll(entries: readonly LogEntry[]): Promise<void> {
    let slice = Infinity;
    for (const client of this.#clients) slice = Math.min(slice, client.queue.capacity);
    slice = Math.max(1, Math.floor(slice / 2));
    for (let start = 0; start < entries.length; start += slice) {
      if (start > 0 && this.#clients.size > 0) await nextTurn();
      this.#publish(entries.slice(start, start + slice));
    }
  }

  /** Numbers the entry and offers it to every client; a full client queue drops it and counts. */
  publish(entry: LogEntry): void {
    this.#publish([entry]);
  }

  #publish(entries: readonly LogEntry[]): void {
    const published = entries.map((entry) => new PublishedEntry(++this.#seq, entry));
    if (this.#ring.length > 0) {
      for (const entry of published) this.#ring[entry.seq % this.#ring.length] = entry;
    }
    if (this.#clients.size === 0) return;
    const transports = new Set<Transport>();
    for (const client of this.#clients) transports.add(client.transport);
    for (const transport of transports) encodeFrames(published, transport);
    const now = Date.now();
    for (const entry of published) {
      for (const client of this.#clients) {
        if (!client.queue.offer(entry.frame(client.transport), now)) this.#dropped++;
      }
    }
  }

  /**
   * Registers a client. With `after`, the entries after it still in the ring are queued
   * first, in the same synchronous step as the registration: no gap, no duplicate.
   */
  subscribe(options: SubscribeOptions): Subscription {
    const backlog = options.after === undefined ? [] : this.#since(options.after);
    const first = backlog[0]?.seq ?? this.#seq + 1;
    const wanted = options.after === undefined || options.after > this.#seq
      ? first
      : options.after + 1;
    const gap = wanted < first ? { from: wanted, to: first - 1 } : undefined;
    const subscription = new Subscription(this, options, gap);
    for (const entry of backlog) subscription.queue.offer(entry.frame(options.transport));
    this.#clients.add(subscription);
    return subscription;
  }

  /** @internal Called by {@linkcode Subscription.close}. */
  unsubscribe(subscription: Subscription): void {
    this.#clients.delete(subscription);
  }

  /**
   * Disconnects clients of `transport` whose queue has been full, with nothing taken,
   * for `maxFullMs` (SPEC §5): they hold a full queue and gain nothing from it.
   */
  evictStuck(transport: Transport, maxFullMs: number, now: number): void {
    for (const client of this.#clients) {
      const since = client.queue.fullSince;
      if (client.transport === transport && since !== undefined && now - since >= maxFullMs) {
        this.#evicted++;
        client.terminate();
      }
    }
  }

  /** Connected clients. */
  get clients(): ReadonlySet<Subscription> {
    return this.#clients;
  }

  /** How many clients of `transport` are connected. */
  clientCount(transport: Transport): number {
    let count = 0;
    for (const client of this.#clients) if (client.transport === transport) count++;
    return count;
  }

  /** The last sequence number given out: the number of entries published. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Entries dropped for full client queues, over all clients ever connected. */
  get droppedEntries(): number {
    return this.#dropped;
  }

  /** Clients disconnected by {@linkcode Hub.evictStuck}. */
  get evictedClients(): number {
    return this.#evicted;
  }

  /**
   * The ring's entries after `after`. An `after` beyond the last sequence number comes
   * from before a restart: everything in the ring is new to that client.
   */
  #since(after: number): PublishedEntry[] {
    const size = this.#ring.length;
    const oldest = Math.max(1, this.#seq - size + 1);
    const from = after > this.#seq ? oldest : Math.max(after + 1, oldest);
    const entries: PublishedEntry[] = [];
    for (let seq = from; seq <= this.#seq; seq++) entries.push(this.#ring[seq % size]!);
    return entries;
  }
}
