/**
 * Incremental decoding of client-to-server WebSocket frames (RFC 6455 section 5), strict
 * about everything a client may get wrong.
 *
 * @module
 */
import { CLOSE_CODE, isValidCloseCode } from "./close_code.ts";
import { MAX_CONTROL_PAYLOAD, OPCODE } from "./frame.ts";

/** What the client sent, message by message; `error` means the connection must be failed. */
export type WebSocketEvent =
  | { readonly type: "text"; readonly data: string }
  | { readonly type: "binary"; readonly data: Uint8Array }
  | { readonly type: "ping"; readonly data: Uint8Array }
  | { readonly type: "pong"; readonly data: Uint8Array }
  /** `code` is 1005 when the close frame had no payload. */
  | { readonly type: "close"; readonly code: number; readonly reason: string }
  /** The client broke the protocol: send a close frame with `code` and `reason`, then end. */
  | { readonly type: "error"; readonly code: number; readonly reason: string };

/** The largest message a client may send by default: a JSON hello with filters fits easily. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

/** How a {@linkcode FrameDecoder} judges input. */
export interface FrameDecoderOptions {
  /** The largest message, all its fragments together, in bytes. Default 64 KiB. */
  readonly maxMessageBytes?: number | undefined;
}

/** The header of a masked client frame: 2 bytes, up to 8 of extended length, 4 of mask. */
const MAX_HEADER = 14;
const NO_MESSAGE = -1;

/**
 * Turns a client's byte stream, cut anywhere, into {@linkcode WebSocketEvent}s.
 *
 * Memory is bounded by `maxMessageBytes`: a frame whose declared length would take its
 * message over the limit is refused as soon as the length is read, before any of its
 * payload arrives. After a `close` or an `error` event the decoder ignores further input.
 * No extension is negotiated by this server, so any reserved bit set is a protocol error.
 */
export class FrameDecoder {
  readonly #maxMessageBytes: number;
  readonly #header = new Uint8Array(MAX_HEADER);
  #headerFilled = 0;
  #headerNeeded = 2;
  #inPayload = false;
  #fin = false;
  #opcode = 0;
  readonly #mask = new Uint8Array(4);
  #maskIndex = 0;
  #remaining = 0;
  readonly #control = new Uint8Array(MAX_CONTROL_PAYLOAD);
  #controlFilled = 0;
  /** The opcode of the message being assembled, or NO_MESSAGE. */
  #messageOpcode = NO_MESSAGE;
  #messageBytes = 0;
  #textParts: string[] = [];
  #binaryParts: Uint8Array[] = [];
  // ignoreBOM: a leading U+FEFF is message content, not a marker to strip.
  readonly #utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  #done = false;

  /**
   * A decoder for one connection.
   *
   * @throws {RangeError} when `maxMessageBytes` is not a non-negative safe integer
   */
  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`Invalid maximum message size ${JSON.stringify(max)}`);
    }
    this.#maxMessageBytes = max;
  }

  /** Whether a close frame or a protocol error has ended decoding. */
  get done(): boolean {
    return this.#done;
  }

  /** Decodes `chunk` (the decoder keeps no reference to it); returns the events it completes. */
  push(chunk: Uint8Array): WebSocketEvent[] {
    const events: WebSocketEvent[] = [];
    let position = 0;
    while (position < chunk.length && !this.#done) {
      if (this.#inPayload) {
        const take = Math.min(this.#remaining, chunk.length - position);
        const failure = this.#payload(chunk.subarray(position, position + take));
        position += take;
        this.#remaining -= take;
        if (failure) this.#fail(events, failure);
        else if (this.#remaining === 0) this.#endFrame(events);
        continue;
      }
      const take = Math.min(this.#headerNeeded - this.#headerFilled, chunk.length - position);
      this.#header.set(chunk.subarray(position, position + take), this.#headerFilled);
      this.#headerFilled += take;
      position += take;
      if (this.#headerFilled < this.#headerNeeded) continue;
      const failure = this.#headerFilled === 2 ? this.#startHeader() : this.#endHeader();
      if (failure) this.#fail(events, failure);
      else if (this.#inPayload && this.#remaining === 0) this.#endFrame(events);
    }
    return events;
  }

  /** Checks the first two bytes, which tell how long the rest of the header is. */
  #startHeader(): Failure | undefined {
    const first = this.#header[0]!;
    const second = this.#header[1]!;
    this.#fin = (first & 0x80) !== 0;
    this.#opcode = first & 0x0f;
    const length = second & 0x7f;
    if ((first & 0x70) !== 0) return protocolError("Reserved bits set without an extension");
    if (!KNOWN_OPCODES.has(this.#opcode)) {
      return protocolError(`Unknown opcode ${this.#opcode}`);
    }
    if (isControl(this.#opcode)) {
      if (!this.#fin) return protocolError("Fragmented control frame");
      if (length > MAX_CONTROL_PAYLOAD) {
        return protocolError(`Control frame over ${MAX_CONTROL_PAYLOAD} bytes`);
      }
    } else if (this.#opcode === OPCODE.CONTINUATION) {
      if (this.#messageOpcode === NO_MESSAGE) {
        return protocolError("Continuation without a message");
      }
    } else if (this.#messageOpcode !== NO_MESSAGE) {
      return protocolError("New message before the fragmented one ended");
    }
    if ((second & 0x80) === 0) return protocolError("Unmasked client frame");
    this.#headerNeeded = 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + 4;
    return undefined;
  }

  /** Reads the length and the mask once the whole header is in. */
  #endHeader(): Failure | undefined {
    const header = this.#header;
    const short = header[1]! & 0x7f;
    let length: number;
    if (short < 126) {
      length = short;
    } else if (short === 126) {
      length = header[2]! << 8 | header[3]!;
    } else {
      const high = readUint32(header, 2);
      if (high >= 0x8000_0000) return protocolError("Frame length with the top bit set");
      // Above 2^53 the sum is rounded, but it is still far beyond any limit: nothing is allocated.
      length = high * 0x1_0000_0000 + readUint32(header, 6);
    }
    this.#mask.set(header.subarray(this.#headerNeeded - 4, this.#headerNeeded));
    this.#maskIndex = 0;
    this.#headerFilled = 0;
    this.#headerNeeded = 2;
    if (!isControl(this.#opcode)) {
      if (this.#opcode !== OPCODE.CONTINUATION) {
        this.#messageOpcode = this.#opcode;
        this.#messageBytes = 0;
      }
      if (length > this.#maxMessageBytes - this.#messageBytes) {
        return {
          code: CLOSE_CODE.MESSAGE_TOO_BIG,
          reason: `Message over ${this.#maxMessageBytes} bytes`,
        };
      }
    }
    this.#inPayload = true;
    this.#remaining = length;
    this.#controlFilled = 0;
    return undefined;
  }

  /** Unmasks one piece of payload into the control buffer or the message being assembled. */
  #payload(masked: Uint8Array): Failure | undefined {
    if (isControl(this.#opcode)) {
      unmask(masked, this.#mask, this.#maskIndex, this.#control, this.#controlFilled);
      this.#controlFilled += masked.length;
    } else {
      const bytes = new Uint8Array(masked.length);
      unmask(masked, this.#mask, this.#maskIndex, bytes, 0);
      this.#messageBytes += bytes.length;
      if (this.#messageOpcode === OPCODE.TEXT) {
        // Checked as it arrives, so a client cannot park invalid text up to the limit.
        try {
          this.#textParts.push(this.#utf8.decode(bytes, { stream: true }));
        } catch {
          return invalidText("Text message");
        }
      } else {
        this.#binaryParts.push(bytes);
      }
    }
    this.#maskIndex = (this.#maskIndex + masked.length) & 3;
    return undefined;
  }

  #endFrame(events: WebSocketEvent[]): void {
    this.#inPayload = false;
    if (isControl(this.#opcode)) {
      const data = this.#control.slice(0, this.#controlFilled);
      if (this.#opcode === OPCODE.PING) events.push({ type: "ping", data });
      else if (this.#opcode === OPCODE.PONG) events.push({ type: "pong", data });
      else {
        const close = parseClose(data);
        if ("type" in close) {
          events.push(close);
          this.#done = true;
        } else this.#fail(events, close);
      }
      return;
    }
    if (!this.#fin) return;
    if (this.#messageOpcode === OPCODE.TEXT) {
      let tail: string;
      try {
        tail = this.#utf8.decode();
      } catch {
        this.#fail(events, invalidText("Text message"));
        return;
      }
      this.#textParts.push(tail);
      events.push({ type: "text", data: this.#textParts.join("") });
      this.#textParts = [];
    } else {
      events.push({ type: "binary", data: concat(this.#binaryParts, this.#messageBytes) });
      this.#binaryParts = [];
    }
    this.#messageOpcode = NO_MESSAGE;
    this.#messageBytes = 0;
  }

  #fail(events: WebSocketEvent[], failure: Failure): void {
    events.push({ type: "error", ...failure });
    this.#done = true;
    this.#textParts = [];
    this.#binaryParts = [];
  }
}

/** Why the connection fails: the close code to send and a short reason. */
interface Failure {
  readonly code: number;
  readonly reason: string;
}

const KNOWN_OPCODES: ReadonlySet<number> = new Set(Object.values(OPCODE));

const isControl = (opcode: number): boolean => (opcode & 0x08) !== 0;

const protocolError = (reason: string): Failure => ({ code: CLOSE_CODE.PROTOCOL_ERROR, reason });

const invalidText = (what: string): Failure => ({
  code: CLOSE_CODE.INVALID_PAYLOAD,
  reason: `${what} is not valid UTF-8`,
});

const closeReasonDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function parseClose(payload: Uint8Array): WebSocketEvent | Failure {
  if (payload.length === 0) return { type: "close", code: CLOSE_CODE.NO_STATUS, reason: "" };
  if (payload.length === 1) return protocolError("Close frame with a 1-byte payload");
  const code = payload[0]! << 8 | payload[1]!;
  if (!isValidCloseCode(code)) return protocolError(`Invalid close code ${code}`);
  try {
    return { type: "close", code, reason: closeReasonDecoder.decode(payload.subarray(2)) };
  } catch {
    return invalidText("Close reason");
  }
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 24 | bytes[offset + 1]! << 16 | bytes[offset + 2]! << 8 |
    bytes[offset + 3]!) >>> 0;
}

/** XORs `source` with the mask (starting at `maskIndex`) into `target` at `offset`. */
function unmask(
  source: Uint8Array,
  mask: Uint8Array,
  maskIndex: number,
  target: Uint8Array,
  offset: number,
): void {
  const m0 = mask[maskIndex & 3]!;
  const m1 = mask[(maskIndex + 1) & 3]!;
  const m2 = mask[(maskIndex + 2) & 3]!;
  const m3 = mask[(maskIndex + 3) & 3]!;
  const length = source.length;
  let i = 0;
  // Four bytes a turn with the mask in locals: about twice as fast as indexing it per byte.
  for (; i + 4 <= length; i += 4) {
    target[offset + i] = source[i]! ^ m0;
    target[offset + i + 1] = source[i + 1]! ^ m1;
    target[offset + i + 2] = source[i + 2]! ^ m2;
    target[offset + i + 3] = source[i + 3]! ^ m3;
  }
  for (; i < length; i++) target[offset + i] = source[i]! ^ mask[(maskIndex + i) & 3]!;
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}
