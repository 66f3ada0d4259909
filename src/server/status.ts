import type { MonitorStats } from "../monitor/monitor.ts";
import type { Hub } from "../stream/hub.ts";
import { VERSION } from "../version.ts";

/** Live numbers of one stream, from which its status document is built. */
export interface StreamSnapshot {
  readonly name: string;
  readonly uptimeSeconds: number;
  readonly monitor: MonitorStats;
  readonly hub: Hub;
  /** The port HTTP clients use (the router's in router mode), when the stream serves HTTP. */
  readonly httpPort?: number;
  readonly tcpPort?: number;
}

/** `GET {status_path}` (SPEC §7): live numbers only, never placeholders. */
export function streamStatus(snapshot: StreamSnapshot): Record<string, unknown> {
  const { monitor, hub } = snapshot;
  const clients = [...hub.clients];
  const [type, port] = snapshot.httpPort === undefined
    ? ["tcp", snapshot.tcpPort]
    : ["http", snapshot.httpPort];
  return {
    service: "LogWisp",
    version: VERSION,
    stream: snapshot.name,
    server: {
      type,
      port,
      active_clients: hub.clientCount(type === "http" ? "sse" : "tcp"),
      uptime_seconds: snapshot.uptimeSeconds,
    },
    monitor: {
      active_watchers: monitor.activeWatchers,
      total_entries: monitor.totalEntries,
      dropped_entries: hub.droppedEntries,
      rotations: monitor.rotations,
      truncated_lines: monitor.truncatedLines,
      read_errors: monitor.readErrors,
      watchers: monitor.watchers.map((watcher) => ({
        path: watcher.path,
        state: watcher.state,
        size: watcher.size,
        position: watcher.position,
        entries_read: watcher.entriesRead,
        rotations: watcher.rotations,
        last_read: watcher.lastRead,
        read_errors: watcher.readErrors,
        truncated_lines: watcher.truncatedLines,
        ...(watcher.detail !== undefined && { detail: watcher.detail }),
      })),
    },
    ...(snapshot.tcpPort !== undefined && {
      tcp: { port: snapshot.tcpPort, active_clients: hub.clientCount("tcp") },
    }),
    delivery: {
      last_sequence: hub.lastSeq,
      dropped_entries: hub.droppedEntries,
      slow_clients_disconnected: hub.evictedClients,
      clients: clients.map((client) => ({
        id: client.id,
        transport: client.transport,
        remote_addr: client.remoteAddr,
        connected_at: client.connectedAt.toISOString(),
        sent_entries: client.queue.taken,
        queued_entries: client.queue.length,
        dropped_entries: client.queue.dropped,
      })),
    },
  };
}

/** Router mode's global `/status`: every stream's status under its name (SPEC §7). */
export function routerStatus(
  snapshots: readonly StreamSnapshot[],
  uptimeSeconds: number,
): Record<string, unknown> {
  return {
    service: "LogWisp",
    version: VERSION,
    mode: "router",
    uptime_seconds: uptimeSeconds,
    total_streams: snapshots.length,
    streams: Object.fromEntries(snapshots.map((s) => [s.name, streamStatus(s)])),
  };
}
