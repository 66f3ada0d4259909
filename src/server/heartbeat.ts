import type { HeartbeatConfig } from "../config/types.ts";
import type { HeartbeatStats } from "../stream/codec.ts";

/** The time a heartbeat carries: RFC 3339 UTC to the second. */
export function heartbeatTime(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, "Z");
}

/**
 * The JSON heartbeat every transport shares (an SSE `heartbeat` event, a WebSocket message,
 * a TCP line): `{"type":"heartbeat","timestamp":…,"active_clients":…,"uptime_seconds":…}`,
 * the timestamp with `include_timestamp`, the counts with `include_stats`.
 */
export function heartbeatJson(config: HeartbeatConfig, stats: HeartbeatStats, now: Date): string {
  return JSON.stringify({
    type: "heartbeat",
    ...(config.includeTimestamp && { timestamp: heartbeatTime(now) }),
    ...(config.includeStats && {
      active_clients: stats.activeClients,
      uptime_seconds: stats.uptimeSeconds,
    }),
  });
}
