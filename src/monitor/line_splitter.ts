/** Options of a {@linkcode LineSplitter}. */
export interface LineSplitterOptions {
  /** Longest line kept whole, in bytes before its `\n` (a `\r` counts); longer lines are cut. */
  readonly maxLineBytes: number;
}

/**
 * Called once per complete line; `truncated` when the line was cut at maxLineBytes. `end`
 * says where the line ends in the chunk given to {@linkcode LineSplitter.push}: the byte
 * after its newline, or after the cut (0 for a line emitted by `flush`). Added to the
 * chunk's offset in its file, it names the line (publishing's de-duplication ids).
 */
export type LineSink = (line: string, truncated: boolean, end: number) => void;

// ignoreBOM keeps a U+FEFF as text: otherwise each decode call would drop one at its start,
// and the lines would depend on where chunks and decode calls begin.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const LF = 10;
const CR = 13;
const EMPTY = new Uint8Array(0);
// A buffer grown past this for one long partial line is dropped once that line is done: each
// followed file has a splitter, and most never need more.
const RETAINED_BUFFER_BYTES = 64 * 1024;

/**
 * Emits the lines of `block`, which holds whole lines without the final `\n`; `offset` is
 * where the block starts in the chunk pushed (negative when it starts in held bytes).
 */
function emitBlock(block: Uint8Array, sink: LineSink, offset: number): void {
  // A `\n` byte never occurs inside a UTF-8 sequence, so decoding the block in one call and
  // splitting the text gives the same lines as decoding line by line, much faster; each
  // `\n` of the text is the next `\n` byte of the block, which gives the line's end.
  const text = decoder.decode(block);
  let start = 0;
  let byte = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const newline = end === text.length ? block.length : block.indexOf(LF, byte);
    const stop = end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end;
    if (stop > start) sink(text.slice(start, stop), false, offset + newline + 1);
    start = end + 1;
    byte = newline + 1;
  }
}

/**
 * Splits the bytes of a followed file into lines, holding an incomplete last line until its
 * newline arrives.
 *
 * Lines end at `\n`; one trailing `\r` is dropped; empty lines are skipped. Bytes are
 * decoded as UTF-8, invalid sequences becoming U+FFFD. A line longer than `maxLineBytes` is
 * cut at a character boundary, emitted once as truncated, and the rest of it is skipped
 * without being held.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #buffer: Uint8Array = EMPTY;
  #pending = 0;
  #skipping = false;
  #truncatedLines = 0;

  /**
   * A splitter with no bytes held.
   * @throws {RangeError} When `maxLineBytes` is not a positive integer.
   */
  constructor(options: LineSplitterOptions) {
    const { maxLineBytes } = options;
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`Max line bytes must be a positive integer, got ${maxLineBytes}`);
    }
    this.#maxLineBytes = maxLineBytes;
  }

  /**
   * Bytes held for an incomplete last line (counts only bytes kept, not bytes skipped of an
   * over-long line).
   */
  get pendingBytes(): number {
    return this.#pending;
  }

  /** Lines cut at maxLineBytes so far. */
  get truncatedLines(): number {
    return this.#truncatedLines;
  }

  /**
   * Feeds the next bytes of the file. The caller reuses `chunk` after push returns: copy only
   * what must be held.
   */
  push(chunk: Uint8Array, sink: LineSink): void {
    const max = this.#maxLineBytes;
    let pos = 0;
    if (this.#skipping) {
      const newline = chunk.indexOf(LF);
      if (newline === -1) return;
      this.#skipping = false;
      pos = newline + 1;
    } else if (this.#pending > 0) {
      const newline = chunk.indexOf(LF);
      const lineEnd = newline === -1 ? chunk.length : newline;
      if (this.#pending + lineEnd > max) {
        // Hold one byte past the limit: it tells whether the cut splits a character.
        const cut = max + 1 - this.#pending;
        this.#hold(chunk.subarray(0, cut));
        this.#emitCut(this.#take(), sink, cut);
        if (newline === -1) {
          this.#skipping = true;
          return;
        }
      } else {
        this.#hold(chunk.subarray(0, lineEnd));
        if (newline === -1) return;
        const held = this.#take();
        emitBlock(held, sink, lineEnd - held.length);
      }
      pos = newline + 1;
    }

    const last = chunk.lastIndexOf(LF);
    // Decode whole lines in blocks of at most max bytes, each ending at a newline: no line in
    // such a block can be over-long. A block that would hold no newline starts an over-long line.
    while (pos <= last) {
      if (last - pos <= max) {
        emitBlock(chunk.subarray(pos, last), sink, pos);
        pos = last + 1;
        break;
      }
      const newline = chunk.lastIndexOf(LF, pos + max);
      if (newline >= pos) {
        emitBlock(chunk.subarray(pos, newline), sink, pos);
        pos = newline + 1;
      } else {
        this.#emitCut(chunk.subarray(pos, pos + max + 1), sink, pos + max + 1);
        pos = chunk.indexOf(LF, pos + max + 1) + 1;
      }
    }

    const rest = chunk.length - pos;
    if (rest > max) {
      this.#emitCut(chunk.subarray(pos, pos + max + 1), sink, pos + max + 1);
      this.#skipping = true;
    } else if (rest > 0) {
      this.#hold(chunk.subarray(pos));
    }
  }

  /**
   * Emits the held partial last line, if any (the file was rotated away or deleted), and
   * clears it.
   */
  flush(sink: LineSink): void {
    // A new file follows: an over-long line being skipped has ended too.
    this.#skipping = false;
    if (this.#pending === 0) return;
    const held = this.#take();
    emitBlock(held, sink, -held.length - 1);
  }

  /** Appends to the held partial line; the caller keeps the total within max + 1 bytes. */
  #hold(bytes: Uint8Array): void {
    const needed = this.#pending + bytes.length;
    if (needed > this.#buffer.length) {
      const size = Math.min(Math.max(needed, this.#buffer.length * 2, 256), this.#maxLineBytes + 1);
      const buffer = new Uint8Array(size);
      buffer.set(this.#buffer.subarray(0, this.#pending));
      this.#buffer = buffer;
    }
    this.#buffer.set(bytes, this.#pending);
    this.#pending = needed;
  }

  /** Returns the held bytes and clears them, before the sink runs, should it throw. */
  #take(): Uint8Array {
    const held = this.#buffer.subarray(0, this.#pending);
    this.#pending = 0;
    if (this.#buffer.length > RETAINED_BUFFER_BYTES) this.#buffer = EMPTY;
    return held;
  }

  /**
   * Emits the first max bytes of `line` (max + 1 bytes of an over-long line) as truncated;
   * `end` is where those max + 1 bytes end in the chunk pushed.
   */
  #emitCut(line: Uint8Array, sink: LineSink, end: number): void {
    let cut = this.#maxLineBytes;
    // Back off over continuation bytes (10xxxxxx) so the first excluded byte starts a
    // character; a UTF-8 character has at most 3 of them, invalid runs are cut anyway.
    for (let i = 0; i < 3 && cut > 0 && (line[cut]! & 0xc0) === 0x80; i++) cut--;
    this.#truncatedLines++;
    sink(decoder.decode(line.subarray(0, cut)), true, end);
  }
}
