import assert from "node:assert/strict";
import { PublishedEntry } from "../stream/published_entry.ts";
import { OPCODE } from "./websocket/frame.ts";
import { parseServerFrames } from "./websocket/_test_utils.ts";
import { wsCodec } from "./ws_codec.ts";

const INFO = { stream: "app", streamPath: "/stream", statusPath: "/status", bufferSize: 10 };
const HEARTBEAT = {
  enabled: true,
  intervalSeconds: 30,
  includeTimestamp: true,
  includeStats: true,
  format: "comment" as const,
};
const decoder = new TextDecoder();

function messages(bytes: Uint8Array): unknown[] {
  return parseServerFrames(bytes).map((frame) => {
    assert.equal(frame.opcode, OPCODE.TEXT);
    assert.equal(frame.fin, true);
    return JSON.parse(decoder.decode(frame.payload));
  });
}

function published(seq: number, message: string): PublishedEntry {
  const entry = { time: "2024-01-01T00:00:00.000000Z", source: "a.log", message };
  return new PublishedEntry(seq, `1-${seq}`, entry, JSON.stringify(entry), 0);
}

Deno.test("wsCodec() frames each entry as one text message, all in one buffer", () => {
  const codec = wsCodec(INFO, HEARTBEAT);
  // Short, 16-bit and 64-bit payload lengths, and non-ASCII text.
  const texts = ["short", "é".repeat(200), "x".repeat(70_000)];
  const frames = codec.encode(texts.map((text, i) => published(i + 1, text)));
  assert.equal(frames.length, 3);
  assert.ok(frames.every((frame) => frame.buffer === frames[0]!.buffer));
  frames.forEach((frame, i) => {
    assert.deepEqual(messages(frame), [{
      type: "entry",
      id: `1-${i + 1}`,
      entry: { time: "2024-01-01T00:00:00.000000Z", source: "a.log", message: texts[i] },
    }]);
  });
});

Deno.test("wsCodec() control messages: connected (then gap), heartbeat, disconnect", () => {
  const codec = wsCodec(INFO, HEARTBEAT);
  assert.deepEqual(messages(codec.greeting({ clientId: "c1", gap: undefined })!), [{
    type: "connected",
    client_id: "c1",
    stream: "app",
    stream_path: "/stream",
    status_path: "/status",
    buffer_size: 10,
  }]);
  const withGap = messages(
    codec.greeting({
      clientId: "c1",
      gap: { reason: "evicted", from: "1-2", to: "1-5", missed: 4 },
    })!,
  );
  assert.deepEqual(withGap[1], {
    type: "gap",
    reason: "evicted",
    from: "1-2",
    to: "1-5",
    missed: 4,
  });
  assert.deepEqual(
    messages(codec.heartbeat({ activeClients: 2, uptimeSeconds: 9 }, new Date(0))!),
    [{
      type: "heartbeat",
      timestamp: "1970-01-01T00:00:00Z",
      active_clients: 2,
      uptime_seconds: 9,
    }],
  );
  assert.deepEqual(messages(codec.farewell("server_shutdown")!), [{
    type: "disconnect",
    reason: "server_shutdown",
  }]);
  const quiet = wsCodec(INFO, { ...HEARTBEAT, enabled: false });
  assert.equal(quiet.heartbeat({ activeClients: 0, uptimeSeconds: 0 }, new Date()), undefined);
});
