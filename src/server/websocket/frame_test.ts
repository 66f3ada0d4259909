import assert from "node:assert/strict";
import {
  closeFrame,
  frameHeaderLength,
  OPCODE,
  pingFrame,
  pongFrame,
  textFrame,
  writeFrameHeader,
} from "./frame.ts";
import { FrameDecoder } from "./frame_decoder.ts";
import { clientFrame, parseServerFrames } from "./_test_utils.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** `length` bytes of printable ASCII, different from one position to the next. */
function payloadOf(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = 0x21 + i % 94;
  return bytes;
}

const LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 1024 * 1024];

Deno.test("textFrame uses the shortest length field and never masks", () => {
  const expected: Record<number, number[]> = {
    0: [0x81, 0],
    1: [0x81, 1],
    125: [0x81, 125],
    126: [0x81, 126, 0, 126],
    127: [0x81, 126, 0, 127],
    65535: [0x81, 126, 0xff, 0xff],
    65536: [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0],
    [1024 * 1024]: [0x81, 127, 0, 0, 0, 0, 0, 0x10, 0, 0],
  };
  for (const length of LENGTHS) {
    const payload = payloadOf(length);
    const frame = textFrame(payload);
    const header = expected[length]!;
    assert.equal(frameHeaderLength(length), header.length);
    assert.deepEqual([...frame.subarray(0, header.length)], header, `header for ${length} bytes`);
    const [parsed, ...rest] = parseServerFrames(frame);
    assert.equal(rest.length, 0);
    assert.deepEqual(parsed, {
      fin: true,
      rsv: 0,
      opcode: OPCODE.TEXT,
      masked: false,
      payload,
    });
  }
});

Deno.test("textFrame round-trips through the decoder once masked as a client would", () => {
  const frameDecoder = new FrameDecoder({ maxMessageBytes: 2 * 1024 * 1024 });
  for (const length of LENGTHS) {
    const payload = payloadOf(length);
    const [frame] = parseServerFrames(textFrame(payload));
    const events = frameDecoder.push(clientFrame(frame!.opcode, frame!.payload));
    assert.deepEqual(events, [{ type: "text", data: new TextDecoder().decode(payload) }]);
  }
});

Deno.test("writeFrameHeader frames a batch of payloads into one buffer", () => {
  const texts = ["a", "é".repeat(70), "x".repeat(300), "", "😀".repeat(20_000)];
  const lengths = texts.map((text) => encoder.encode(text).length);
  const total = lengths.reduce((sum, length) => sum + frameHeaderLength(length) + length, 0);
  const batch = new Uint8Array(total);
  let offset = 0;
  for (let i = 0; i < texts.length; i++) {
    offset = writeFrameHeader(batch, offset, lengths[i]!);
    offset += encoder.encodeInto(texts[i]!, batch.subarray(offset)).written;
  }
  assert.equal(offset, total);
  const frames = parseServerFrames(batch);
  assert.deepEqual(frames.map((frame) => decoder.decode(frame.payload)), texts);
  assert.ok(frames.every((frame) => frame.fin && frame.opcode === OPCODE.TEXT && !frame.masked));
  assert.deepEqual(
    textFrame(encoder.encode("é".repeat(70))),
    batch.subarray(3, 3 + 4 + 140),
    "same bytes as textFrame",
  );
});

Deno.test("writeFrameHeader refuses a bad length or a buffer too short", () => {
  const buffer = new Uint8Array(4);
  assert.throws(() => writeFrameHeader(buffer, 0, -1), RangeError);
  assert.throws(() => writeFrameHeader(buffer, 0, 1.5), RangeError);
  assert.throws(() => writeFrameHeader(buffer, 0, 2 ** 53), RangeError);
  assert.throws(() => writeFrameHeader(buffer, 0, 65536), /No room for a 10-byte frame header/);
  assert.throws(() => writeFrameHeader(buffer, 3, 0), /No room for a 2-byte frame header/);
  assert.equal(writeFrameHeader(buffer, 0, 300, OPCODE.BINARY), 4);
  assert.deepEqual([...buffer], [0x82, 126, 1, 44]);
});

Deno.test("writeFrameHeader writes the largest safe length in 64 bits", () => {
  const buffer = new Uint8Array(10);
  writeFrameHeader(buffer, 0, Number.MAX_SAFE_INTEGER);
  assert.deepEqual([...buffer], [0x81, 127, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
});

Deno.test("pingFrame and pongFrame carry up to 125 bytes", () => {
  assert.deepEqual([...pingFrame()], [0x89, 0]);
  assert.deepEqual([...pongFrame()], [0x8a, 0]);
  const payload = payloadOf(125);
  assert.deepEqual(parseServerFrames(pingFrame(payload))[0]!.payload, payload);
  assert.deepEqual(parseServerFrames(pongFrame(payload))[0]!.payload, payload);
  assert.throws(() => pingFrame(payloadOf(126)), /Control frame payload of 126 bytes/);
  assert.throws(() => pongFrame(payloadOf(126)), RangeError);
});

Deno.test("closeFrame carries the code and a reason cut at a character boundary", () => {
  assert.deepEqual([...closeFrame()], [0x88, 0]);
  assert.deepEqual([...closeFrame(1000)], [0x88, 2, 0x03, 0xe8]);
  assert.deepEqual([...closeFrame(4999, "ok")], [0x88, 4, 0x13, 0x87, 0x6f, 0x6b]);
  const cases: [reason: string, kept: string][] = [
    ["a".repeat(123), "a".repeat(123)],
    ["a".repeat(124), "a".repeat(123)],
    ["é".repeat(100), "é".repeat(61)], // 122 bytes: the 62nd would end at 124
    ["a" + "€".repeat(50), "a" + "€".repeat(40)], // 121 bytes
    ["ab" + "😀".repeat(40), "ab" + "😀".repeat(30)], // 122 bytes
    ["abc" + "😀".repeat(40), "abc" + "😀".repeat(30)], // 123 bytes exactly
  ];
  for (const [reason, kept] of cases) {
    const [frame] = parseServerFrames(closeFrame(1001, reason));
    assert.ok(frame!.payload.length <= 125);
    assert.equal(frame!.payload[0]! << 8 | frame!.payload[1]!, 1001);
    assert.equal(decoder.decode(frame!.payload.subarray(2)), kept);
  }
});

Deno.test("closeFrame refuses codes that may not be sent", () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5]) {
    assert.throws(() => closeFrame(code), RangeError, String(code));
  }
  for (const code of [1000, 1003, 1007, 1011, 1014, 3000, 4999]) closeFrame(code);
  assert.throws(() => closeFrame(undefined, "why"), /A close reason needs a close code/);
});
