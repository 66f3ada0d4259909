import type { PublishedEntry } from "./published_entry.ts";

/** How much a ring keeps. */
export interface RingLimits {
  /** Entries kept at most; 0 keeps none. */
  readonly entries: number;
  /** Bytes kept at most (by {@linkcode PublishedEntry.weight}); the oldest go first. */
  readonly bytes: number;
}

/**
 * The last entries of a stream, for resume (`Last-Event-ID`) and `tail=N`, bounded in
 * entries and in bytes: a stream of 1 MiB lines keeps fewer of them rather than more memory.
 * Sequence numbers increase but may skip (a JetStream source filtered by subject).
 */
export class EntryRing {
  readonly #limits: RingLimits;
  #entries: PublishedEntry[] = [];
  /** Index of the oldest kept entry in `#entries`; dropped entries are compacted away in bulk. */
  #start = 0;
  #bytes = 0;

  /** An empty ring bounded by `limits`. */
  constructor(limits: RingLimits) {
    this.#limits = limits;
  }

  /** Keeps `entry`, letting the oldest go while over a limit. */
  push(entry: PublishedEntry): void {
    if (this.#limits.entries === 0) return;
    this.#entries.push(entry);
    this.#bytes += entry.weight;
    while (
      this.size > this.#limits.entries || (this.#bytes > this.#limits.bytes && this.size > 1)
    ) {
      this.#bytes -= this.#entries[this.#start]!.weight;
      this.#entries[this.#start++] = undefined!;
    }
    if (this.#start > 1024 && this.#start * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#start);
      this.#start = 0;
    }
  }

  /** Entries kept. */
  get size(): number {
    return this.#entries.length - this.#start;
  }

  /** Bytes kept, by {@linkcode PublishedEntry.weight}. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The oldest entry kept. */
  get oldest(): PublishedEntry | undefined {
    return this.#entries[this.#start];
  }

  /** The kept entries with a sequence number above `seq`, oldest first. */
  after(seq: number): PublishedEntry[] {
    // Binary search: the first kept entry beyond `seq`.
    let low = this.#start;
    let high = this.#entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#entries[middle]!.seq <= seq) low = middle + 1;
      else high = middle;
    }
    return this.#entries.slice(low);
  }

  /** The last `count` kept entries that `accept` takes, oldest first. */
  last(count: number, accept: (entry: PublishedEntry) => boolean = () => true): PublishedEntry[] {
    const found: PublishedEntry[] = [];
    for (let i = this.#entries.length - 1; i >= this.#start && found.length < count; i--) {
      const entry = this.#entries[i]!;
      if (accept(entry)) found.push(entry);
    }
    return found.reverse();
  }
}
