import assert from "node:assert/strict";
import type { HeartbeatConfig } from "../config/types.ts";
import { heartbeatFrame } from "./heartbeat.ts";

const NOW = new Date("2024-01-01T12:00:00.123Z");
const STATS = { activeClients: 5, uptimeSeconds: 3600 };
const config = (overrides: Partial<HeartbeatConfig>): HeartbeatConfig => ({
  enabled: true,
  intervalSeconds: 30,
  includeTimestamp: true,
  includeStats: false,
  format: "comment",
  ...overrides,
});
const frame = (transport: "sse" | "tcp", overrides: Partial<HeartbeatConfig>) =>
  new TextDecoder().decode(heartbeatFrame(transport, config(overrides), STATS, NOW));

Deno.test("heartbeatFrame() writes the SSE comment of SPEC §5.1", () => {
  assert.equal(frame("sse", {}), ": heartbeat 2024-01-01T12:00:00Z\n\n");
  assert.equal(
    frame("sse", { includeStats: true }),
    ": heartbeat 2024-01-01T12:00:00Z clients=5 uptime=3600s\n\n",
  );
  assert.equal(frame("sse", { includeTimestamp: false }), ": heartbeat\n\n");
});

Deno.test("heartbeatFrame() writes the SSE heartbeat event and the TCP line", () => {
  assert.equal(
    frame("sse", { format: "json", includeStats: true }),
    'event: heartbeat\ndata: {"type":"heartbeat","timestamp":"2024-01-01T12:00:00Z",' +
      '"active_clients":5,"uptime_seconds":3600}\n\n',
  );
  assert.equal(
    frame("tcp", { format: "json", includeStats: true }),
    '{"type":"heartbeat","timestamp":"2024-01-01T12:00:00Z","active_clients":5,"uptime_seconds":3600}\n',
  );
  assert.equal(frame("tcp", { format: "json", includeTimestamp: false }), '{"type":"heartbeat"}\n');
});
