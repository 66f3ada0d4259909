import type { RotationReason } from "../monitor/file_tailer.ts";
import type { HistogramSnapshot } from "../metrics/exposition.ts";
import type { ListenerRefusals, PublishCounts, StreamMetrics } from "../metrics/collect.ts";
import type { RefusalReason } from "../server/listener.ts";
import type { ListenerSnapshot, StreamSnapshot } from "../server/status.ts";

/** The label value of each rotation rule: a metric label has no spaces. */
const ROTATION_LABELS: Readonly<Record<RotationReason, string>> = {
  "inode change": "inode_change",
  "size decrease": "size_decrease",
  "modification time reset": "mtime_reset",
  "position beyond file size": "position_beyond_size",
};

/** Every refusal reason: each server reports each from its start, at zero until it happens. */
const REFUSAL_REASONS = Object.keys(
  {
    max_connections: true,
    max_connections_per_ip: true,
    denied: true,
    rate_limited: true,
    tls_error: true,
    auth_failure: true,
  } satisfies Record<RefusalReason, true>,
) as RefusalReason[];

/**
 * Reasons of `logwisp_auth_failures_total` written from the start, at zero until one
 * happens, so that `increase()` sees the first: no credentials, and wrong ones.
 */
const FIRST_AUTH_FAILURE_REASONS = ["missing", "invalid"];

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
  const tlsExpiry: Record<string, number> = {};
  for (const [server, listener] of [["http", snapshot.http], ["tcp", snapshot.tcp]] as const) {
    if (listener?.tls) tlsExpiry[server] = listener.tls.notAfter.getTime() / 1000;
  }
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
    authFailures: authFailures(servers),
    tlsExpiry,
    publish: publishCounts(snapshot.nats?.publish),
    latency,
  };
}

/** Credentials turned down by the stream's servers, by why (see `AuthFailureReason`). */
function authFailures(servers: readonly ListenerSnapshot[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(
    FIRST_AUTH_FAILURE_REASONS.map((reason) => [reason, 0]),
  );
  for (const server of servers) {
    for (const [reason, count] of server.authFailures ?? []) {
      counts[reason] = (counts[reason] ?? 0) + count;
    }
  }
  return counts;
}

function refusals(transport: string, server: ListenerSnapshot | undefined): ListenerRefusals[] {
  if (!server) return [];
  const counts = new Map<string, number>(REFUSAL_REASONS.map((reason) => [reason, 0]));
  for (const [reason, count] of server.refused ?? []) counts.set(reason, count);
  return [{ transport, counts }];
}

/** The publisher's numbers from the `publish` section of the stream's status. */
function publishCounts(section: unknown): PublishCounts | undefined {
  if (typeof section !== "object" || section === null) return undefined;
  const fields = section as Record<string, unknown>;
  const number = (key: string) => typeof fields[key] === "number" ? fields[key] : 0;
  return {
    state: String(fields.state),
    published: number("published_entries"),
    pending: number("pending_entries"),
  };
}
