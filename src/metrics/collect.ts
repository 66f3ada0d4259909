/**
 * One scrape: the live numbers of each stream turned into LogWisp's metric families
 * (docs/operations.md "Metrics"), plus the process families.
 *
 * @module
 */
import { Exposition, type HistogramSnapshot } from "./exposition.ts";
import {
  AUTH_FAILURES,
  BYTES_READ,
  BYTES_SENT,
  CLIENTS,
  CONNECTIONS,
  CONNECTIONS_REJECTED,
  ENTRIES,
  ENTRIES_DROPPED,
  ENTRIES_SENT,
  EXPENSIVE_FILTERS_DISCONNECTED,
  FILTERED_ENTRIES,
  PUBLISH_PENDING,
  PUBLISH_STATE,
  PUBLISHED_ENTRIES,
  READ_ERRORS,
  READ_TO_SEND,
  ROTATIONS,
  SLOW_CLIENTS_DISCONNECTED,
  TLS_CERTIFICATE_EXPIRY,
  TRUNCATED_LINES,
  WATCHED_FILES,
} from "./families.ts";
import { addProcessMetrics } from "./process_metrics.ts";

/** Connections one listener refused, by reason. */
export interface ListenerRefusals {
  /** `http` or `tcp`: refusals come before a request says which transport it wants. */
  readonly transport: string;
  /** Refusals so far, by reason. */
  readonly counts: ReadonlyMap<string, number>;
}

/** What one transport of a stream has done since start: counters that never go down. */
export interface TransportCounts {
  /** Clients accepted. */
  readonly connections: number;
  /** Entries written to clients. */
  readonly entriesSent: number;
  /** Bytes written to clients. */
  readonly bytesSent: number;
  /** Entries dropped for full queues. */
  readonly dropped: number;
  /** Clients cut for staying full. */
  readonly slowDisconnected: number;
  /** Clients disconnected for filters that took too much of the thread. */
  readonly filterDisconnected: number;
}

/** What a stream's NATS publisher reports. */
export interface PublishCounts {
  /** `connected`, `reconnecting` or `blocked`. */
  readonly state: string;
  /** Entries JetStream acknowledged. */
  readonly published: number;
  /** Entries read and not acknowledged yet. */
  readonly pending: number;
}

/** Every publisher state: each gets a sample, so a dashboard sees the change to 1. */
export const PUBLISH_STATES: readonly string[] = ["connected", "reconnecting", "blocked"];

/** The live numbers of one stream a scrape reads. */
export interface StreamMetrics {
  /** The stream's name, its `stream` label. */
  readonly stream: string;
  /** Entries read. */
  readonly entries: number;
  /** Bytes read from the stream's files. */
  readonly bytesRead: number;
  /** Entries dropped by the stream's transforms. */
  readonly filteredEntries: number;
  /** Lines cut at `max_line_bytes`. */
  readonly truncatedLines: number;
  /** Failed opens and reads of followed files. */
  readonly readErrors: number;
  /** Rotations by reason, as label values (`inode_change`…). */
  readonly rotations: Readonly<Record<string, number>>;
  /** Watched files by state (`following`, `missing`, `duplicate`, `error`). */
  readonly files: Readonly<Record<string, number>>;
  /** The transports the stream serves (`sse`, `tcp`…): each gets samples, zeros included. */
  readonly transports: readonly string[];
  /** Connected clients, by transport. */
  readonly clients: ReadonlyMap<string, number>;
  /** What each transport has done since start. */
  readonly totals: ReadonlyMap<string, TransportCounts>;
  /** Refusals of the stream's own listeners. */
  readonly refusals: readonly ListenerRefusals[];
  /** Failed authentications on the stream's servers, by reason. */
  readonly authFailures: Readonly<Record<string, number>>;
  /** When each TLS server's certificate expires (`http`, `tcp`), in seconds since the epoch. */
  readonly tlsExpiry: Readonly<Record<string, number>>;
  /** The NATS publisher's numbers, when the stream publishes. */
  readonly publish?: PublishCounts | undefined;
  /** Read-to-send latency of the stream's clients. */
  readonly latency: HistogramSnapshot;
}

/** Everything one scrape reports. */
export interface MetricsSources {
  /** Every stream of the scrape. */
  readonly streams: readonly StreamMetrics[];
  /**
   * Refusals of listeners that belong to no one stream (the router, `[metrics]`); their
   * samples carry `stream=""`, which Prometheus reads as no stream.
   */
  readonly shared?: readonly ListenerRefusals[];
  /** When the certificates of those listeners expire (seconds since the epoch), by server. */
  readonly sharedTlsExpiry?: Readonly<Record<string, number>>;
}

/** The exposition text of one scrape. */
export async function collectMetrics(sources: MetricsSources): Promise<string> {
  const exposition = new Exposition();
  const latencies: HistogramSnapshot[] = [];
  for (const stream of sources.streams) {
    addStream(exposition, stream);
    latencies.push(stream.latency);
  }
  addRefusals(exposition, "", sources.shared ?? []);
  for (const [server, seconds] of Object.entries(sources.sharedTlsExpiry ?? {})) {
    exposition.add(TLS_CERTIFICATE_EXPIRY, { stream: "", server }, seconds);
  }
  const latency = sumHistograms(latencies);
  if (latency) exposition.add(READ_TO_SEND, {}, latency);
  await addProcessMetrics(exposition);
  return exposition.text();
}

function addStream(exposition: Exposition, metrics: StreamMetrics): void {
  const { stream } = metrics;
  exposition
    .add(ENTRIES, { stream }, metrics.entries)
    .add(BYTES_READ, { stream }, metrics.bytesRead)
    .add(FILTERED_ENTRIES, { stream }, metrics.filteredEntries)
    .add(TRUNCATED_LINES, { stream }, metrics.truncatedLines)
    .add(READ_ERRORS, { stream }, metrics.readErrors);
  for (const [reason, count] of Object.entries(metrics.rotations)) {
    exposition.add(ROTATIONS, { stream, reason }, count);
  }
  for (const [state, count] of Object.entries(metrics.files)) {
    exposition.add(WATCHED_FILES, { stream, state }, count);
  }
  let slow = 0;
  let expensive = 0;
  const transports = new Set([...metrics.transports, ...metrics.totals.keys()]);
  for (const transport of transports) {
    const totals = metrics.totals.get(transport);
    slow += totals?.slowDisconnected ?? 0;
    expensive += totals?.filterDisconnected ?? 0;
    exposition
      .add(CLIENTS, { stream, transport }, metrics.clients.get(transport) ?? 0)
      .add(CONNECTIONS, { stream, transport }, totals?.connections ?? 0)
      .add(ENTRIES_SENT, { stream, transport }, totals?.entriesSent ?? 0)
      .add(BYTES_SENT, { stream, transport }, totals?.bytesSent ?? 0)
      .add(ENTRIES_DROPPED, { stream, transport }, totals?.dropped ?? 0);
  }
  exposition
    .add(SLOW_CLIENTS_DISCONNECTED, { stream }, slow)
    .add(EXPENSIVE_FILTERS_DISCONNECTED, { stream }, expensive);
  addRefusals(exposition, stream, metrics.refusals);
  for (const [reason, count] of Object.entries(metrics.authFailures)) {
    exposition.add(AUTH_FAILURES, { stream, reason }, count);
  }
  for (const [server, seconds] of Object.entries(metrics.tlsExpiry)) {
    exposition.add(TLS_CERTIFICATE_EXPIRY, { stream, server }, seconds);
  }
  const { publish } = metrics;
  if (publish) {
    for (const state of PUBLISH_STATES) {
      exposition.add(PUBLISH_STATE, { stream, state }, state === publish.state ? 1 : 0);
    }
    exposition
      .add(PUBLISHED_ENTRIES, { stream }, publish.published)
      .add(PUBLISH_PENDING, { stream }, publish.pending);
  }
}

function addRefusals(
  exposition: Exposition,
  stream: string,
  refusals: readonly ListenerRefusals[],
): void {
  // Two listeners of one transport (the router and `[metrics]`) add up to one series.
  const sums = new Map<string, { transport: string; reason: string; count: number }>();
  for (const { transport, counts } of refusals) {
    for (const [reason, count] of counts) {
      const key = `${transport} ${reason}`;
      const sum = sums.get(key);
      if (sum) sum.count += count;
      else sums.set(key, { transport, reason, count });
    }
  }
  for (const { transport, reason, count } of sums.values()) {
    exposition.add(CONNECTIONS_REJECTED, { stream, transport, reason }, count);
  }
}

/** The bucket-wise sum of histograms with the same bounds; undefined for none. */
export function sumHistograms(
  snapshots: readonly HistogramSnapshot[],
): HistogramSnapshot | undefined {
  const [first, ...rest] = snapshots;
  if (first === undefined) return undefined;
  const buckets = first.buckets.map((bucket) => ({ ...bucket }));
  let { count, sum } = first;
  for (const snapshot of rest) {
    snapshot.buckets.forEach((bucket, i) => buckets[i]!.count += bucket.count);
    count += snapshot.count;
    sum += snapshot.sum;
  }
  return { buckets, count, sum };
}
