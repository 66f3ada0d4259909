import type { RotationReason } from "../monitor/file_tailer.ts";
import type { HistogramSnapshot } from "../metrics/exposition.ts";
import type { ListenerRefusals, StreamMetrics } from "../metrics/collect.ts";
import type { ListenerSnapshot, StreamSnapshot } from "../server/status.ts";

/** The label value of each rotation rule: a metric label has no spaces. */
const ROTATION_LABELS: Readonly<Record<RotationReason, string>> = {
  "inode change": "inode_change",
  "size decrease": "size_decrease",
  "modification time reset": "mtime_reset",
  "position beyond file size": "position_beyond_size",
};

/** A stream's status numbers as the metrics read them. */
export function streamMetrics(
  snapshot: StreamSnapshot,
  latency: HistogramSnapshot,
): StreamMetrics {
  const { monitor, hub } = snapshot;
  const rotations: Record<string, number> = {};
  for (const [reason, label] of Object.entries(ROTATION_LABELS)) {
    rotations[label] = monitor?.rotationsBy[reason as RotationReason] ?? 0;
  }
  const files: Record<string, number> = { following: 0, missing: 0, duplicate: 0, error: 0 };
  for (const watcher of monitor?.watchers ?? []) {
    files[watcher.state] = (files[watcher.state] ?? 0) + 1;
  }
  const clients = new Map<string, number>();
  for (const client of hub.clients) {
    clients.set(client.transport, (clients.get(client.transport) ?? 0) + 1);
  }
  const servers = [snapshot.http, snapshot.tcp].filter((s) => s !== undefined);
  return {
    stream: snapshot.name,
    // A stream fed from NATS reads no files: its entries are those the hub was given.
    entries: monitor?.totalEntries ?? hub.lastSeq,
    bytesRead: monitor?.bytesRead ?? 0,
    filteredEntries: snapshot.filteredEntries ?? 0,
    truncatedLines: monitor?.truncatedLines ?? 0,
    readErrors: monitor?.readErrors ?? 0,
    rotations,
    files,
    transports: servers.flatMap((server) => server.codecs.map((codec) => codec.transport)),
    clients,
    totals: hub.transportTotals,
    refusals: [
      ...refusals("http", snapshot.http),
      ...refusals("tcp", snapshot.tcp),
    ],
    latency,
  };
}

function refusals(transport: string, server: ListenerSnapshot | undefined): ListenerRefusals[] {
  return server?.refused ? [{ transport, counts: server.refused }] : [];
}
