import { clockPrefix } from "../log.ts";
import type { StreamSnapshot } from "../server/status.ts";

/**
 * The periodic console statistics (README "Clients"):
 *
 *     [15:04:05] Active streams: 2
 *       app: watchers=3 entries=1542 tcp_conns=2 http_conns=5
 */
export function formatConsoleStats(snapshots: readonly StreamSnapshot[], now: Date): string {
  const lines = [`${clockPrefix(now)} Active streams: ${snapshots.length}`];
  for (const { name, monitor, hub, tcp, http } of snapshots) {
    const drops = hub.droppedEntries > 0 ? ` dropped=${hub.droppedEntries}` : "";
    const count = (server: typeof tcp) => server ? hub.clientCount(server.codecs) : 0;
    // A NATS-fed stream has no watchers: it counts what it received.
    const source = monitor
      ? `watchers=${monitor.activeWatchers} entries=${monitor.totalEntries}`
      : `nats last_seq=${hub.lastSeq}`;
    lines.push(
      `  ${name}: ${source} tcp_conns=${count(tcp)} http_conns=${count(http)}${drops}`,
    );
  }
  return lines.join("\n") + "\n";
}
