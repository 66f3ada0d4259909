/** How much one client's queue may hold. */
export interface QueueLimits {
  /** Entry frames at most (`buffer_size`). */
  readonly entries: number;
  /** Bytes of entry frames at most (`buffer_bytes`). */
  readonly bytes: number;
}

/** What the writer takes from a queue at once. */
export interface Batch {
  /** Every waiting frame as one buffer: one write for many entries. */
  readonly bytes: Uint8Array;
  /** How many entry frames it holds (control frames do not count). */
  readonly entries: number;
  /** `performance.now()` at which each of those entries was published. */
  readonly publishedAt: readonly number[];
}

/**
 * Most bytes handed to a writer at once (unless one frame is larger): what waits in a
 * write to a client that stopped reading is a copy of this much, not of the whole queue.
 */
export const MAX_BATCH_BYTES = 256 * 1024;

/**
 * One client's queue of encoded frames: bounded in entries and in bytes, never blocking the
 * publisher. When either bound is reached new entries are dropped and counted; control
 * frames (greetings, heartbeats, farewells) always get in.
 */
export class ClientQueue {
  readonly #limits: QueueLimits;
  #frames: Uint8Array[] = [];
  /** For each of `#frames`: when its entry was published, or undefined for a control frame. */
  #publishedAt: (number | undefined)[] = [];
  /** Entry frames among `#frames`. */
  #entries = 0;
  #bytes = 0;
  #dropped = 0;
  #takenEntries = 0;
  #takenBytes = 0;
  #fullSince: number | undefined;
  #closed = false;
  #wake: (() => void) | undefined;

  /** An empty queue bounded by `limits`. */
  constructor(limits: QueueLimits) {
    this.#limits = limits;
  }

  /**
   * Queues an entry frame published at `publishedAt`; false when the queue is full and the
   * entry was dropped. `now` (epoch ms) marks since when it is full.
   */
  offer(frame: Uint8Array, publishedAt: number, now: number = Date.now()): boolean {
    if (this.#closed) return false;
    const full = this.#entries >= this.#limits.entries ||
      // One frame larger than the whole budget still gets through an empty queue.
      (this.#entries > 0 && this.#bytes + frame.length > this.#limits.bytes);
    if (full) {
      this.#dropped++;
      this.#fullSince ??= now;
      return false;
    }
    this.#frames.push(frame);
    this.#publishedAt.push(publishedAt);
    this.#entries++;
    this.#bytes += frame.length;
    this.#wake?.();
    return true;
  }

  /** Queues a control frame whatever the fill level. */
  force(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#frames.push(frame);
    this.#publishedAt.push(undefined);
    this.#bytes += frame.length;
    this.#wake?.();
  }

  /**
   * Waits for frames and returns the queued ones, up to {@linkcode MAX_BATCH_BYTES}, as one
   * batch. Resolves null once closed and drained.
   */
  async take(): Promise<Batch | null> {
    while (this.#frames.length === 0) {
      if (this.#closed) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
    // Frames up to MAX_BATCH_BYTES; entry frames are those with a publish time, in order.
    let count = 0;
    let bytes = 0;
    while (count < this.#frames.length) {
      const length = this.#frames[count]!.length;
      if (count > 0 && bytes + length > MAX_BATCH_BYTES) break;
      bytes += length;
      count++;
    }
    const frames = this.#frames.splice(0, count);
    const publishedAt = this.#publishedAt.splice(0, count)
      .filter((at): at is number => at !== undefined);
    const entries = publishedAt.length;
    const batch: Batch = {
      bytes: frames.length === 1 ? frames[0]! : concat(frames),
      entries,
      publishedAt,
    };
    this.#takenEntries += entries;
    this.#takenBytes += bytes;
    this.#entries -= entries;
    this.#bytes -= bytes;
    this.#fullSince = undefined;
    return batch;
  }

  /** No more frames: `take()` drains what is queued, then resolves null. */
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The bounds it was made with. */
  get limits(): QueueLimits {
    return this.#limits;
  }

  /** Entries waiting. */
  get length(): number {
    return this.#entries;
  }

  /** Bytes waiting, control frames included. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Entries handed to the writer. */
  get taken(): number {
    return this.#takenEntries;
  }

  /** Bytes handed to the writer, control frames included. */
  get takenBytes(): number {
    return this.#takenBytes;
  }

  /** Since when (epoch ms) entries have been dropped without the writer taking any, if they are. */
  get fullSince(): number | undefined {
    return this.#fullSince;
  }
}

function concat(frames: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const frame of frames) length += frame.length;
  // Frames published in one batch are adjacent views of one buffer: one view covers them.
  const first = frames[0]!;
  let end = first.byteOffset;
  const adjacent = frames.every((frame) => {
    const next = frame.buffer === first.buffer && frame.byteOffset === end;
    end += frame.length;
    return next;
  });
  if (adjacent) return new Uint8Array(first.buffer, first.byteOffset, length);
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const frame of frames) {
    joined.set(frame, offset);
    offset += frame.length;
  }
  return joined;
}
