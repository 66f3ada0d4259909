import assert from "node:assert/strict";
import type { HeartbeatConfig } from "../config/types.ts";
import { PublishedEntry } from "../stream/published_entry.ts";
import { sseCodec } from "./sse.ts";
import { tcpCodec } from "./tcp_server.ts";

const NOW = new Date("2024-01-01T12:00:00.123Z");
const STATS = { activeClients: 5, uptimeSeconds: 3600 };
const INFO = { stream: "app", streamPath: "/stream", statusPath: "/status", bufferSize: 5 };
const config = (overrides: Partial<HeartbeatConfig>): HeartbeatConfig => ({
  enabled: true,
  intervalSeconds: 30,
  includeTimestamp: true,
  includeStats: false,
  format: "comment",
  ...overrides,
});
const text = (bytes: Uint8Array | undefined) => bytes && new TextDecoder().decode(bytes);
const sse = (overrides: Partial<HeartbeatConfig>) =>
  text(sseCodec(INFO, config(overrides)).heartbeat(STATS, NOW));
const tcp = (overrides: Partial<HeartbeatConfig>) =>
  text(tcpCodec(config({ format: "json", ...overrides })).heartbeat(STATS, NOW));

Deno.test("sseCodec() heartbeat comments", () => {
  assert.equal(sse({}), ": heartbeat 2024-01-01T12:00:00Z\n\n");
  assert.equal(
    sse({ includeStats: true }),
    ": heartbeat 2024-01-01T12:00:00Z clients=5 uptime=3600s\n\n",
  );
  assert.equal(sse({ includeTimestamp: false }), ": heartbeat\n\n");
  assert.equal(sse({ enabled: false }), undefined);
});

Deno.test("sseCodec() heartbeat events and tcpCodec() heartbeat lines", () => {
  assert.equal(
    sse({ format: "json", includeStats: true }),
    'event: heartbeat\ndata: {"type":"heartbeat","timestamp":"2024-01-01T12:00:00Z",' +
      '"active_clients":5,"uptime_seconds":3600}\n\n',
  );
  assert.equal(
    tcp({ includeStats: true }),
    '{"type":"heartbeat","timestamp":"2024-01-01T12:00:00Z","active_clients":5,"uptime_seconds":3600}\n',
  );
  assert.equal(tcp({ includeTimestamp: false }), '{"type":"heartbeat"}\n');
});

Deno.test("sseCodec() frames: greeting with gap, entries with their id, farewell", () => {
  const codec = sseCodec(INFO, config({ enabled: false }));
  assert.equal(
    text(codec.greeting({ clientId: "c1", gap: undefined })),
    'retry: 3000\nevent: connected\ndata: {"client_id":"c1","stream":"app","stream_path":"/stream",' +
      '"status_path":"/status","buffer_size":5}\n\n',
  );
  const gap = text(codec.greeting({
    clientId: "c1",
    gap: { reason: "restart", missed: 0, lastEventId: "1-30" },
  }));
  assert.match(
    gap!,
    /\n\nevent: gap\ndata: \{"reason":"restart","missed":0,"last_event_id":"1-30"\}\n\n$/,
  );
  const entry = new PublishedEntry(
    7,
    "9-7",
    { time: "t", source: "a", message: "m" },
    '{"m":1}',
    0,
  );
  assert.deepEqual(codec.encode([entry]).map(text), ['id: 9-7\ndata: {"m":1}\n\n']);
  assert.equal(
    text(codec.farewell("server_shutdown")),
    'event: disconnect\ndata: {"reason":"server_shutdown"}\n\n',
  );
  assert.deepEqual(tcpCodec(config({})).encode([entry]).map(text), ['{"m":1}\n']);
});
