/**
 * WebSocket framing costs: server frames for 100-byte and 10 kB entries, one by one and
 * batched into one buffer as the hub would, against encoding the same text without
 * frames; decoding client frames; the handshake's SHA-1.
 *
 * @module
 */
import { frameHeaderLength, OPCODE, textFrame, writeFrameHeader } from "./frame.ts";
import { FrameDecoder } from "./frame_decoder.ts";
import { acceptKey, checkHandshake } from "./handshake.ts";
import { clientFrame } from "./_test_utils.ts";

const encoder = new TextEncoder();

/** A JSON entry of about `size` bytes, ASCII like most log lines. */
function entryJson(size: number, seq: number): string {
  const head = `{"type":"entry","id":${seq},"entry":{"time":"2026-12-01T10:00:00.000000Z",` +
    `"source":"app.log","level":"INFO","message":"`;
  return `${head}${"m".repeat(Math.max(0, size - head.length - 3))}"}}`;
}

for (const size of [100, 10_000]) {
  const label = size === 100 ? "100 B" : "10 kB";
  const payload = encoder.encode(entryJson(size, 1));
  const batch = Array.from({ length: 100 }, (_, seq) => entryJson(size, seq));

  Deno.bench(`textFrame, one ${label} payload`, { group: `frame ${label}` }, () => {
    textFrame(payload);
  });

  Deno.bench(
    `100 × ${label} entries: encode the joined text (no frames)`,
    { group: `batch ${label}`, baseline: true },
    () => {
      encoder.encode(batch.join(""));
    },
  );

  Deno.bench(
    `100 × ${label} entries: headers and encodeInto, one buffer`,
    { group: `batch ${label}` },
    () => {
      let total = 0;
      // ASCII: as many bytes as characters (the hub measures non-ASCII text with utf8Length).
      for (const text of batch) total += frameHeaderLength(text.length) + text.length;
      const bytes = new Uint8Array(total);
      let offset = 0;
      for (const text of batch) {
        offset = writeFrameHeader(bytes, offset, text.length);
        offset += encoder.encodeInto(text, bytes.subarray(offset)).written;
      }
    },
  );

  Deno.bench(
    `100 × ${label} entries: encode the joined text, then headers and copies`,
    { group: `batch ${label}` },
    () => {
      const encoded = encoder.encode(batch.join(""));
      let total = 0;
      for (const text of batch) total += frameHeaderLength(text.length) + text.length;
      const bytes = new Uint8Array(total);
      let offset = 0;
      let from = 0;
      for (const text of batch) {
        offset = writeFrameHeader(bytes, offset, text.length);
        bytes.set(encoded.subarray(from, from + text.length), offset);
        offset += text.length;
        from += text.length;
      }
    },
  );

  Deno.bench(
    `100 × ${label} entries: textFrame each, then concatenated`,
    { group: `batch ${label}` },
    () => {
      const frames = batch.map((text) => textFrame(encoder.encode(text)));
      const bytes = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0));
      let offset = 0;
      for (const frame of frames) {
        bytes.set(frame, offset);
        offset += frame.length;
      }
    },
  );

  const masked = clientFrame(OPCODE.TEXT, payload);
  const decoder = new FrameDecoder();
  Deno.bench(`decode a masked ${label} text frame`, { group: `decode ${label}` }, () => {
    decoder.push(masked);
  });
}

const hello = clientFrame(OPCODE.TEXT, '{"level":"WARN","grep":"timeout","tail":100}');
Deno.bench("a new decoder, then a hello message (45 B)", { group: "decode hello" }, () => {
  new FrameDecoder().push(hello);
});
const connection = new FrameDecoder();
Deno.bench("a hello message (45 B) on an open connection", { group: "decode hello" }, () => {
  connection.push(hello);
});

const big = clientFrame(OPCODE.TEXT, "x".repeat(64 * 1024 - 1));
const segments = Array.from(
  { length: Math.ceil(big.length / 1460) },
  (_, i) => big.subarray(i * 1460, (i + 1) * 1460),
);
Deno.bench("decode a 64 KiB message in 1460-byte segments", { group: "decode 64 KiB" }, () => {
  const decoder = new FrameDecoder();
  for (const segment of segments) decoder.push(segment);
});

const request = {
  method: "GET",
  httpVersion: "1.1",
  headers: {
    "host": "logs.example",
    "upgrade": "websocket",
    "connection": "Upgrade",
    "sec-websocket-version": "13",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  },
};
Deno.bench("handshake: checkHandshake and acceptKey", { group: "handshake" }, () => {
  const result = checkHandshake(request);
  if (result.ok) acceptKey(result.key);
});
