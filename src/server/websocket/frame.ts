/**
 * Encoding of server-to-client WebSocket frames (RFC 6455 section 5.2). Server frames are
 * never masked and never fragmented: each message is one frame with FIN set.
 *
 * @module
 */
import { isValidCloseCode } from "./close_code.ts";

/** Frame opcodes. */
export const OPCODE = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** One of the opcodes RFC 6455 defines. */
export type Opcode = typeof OPCODE[keyof typeof OPCODE];

/** The longest payload of a control frame (ping, pong, close). */
export const MAX_CONTROL_PAYLOAD = 125;

/** The longest close reason in bytes: a control payload less the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** Bytes of the header of an unmasked frame with a payload of `payloadLength` bytes: 2, 4 or 10. */
export function frameHeaderLength(payloadLength: number): 2 | 4 | 10 {
  return payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
}

/**
 * Writes the header of an unmasked final frame at `offset` of `target` and returns the
 * offset where its payload goes. With {@linkcode frameHeaderLength} a batch of messages
 * can be framed into one buffer: header, payload (`TextEncoder.encodeInto`), next header.
 *
 * @throws {RangeError} when `payloadLength` is not a safe non-negative integer, or
 * `target` has no room for the header
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  payloadLength: number,
  opcode: Opcode = OPCODE.TEXT,
): number {
  if (!Number.isSafeInteger(payloadLength) || payloadLength < 0) {
    throw new RangeError(`Invalid payload length ${JSON.stringify(payloadLength)}`);
  }
  const headerLength = frameHeaderLength(payloadLength);
  if (offset < 0 || offset + headerLength > target.length) {
    throw new RangeError(
      `No room for a ${headerLength}-byte frame header at offset ${offset} of ${target.length} bytes`,
    );
  }
  target[offset] = 0x80 | opcode;
  if (headerLength === 2) {
    target[offset + 1] = payloadLength;
  } else if (headerLength === 4) {
    target[offset + 1] = 126;
    target[offset + 2] = payloadLength >>> 8;
    target[offset + 3] = payloadLength & 0xff;
  } else {
    target[offset + 1] = 127;
    // Safe integers fit in 53 bits: the high word is below 2^21.
    const high = Math.floor(payloadLength / 0x1_0000_0000);
    const low = payloadLength >>> 0;
    target[offset + 2] = 0;
    target[offset + 3] = high >>> 16;
    target[offset + 4] = high >>> 8 & 0xff;
    target[offset + 5] = high & 0xff;
    target[offset + 6] = low >>> 24;
    target[offset + 7] = low >>> 16 & 0xff;
    target[offset + 8] = low >>> 8 & 0xff;
    target[offset + 9] = low & 0xff;
  }
  return offset + headerLength;
}

function frame(opcode: Opcode, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(frameHeaderLength(payload.length) + payload.length);
  bytes.set(payload, writeFrameHeader(bytes, 0, payload.length, opcode));
  return bytes;
}

/** A text frame carrying `payload`, which must be UTF-8 (a client fails the connection otherwise). */
export function textFrame(payload: Uint8Array): Uint8Array {
  return frame(OPCODE.TEXT, payload);
}

function controlFrame(opcode: Opcode, payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(
      `Control frame payload of ${payload.length} bytes: at most ${MAX_CONTROL_PAYLOAD} allowed`,
    );
  }
  return frame(opcode, payload);
}

/**
 * A ping frame; the peer answers with a pong carrying the same payload.
 *
 * @throws {RangeError} when `payload` is longer than 125 bytes
 */
export function pingFrame(payload: Uint8Array = EMPTY): Uint8Array {
  return controlFrame(OPCODE.PING, payload);
}

/**
 * A pong frame, the answer to a ping with that ping's payload.
 *
 * @throws {RangeError} when `payload` is longer than 125 bytes
 */
export function pongFrame(payload: Uint8Array = EMPTY): Uint8Array {
  return controlFrame(OPCODE.PONG, payload);
}

/**
 * A close frame. Without `code` the payload is empty (the peer sees 1005). `reason` is cut
 * to 123 bytes of UTF-8 at a character boundary.
 *
 * @throws {RangeError} when `code` may not be sent (see {@linkcode isValidCloseCode}), or a
 * reason comes without a code
 */
export function closeFrame(code?: number, reason = ""): Uint8Array {
  if (code === undefined) {
    if (reason !== "") throw new RangeError("A close reason needs a close code");
    return controlFrame(OPCODE.CLOSE, EMPTY);
  }
  if (!isValidCloseCode(code)) {
    throw new RangeError(`Close code ${JSON.stringify(code)} may not be sent`);
  }
  const text = truncateUtf8(encoder.encode(reason), MAX_CLOSE_REASON_BYTES);
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return controlFrame(OPCODE.CLOSE, payload);
}

/** `bytes` (valid UTF-8) cut to at most `max` bytes without splitting a character. */
function truncateUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  // Back up over continuation bytes (10xxxxxx) to the start of the character cut in two.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
