import type { HeartbeatConfig } from "../config/types.ts";
import type { Hub, Transport } from "../stream/hub.ts";

/** Numbers a heartbeat may carry (`include_stats`). */
export interface HeartbeatStats {
  readonly activeClients: number;
  readonly uptimeSeconds: number;
}

const encoder = new TextEncoder();

/**
 * One heartbeat (SPEC §5.1, §5.2): an SSE comment `: heartbeat <time> clients=N uptime=Ns`,
 * an SSE `heartbeat` event, or (TCP) a JSON line.
 */
export function heartbeatFrame(
  transport: Transport,
  config: HeartbeatConfig,
  stats: HeartbeatStats,
  now: Date,
): Uint8Array {
  const timestamp = now.toISOString().replace(/\.\d+Z$/, "Z");
  if (transport === "sse" && config.format === "comment") {
    const parts = [
      ": heartbeat",
      ...(config.includeTimestamp ? [timestamp] : []),
      ...(config.includeStats
        ? [`clients=${stats.activeClients}`, `uptime=${stats.uptimeSeconds}s`]
        : []),
    ];
    return encoder.encode(`${parts.join(" ")}\n\n`);
  }
  const json = JSON.stringify({
    type: "heartbeat",
    ...(config.includeTimestamp && { timestamp }),
    ...(config.includeStats && {
      active_clients: stats.activeClients,
      uptime_seconds: stats.uptimeSeconds,
    }),
  });
  return encoder.encode(transport === "sse" ? `event: heartbeat\ndata: ${json}\n\n` : `${json}\n`);
}

/** What a server's ticker needs. */
export interface HeartbeatOptions {
  readonly hub: Hub;
  readonly transport: Transport;
  readonly config: HeartbeatConfig;
  readonly stats: () => HeartbeatStats;
  readonly signal: AbortSignal;
}

/**
 * Every `interval_seconds`, until `signal` aborts: sends a heartbeat to each client of the
 * transport (when enabled) and disconnects clients whose queue stayed full all interval.
 */
export function runHeartbeat(options: HeartbeatOptions): void {
  const { hub, transport, config, signal } = options;
  if (signal.aborted) return;
  const intervalMs = config.intervalSeconds * 1000;
  const timer = setInterval(() => {
    const now = Date.now();
    hub.evictStuck(transport, intervalMs, now);
    if (!config.enabled) return;
    const frame = heartbeatFrame(transport, config, options.stats(), new Date(now));
    for (const client of hub.clients) {
      if (client.transport === transport) client.queue.force(frame);
    }
  }, intervalMs);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
