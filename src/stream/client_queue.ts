/**
 * One client's queue of encoded frames (SPEC §5): bounded in entries, never blocking the
 * publisher. When it is full new entries are dropped and counted; control frames
 * (heartbeats, gap and disconnect events) always get in.
 */
export class ClientQueue {
  readonly #capacity: number;
  #frames: Uint8Array[] = [];
  /** Entry frames among `#frames`; control frames do not count against the capacity. */
  #entries = 0;
  #dropped = 0;
  #taken = 0;
  #fullSince: number | undefined;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Queues an entry frame; false when the queue is full and the entry was dropped. */
  offer(frame: Uint8Array, now: number = Date.now()): boolean {
    if (this.#closed) return false;
    if (this.#entries >= this.#capacity) {
      this.#dropped++;
      this.#fullSince ??= now;
      return false;
    }
    this.#frames.push(frame);
    this.#entries++;
    this.#wake?.();
    return true;
  }

  /** Queues a control frame whatever the fill level. */
  force(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#frames.push(frame);
    this.#wake?.();
  }

  /**
   * Waits for frames and returns all queued ones as one buffer, so the writer makes one
   * write for many entries. Resolves null once closed and drained.
   */
  async take(): Promise<Uint8Array | null> {
    while (this.#frames.length === 0) {
      if (this.#closed) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
    const frames = this.#frames;
    this.#frames = [];
    this.#taken += this.#entries;
    this.#entries = 0;
    this.#fullSince = undefined;
    return frames.length === 1 ? frames[0]! : concat(frames);
  }

  /** No more frames: `take()` drains what is queued, then resolves null. */
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  /** Entries the queue holds at most. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Entries waiting. */
  get length(): number {
    return this.#entries;
  }

  /** Entries dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Entries handed to the writer. */
  get taken(): number {
    return this.#taken;
  }

  /** Since when entries have been dropped without the writer taking any, if they are. */
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
