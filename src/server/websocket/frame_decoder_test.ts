import assert from "node:assert/strict";
import { OPCODE } from "./frame.ts";
import { FrameDecoder, type WebSocketEvent } from "./frame_decoder.ts";
import { clientFrame } from "./_test_utils.ts";

const encoder = new TextEncoder();
const bytes = (...values: number[]) => new Uint8Array(values);

function concat(...parts: Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

/** A deterministic pseudo-random generator (mulberry32), so a failing split can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = seed + 0x6d2b79f5 | 0;
    let t = Math.imul(seed ^ seed >>> 15, 1 | seed);
    t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}

/** Every event `input` yields when fed in `chunks` (lengths, the rest in one last chunk). */
function decodeInChunks(
  input: Uint8Array,
  chunks: Iterable<number>,
  decoder = new FrameDecoder(),
): WebSocketEvent[] {
  const events: WebSocketEvent[] = [];
  let offset = 0;
  for (const length of chunks) {
    if (offset >= input.length) break;
    events.push(...decoder.push(input.subarray(offset, offset + length)));
    offset += length;
  }
  if (offset < input.length) events.push(...decoder.push(input.subarray(offset)));
  return events;
}

/** The events `input` yields in one chunk. */
const decodeAll = (input: Uint8Array, maxMessageBytes?: number) =>
  new FrameDecoder({ maxMessageBytes }).push(input);

const ascii = (length: number) => "abcdefghij".repeat(Math.ceil(length / 10)).slice(0, length);

/** A session's worth of client traffic: every kind of frame and every length field. */
const TRAFFIC = concat(
  clientFrame(OPCODE.TEXT, '{"level":"WARN","grep":"timeout"}'),
  clientFrame(OPCODE.TEXT, ""),
  clientFrame(OPCODE.PING, "p1"),
  clientFrame(OPCODE.TEXT, ascii(126), { mask: [1, 2, 3, 4] }),
  clientFrame(OPCODE.BINARY, bytes(0, 1, 2, 255)),
  clientFrame(OPCODE.TEXT, "héllo ", { fin: false }),
  clientFrame(OPCODE.PING, "in the middle"),
  clientFrame(OPCODE.CONTINUATION, "wörld ", { fin: false }),
  clientFrame(OPCODE.PONG, ""),
  // A character split between two fragments.
  clientFrame(OPCODE.CONTINUATION, encoder.encode("😀").subarray(0, 2), { fin: false }),
  clientFrame(OPCODE.CONTINUATION, encoder.encode("😀").subarray(2)),
  clientFrame(OPCODE.TEXT, ascii(3000), { mask: [0xff, 0, 0xff, 0] }),
  // A length field longer than needed: not minimal, but unambiguous.
  clientFrame(OPCODE.TEXT, ascii(20), { lengthBits: 64, mask: [9, 8, 7, 6] }),
  clientFrame(OPCODE.CLOSE, concat(bytes(0x03, 0xe8), encoder.encode("bye"))),
);

const EXPECTED: WebSocketEvent[] = [
  { type: "text", data: '{"level":"WARN","grep":"timeout"}' },
  { type: "text", data: "" },
  { type: "ping", data: encoder.encode("p1") },
  { type: "text", data: ascii(126) },
  { type: "binary", data: bytes(0, 1, 2, 255) },
  { type: "ping", data: encoder.encode("in the middle") },
  { type: "pong", data: new Uint8Array(0) },
  { type: "text", data: "héllo wörld 😀" },
  { type: "text", data: ascii(3000) },
  { type: "text", data: ascii(20) },
  { type: "close", code: 1000, reason: "bye" },
];

Deno.test("FrameDecoder decodes a stream of every kind of frame in one chunk", () => {
  const decoder = new FrameDecoder();
  assert.deepEqual(decoder.push(TRAFFIC), EXPECTED);
  assert.equal(decoder.done, true);
});

Deno.test("FrameDecoder decodes the same stream fed byte by byte", () => {
  const ones = {
    *[Symbol.iterator]() {
      for (;;) yield 1;
    },
  };
  assert.deepEqual(decodeInChunks(TRAFFIC, ones), EXPECTED);
});

Deno.test("FrameDecoder decodes the same stream in random splits", () => {
  for (let seed = 1; seed <= 100; seed++) {
    const next = random(seed);
    const maximum = [7, 40, 300, 5_000][seed % 4]!;
    const splits = {
      *[Symbol.iterator]() {
        for (;;) yield 1 + Math.floor(next() * maximum);
      },
    };
    assert.deepEqual(decodeInChunks(TRAFFIC, splits), EXPECTED, `seed ${seed}`);
  }
});

Deno.test("FrameDecoder reads 16- and 64-bit lengths split inside the length field and the mask", () => {
  const big = ascii(70_000);
  const frame = clientFrame(OPCODE.TEXT, big);
  // 2 bytes, then 8 of length, then 4 of mask: cut at every point of the header.
  for (let cut = 1; cut < 14; cut++) {
    const events = decodeInChunks(
      frame,
      [cut, 1, 1],
      new FrameDecoder({ maxMessageBytes: 80_000 }),
    );
    assert.deepEqual(events, [{ type: "text", data: big }], `cut at ${cut}`);
  }
  const medium = clientFrame(OPCODE.BINARY, encoder.encode(ascii(300)));
  for (let cut = 1; cut < 8; cut++) {
    assert.deepEqual(decodeInChunks(medium, [cut]), [{
      type: "binary",
      data: encoder.encode(ascii(300)),
    }]);
  }
});

Deno.test("FrameDecoder keeps no reference to the chunks it is given", () => {
  const decoder = new FrameDecoder();
  const chunk = clientFrame(OPCODE.BINARY, bytes(1, 2, 3));
  const [event] = decoder.push(chunk);
  chunk.fill(0);
  assert.deepEqual(event, { type: "binary", data: bytes(1, 2, 3) });
});

/** Asserts that `input` fails the connection with `code`, `reason` matching `pattern`. */
function assertFails(input: Uint8Array, code: number, pattern: RegExp, maxMessageBytes?: number) {
  const decoder = new FrameDecoder({ maxMessageBytes });
  const events = decoder.push(input);
  const last = events.at(-1);
  assert.equal(last?.type, "error", `expected an error, got ${JSON.stringify(events)}`);
  assert.equal((last as { code: number }).code, code);
  assert.match((last as { reason: string }).reason, pattern);
  assert.equal(decoder.done, true);
  assert.deepEqual(decoder.push(clientFrame(OPCODE.TEXT, "more")), [], "input after is ignored");
}

Deno.test("FrameDecoder fails an unmasked frame with 1002", () => {
  assertFails(clientFrame(OPCODE.TEXT, "hi", { masked: false }), 1002, /Unmasked client frame/);
  // Known from the first two bytes: no need to wait for the rest.
  assertFails(clientFrame(OPCODE.TEXT, "hi", { masked: false }).subarray(0, 2), 1002, /Unmasked/);
});

Deno.test("FrameDecoder fails any reserved bit with 1002: no extension is negotiated", () => {
  for (const rsv of [1, 2, 4, 7]) {
    assertFails(clientFrame(OPCODE.TEXT, "hi", { rsv }), 1002, /Reserved bits/);
  }
});

Deno.test("FrameDecoder fails unknown opcodes with 1002", () => {
  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    assertFails(clientFrame(opcode), 1002, new RegExp(`Unknown opcode ${opcode}`));
  }
});

Deno.test("FrameDecoder fails control frames over 125 bytes or fragmented with 1002", () => {
  for (const opcode of [OPCODE.PING, OPCODE.PONG, OPCODE.CLOSE]) {
    assertFails(
      clientFrame(opcode, new Uint8Array(126)).subarray(0, 2),
      1002,
      /Control frame over 125 bytes/,
    );
    assertFails(clientFrame(opcode, "x", { fin: false }), 1002, /Fragmented control frame/);
    // Even a short one in an extended length field.
    assertFails(clientFrame(opcode, "", { lengthBits: 16 }), 1002, /Control frame over 125/);
  }
  assert.equal(decodeAll(clientFrame(OPCODE.PING, new Uint8Array(125)))[0]?.type, "ping");
});

Deno.test("FrameDecoder enforces the fragmentation rules with 1002", () => {
  assertFails(clientFrame(OPCODE.CONTINUATION, "x"), 1002, /Continuation without a message/);
  assertFails(
    concat(clientFrame(OPCODE.TEXT, "a", { fin: false }), clientFrame(OPCODE.TEXT, "b")),
    1002,
    /New message before the fragmented one ended/,
  );
  assertFails(
    concat(clientFrame(OPCODE.TEXT, "a", { fin: false }), clientFrame(OPCODE.BINARY, "b")),
    1002,
    /New message before/,
  );
  assertFails(
    concat(clientFrame(OPCODE.TEXT, "a"), clientFrame(OPCODE.CONTINUATION, "b")),
    1002,
    /Continuation without a message/,
  );
});

Deno.test("FrameDecoder fails a message over the limit with 1009 before its payload arrives", () => {
  const header = (length: number) => clientFrame(OPCODE.TEXT, "", { length: BigInt(length) });
  assertFails(header(64 * 1024 + 1), 1009, /Message over 65536 bytes/);
  assert.deepEqual(decodeAll(header(0)), [{ type: "text", data: "" }]);
  assertFails(header(11), 1009, /Message over 10 bytes/, 10);
  // Fragments count together.
  assertFails(
    concat(
      clientFrame(OPCODE.TEXT, ascii(6), { fin: false }),
      clientFrame(OPCODE.PING, "control frames do not count"),
      clientFrame(OPCODE.CONTINUATION, ascii(5)).subarray(0, 6),
    ),
    1009,
    /Message over 10 bytes/,
    10,
  );
  const exact = concat(
    clientFrame(OPCODE.BINARY, ascii(6), { fin: false }),
    clientFrame(OPCODE.CONTINUATION, ascii(4)),
  );
  assert.deepEqual(decodeAll(exact, 10), [{
    type: "binary",
    data: encoder.encode(ascii(6) + ascii(4)),
  }]);
});

Deno.test("FrameDecoder refuses a 2^63 length claim from its 14 header bytes, allocating nothing", () => {
  const claim = (length: bigint) => clientFrame(OPCODE.BINARY, "", { length });
  assert.equal(claim(2n ** 63n).length, 14);
  assertFails(claim(2n ** 63n), 1002, /Frame length with the top bit set/);
  assertFails(claim(2n ** 64n - 1n), 1002, /top bit/);
  assertFails(claim(2n ** 63n - 1n), 1009, /Message over/);
  assertFails(claim(2n ** 53n + 1n), 1009, /Message over/);
});

Deno.test("FrameDecoder holds what a client sent, never what it claims", () => {
  // Even under a limit that allows it, a 4 GiB claim allocates only as bytes arrive.
  const decoder = new FrameDecoder({ maxMessageBytes: Number.MAX_SAFE_INTEGER });
  assert.deepEqual(decoder.push(clientFrame(OPCODE.BINARY, "", { length: 2n ** 32n })), []);
  assert.deepEqual(decoder.push(new Uint8Array(1000)), []);
  assert.equal(decoder.done, false);
});

Deno.test("FrameDecoder fails text that is not UTF-8 with 1007, as soon as it arrives", () => {
  const invalid = [
    bytes(0xff),
    bytes(0xc0, 0x80), // overlong NUL
    bytes(0xed, 0xa0, 0x80), // a UTF-16 surrogate
    bytes(0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
    bytes(0x61, 0xe2, 0x82), // cut short at the end of the message
  ];
  for (const payload of invalid) {
    assertFails(clientFrame(OPCODE.TEXT, payload), 1007, /Text message is not valid UTF-8/);
  }
  // Fail fast: the first fragment is enough, no need to wait for FIN.
  assertFails(clientFrame(OPCODE.TEXT, bytes(0x61, 0xff), { fin: false }), 1007, /not valid UTF-8/);
  assertFails(
    concat(
      clientFrame(OPCODE.TEXT, bytes(0xe2, 0x82), { fin: false }),
      clientFrame(OPCODE.CONTINUATION, bytes(0x41)),
    ),
    1007,
    /not valid UTF-8/,
  );
  // Binary messages are not text: anything goes.
  assert.deepEqual(decodeAll(clientFrame(OPCODE.BINARY, bytes(0xff))), [{
    type: "binary",
    data: bytes(0xff),
  }]);
  // A byte order mark is content.
  assert.deepEqual(decodeAll(clientFrame(OPCODE.TEXT, bytes(0xef, 0xbb, 0xbf, 0x61))), [{
    type: "text",
    data: "\ufeffa",
  }]);
});

Deno.test("FrameDecoder checks close frames: codes, reason UTF-8, payload length", () => {
  const close = (code: number, reason: Uint8Array = new Uint8Array(0)) =>
    clientFrame(OPCODE.CLOSE, concat(bytes(code >> 8, code & 0xff), reason));
  assert.deepEqual(decodeAll(clientFrame(OPCODE.CLOSE)), [{
    type: "close",
    code: 1005,
    reason: "",
  }]);
  for (
    const code of [
      1000,
      1001,
      1002,
      1003,
      1007,
      1008,
      1009,
      1010,
      1011,
      1012,
      1013,
      1014,
      3000,
      4999,
    ]
  ) {
    assert.deepEqual(decodeAll(close(code)), [{ type: "close", code, reason: "" }], String(code));
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]) {
    assertFails(close(code), 1002, new RegExp(`Invalid close code ${code}`));
  }
  assertFails(clientFrame(OPCODE.CLOSE, bytes(0x03)), 1002, /Close frame with a 1-byte payload/);
  assertFails(close(1000, bytes(0x61, 0xff)), 1007, /Close reason is not valid UTF-8/);
  assert.deepEqual(decodeAll(close(4000, encoder.encode("fini ✓"))), [{
    type: "close",
    code: 4000,
    reason: "fini ✓",
  }]);
});

Deno.test("FrameDecoder ignores everything after a close frame", () => {
  const decoder = new FrameDecoder();
  const events = decoder.push(concat(
    clientFrame(OPCODE.CLOSE, bytes(0x03, 0xe8)),
    clientFrame(OPCODE.TEXT, "late"),
  ));
  assert.deepEqual(events, [{ type: "close", code: 1000, reason: "" }]);
  assert.deepEqual(decoder.push(clientFrame(OPCODE.PING)), []);
});

Deno.test("FrameDecoder refuses an invalid limit", () => {
  assert.throws(() => new FrameDecoder({ maxMessageBytes: -1 }), /Invalid maximum message size -1/);
  assert.throws(() => new FrameDecoder({ maxMessageBytes: Infinity }), RangeError);
});
