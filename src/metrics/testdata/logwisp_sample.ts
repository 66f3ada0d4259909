/**
 * A representative exposition for tests and benchmarks: every LogWisp family with
 * plausible values and every label value a stream may have, numbers growing with `tick` so
 * that Prometheus sees rates.
 *
 * @module
 */
import { Exposition } from "../exposition.ts";
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
} from "../families.ts";
import { Histogram } from "../histogram.ts";

/** The bounded label values a stream's samples carry. */
export const TRANSPORTS = ["sse", "ws", "tcp"] as const;
/** Every rotation `reason` label value. */
export const ROTATION_REASONS = [
  "inode_change",
  "size_decrease",
  "mtime_reset",
  "position_beyond_size",
] as const;
/** Sample `state` label values. */
export const FILE_STATES = ["active", "missing", "unreadable"] as const;
/** Sample rejection `reason` label values. */
export const REJECT_REASONS = [
  "max_connections",
  "max_connections_per_ip",
  "denied",
  "rate_limited",
  "tls_error",
  "auth_failure",
] as const;
/** Sample authentication failure `reason` label values. */
export const AUTH_REASONS = ["rejected"] as const;
/** The `state` label values of the publisher family. */
export const PUBLISH_STATES = ["connected", "reconnecting", "blocked"] as const;
/** The `server` label values of the TLS expiry family. */
export const TLS_SERVERS = ["http", "tcp"] as const;

/** What a stream's files have counted, summed over the files. */
export interface ReadCounts {
  /** Entries read. */
  readonly entries: number;
  /** Bytes read. */
  readonly bytesRead: number;
  /** Entries dropped by transforms. */
  readonly filtered: number;
  /** Lines cut. */
  readonly truncated: number;
  /** Read errors. */
  readonly readErrors: number;
  /** By reason. */
  readonly rotations: Readonly<Record<string, number>>;
  /** Watched files by state. */
  readonly files: Readonly<Record<string, number>>;
}

/** Adds one stream's reading families. */
export function addReadFamilies(exposition: Exposition, stream: string, counts: ReadCounts): void {
  exposition
    .add(ENTRIES, { stream }, counts.entries)
    .add(BYTES_READ, { stream }, counts.bytesRead)
    .add(FILTERED_ENTRIES, { stream }, counts.filtered)
    .add(TRUNCATED_LINES, { stream }, counts.truncated)
    .add(READ_ERRORS, { stream }, counts.readErrors);
  for (const reason in counts.rotations) {
    exposition.add(ROTATIONS, { stream, reason }, counts.rotations[reason]!);
  }
  for (const state in counts.files) {
    exposition.add(WATCHED_FILES, { stream, state }, counts.files[state]!);
  }
}

/** Adds one stream's serving families (clients, connections, auth, TLS, NATS), derived from `tick`. */
export function addServeFamilies(exposition: Exposition, stream: string, tick: number): void {
  const n = tick + 1;
  exposition.add(SLOW_CLIENTS_DISCONNECTED, { stream }, n);
  exposition.add(EXPENSIVE_FILTERS_DISCONNECTED, { stream }, n);
  TRANSPORTS.forEach((transport, i) => {
    exposition
      .add(CLIENTS, { stream, transport }, 5 - i)
      .add(CONNECTIONS, { stream, transport }, 10 * n + i)
      .add(ENTRIES_SENT, { stream, transport }, 950 * n * (3 - i))
      .add(BYTES_SENT, { stream, transport }, 160_000 * n * (3 - i))
      .add(ENTRIES_DROPPED, { stream, transport }, 50 * n * i);
    REJECT_REASONS.forEach((reason, j) =>
      exposition.add(CONNECTIONS_REJECTED, { stream, transport, reason }, j * n)
    );
  });
  AUTH_REASONS.forEach((reason, i) => exposition.add(AUTH_FAILURES, { stream, reason }, i * n));
  TLS_SERVERS.forEach((server, i) =>
    exposition.add(
      TLS_CERTIFICATE_EXPIRY,
      { stream, server },
      Date.UTC(2027, 0, 1) / 1000 + i * 86_400 * 60,
    )
  );
  PUBLISH_STATES.forEach((state, i) =>
    exposition.add(PUBLISH_STATE, { stream, state }, i === tick % PUBLISH_STATES.length ? 1 : 0)
  );
  exposition
    .add(PUBLISHED_ENTRIES, { stream }, 990 * n)
    .add(PUBLISH_PENDING, { stream }, 10 * (tick % 5));
}

/** Adds one stream's samples of every stream family, with values derived from `tick`. */
export function addStream(exposition: Exposition, stream: string, tick: number): void {
  const n = tick + 1;
  addReadFamilies(exposition, stream, {
    entries: 1000 * n,
    bytesRead: 150_000 * n,
    filtered: 40 * n,
    truncated: 2 * n,
    readErrors: n,
    rotations: Object.fromEntries(ROTATION_REASONS.map((reason, i) => [reason, i * n])),
    files: Object.fromEntries(FILE_STATES.map((state, i) => [state, 3 - i])),
  });
  addServeFamilies(exposition, stream, tick);
}

/** A latency histogram with observations from 60 µs to 12 s, mostly below a millisecond. */
export function sampleHistogram(tick: number): Histogram {
  const histogram = new Histogram();
  for (let i = 0; i < 100 * (tick + 1); i++) {
    histogram.observe(0.00006 * (1 + (i % 10)));
    if (i % 10 === 0) histogram.observe(0.002 * (1 + (i % 7)));
    if (i % 100 === 0) histogram.observe(12);
  }
  return histogram;
}

/** Every stream family for `streams`, and the latency histogram, at `tick`. */
export function sampleExposition(streams: readonly string[], tick = 0): Exposition {
  const exposition = new Exposition();
  for (const stream of streams) addStream(exposition, stream, tick);
  exposition.add(READ_TO_SEND, {}, sampleHistogram(tick).snapshot());
  return exposition;
}

/** One sample line of an exposition: its metric name, raw label text and value. */
export interface ParsedSample {
  /** The series' name (with `_bucket`, `_sum` or `_count` for a histogram). */
  readonly name: string;
  /** As written between the braces, escapes and all; "" without labels. */
  readonly labels: string;
  /** The sample's value. */
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;

/** The sample lines of an exposition, in order. */
export function parseSamples(text: string): ParsedSample[] {
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => {
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`Not a sample line: ${JSON.stringify(line)}`);
    const raw = match[3]!;
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    return { name: match[1]!, labels: match[2] ?? "", value };
  });
}
