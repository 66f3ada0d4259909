/**
 * LogWisp's metric families. Names and label names are a contract that dashboards and
 * alerts depend on. Label values must stay few: stream names, transports, server kinds and
 * fixed reasons, never paths, client addresses or user names (each distinct value is a
 * series Prometheus keeps).
 *
 * @module
 */
import { defineCounter, defineGauge, defineHistogram, type MetricFamily } from "./exposition.ts";
import {
  BUILD_INFO,
  CPU_SECONDS,
  OPEN_FDS,
  RESIDENT_MEMORY,
  START_TIME,
} from "./process_metrics.ts";

/** `logwisp_entries_total{stream}`. */
export const ENTRIES: MetricFamily<"counter", "stream"> = defineCounter(
  "logwisp_entries_total",
  "Log lines read and turned into entries.",
  ["stream"],
);

/** `logwisp_bytes_read_total{stream}`. */
export const BYTES_READ: MetricFamily<"counter", "stream"> = defineCounter(
  "logwisp_bytes_read_total",
  "Bytes read from the stream's files.",
  ["stream"],
);

/** `logwisp_filtered_entries_total{stream}`: dropped by the stream's transforms. */
export const FILTERED_ENTRIES: MetricFamily<"counter", "stream"> = defineCounter(
  "logwisp_filtered_entries_total",
  "Entries dropped by the stream's transforms.",
  ["stream"],
);

/** `logwisp_truncated_lines_total{stream}`. */
export const TRUNCATED_LINES: MetricFamily<"counter", "stream"> = defineCounter(
  "logwisp_truncated_lines_total",
  "Lines cut at max_line_bytes.",
  ["stream"],
);

/**
 * `logwisp_rotations_total{stream,reason}`; reason one per rotation rule, for example
 * `inode_change`, `size_decrease`, `mtime_reset`, `position_beyond_size`.
 */
export const ROTATIONS: MetricFamily<"counter", "stream" | "reason"> = defineCounter(
  "logwisp_rotations_total",
  "Rotations and truncations of watched files, by the rule that detected them.",
  ["stream", "reason"],
);

/** `logwisp_read_errors_total{stream}`. */
export const READ_ERRORS: MetricFamily<"counter", "stream"> = defineCounter(
  "logwisp_read_errors_total",
  "Failed attempts to open or read a watched file.",
  ["stream"],
);

/** `logwisp_watched_files{stream,state}`; state as status reports it (`active`, `unreadable`…). */
export const WATCHED_FILES: MetricFamily<"gauge", "stream" | "state"> = defineGauge(
  "logwisp_watched_files",
  "Files the stream watches, by state.",
  ["stream", "state"],
);

/** `logwisp_clients{stream,transport}`; transport `sse`, `ws` or `tcp`. */
export const CLIENTS: MetricFamily<"gauge", "stream" | "transport"> = defineGauge(
  "logwisp_clients",
  "Connected clients.",
  ["stream", "transport"],
);

/** `logwisp_connections_total{stream,transport}`: accepted connections. */
export const CONNECTIONS: MetricFamily<"counter", "stream" | "transport"> = defineCounter(
  "logwisp_connections_total",
  "Client connections accepted.",
  ["stream", "transport"],
);

/**
 * `logwisp_connections_rejected_total{stream,transport,reason}`; reason `max_connections`,
 * `max_connections_per_ip`, `denied`, `rate_limited`, `tls_error` or `auth_failure`.
 */
export const CONNECTIONS_REJECTED: MetricFamily<"counter", "stream" | "transport" | "reason"> =
  defineCounter(
    "logwisp_connections_rejected_total",
    "Client connections refused, by reason.",
    ["stream", "transport", "reason"],
  );

/** `logwisp_entries_sent_total{stream,transport}`. */
export const ENTRIES_SENT: MetricFamily<"counter", "stream" | "transport"> = defineCounter(
  "logwisp_entries_sent_total",
  "Entries written to clients.",
  ["stream", "transport"],
);

/** `logwisp_bytes_sent_total{stream,transport}`. */
export const BYTES_SENT: MetricFamily<"counter", "stream" | "transport"> = defineCounter(
  "logwisp_bytes_sent_total",
  "Bytes written to clients.",
  ["stream", "transport"],
);

/** `logwisp_entries_dropped_total{stream,transport}`: a client's buffer was full. */
export const ENTRIES_DROPPED: MetricFamily<"counter", "stream" | "transport"> = defineCounter(
  "logwisp_entries_dropped_total",
  "Entries not sent to a client because its buffer was full.",
  ["stream", "transport"],
);

/** `logwisp_slow_clients_disconnected_total{stream}`. */
export const SLOW_CLIENTS_DISCONNECTED: MetricFamily<"counter", "stream"> = defineCounter(
  "logwisp_slow_clients_disconnected_total",
  "Clients disconnected after their buffer stayed full for slow_client_timeout_seconds.",
  ["stream"],
);

/** `logwisp_expensive_filters_disconnected_total{stream}`. */
export const EXPENSIVE_FILTERS_DISCONNECTED: MetricFamily<"counter", "stream"> = defineCounter(
  "logwisp_expensive_filters_disconnected_total",
  "Clients disconnected because their filter took more than its share of the thread.",
  ["stream"],
);

/**
 * `logwisp_auth_failures_total{stream,reason}`; reason `rejected`: credentials missing,
 * malformed, wrong or expired (the servers count these as one refusal reason).
 */
export const AUTH_FAILURES: MetricFamily<"counter", "stream" | "reason"> = defineCounter(
  "logwisp_auth_failures_total",
  "Failed authentications, by reason.",
  ["stream", "reason"],
);

/** `logwisp_tls_certificate_expiry_timestamp_seconds{stream,server}`; server `http` or `tcp`. */
export const TLS_CERTIFICATE_EXPIRY: MetricFamily<"gauge", "stream" | "server"> = defineGauge(
  "logwisp_tls_certificate_expiry_timestamp_seconds",
  "When the server's TLS certificate expires, in seconds since the Unix epoch.",
  ["stream", "server"],
);

/** `logwisp_publish_state{stream,state}`: 1 for the publisher's state, 0 for the others. */
export const PUBLISH_STATE: MetricFamily<"gauge", "stream" | "state"> = defineGauge(
  "logwisp_publish_state",
  "The NATS publisher's state (connected, reconnecting, blocked): 1 for the current one.",
  ["stream", "state"],
);

/** `logwisp_published_entries_total{stream}`: acknowledged by JetStream, duplicates included. */
export const PUBLISHED_ENTRIES: MetricFamily<"counter", "stream"> = defineCounter(
  "logwisp_published_entries_total",
  "Entries JetStream acknowledged.",
  ["stream"],
);

/** `logwisp_publish_pending{stream}`: entries read but not acknowledged yet. */
export const PUBLISH_PENDING: MetricFamily<"gauge", "stream"> = defineGauge(
  "logwisp_publish_pending",
  "Entries read and not yet acknowledged by JetStream (bounded by max_pending_entries).",
  ["stream"],
);

/** `logwisp_read_to_send_seconds`: one histogram for the process, over every client. */
export const READ_TO_SEND: MetricFamily<"histogram", never> = defineHistogram(
  "logwisp_read_to_send_seconds",
  "Time from the read of a line to the write of its entry to a client's socket.",
);

/** Every family LogWisp exposes, its process families included. */
export const FAMILIES: readonly MetricFamily[] = Object.freeze([
  BUILD_INFO,
  ENTRIES,
  BYTES_READ,
  FILTERED_ENTRIES,
  TRUNCATED_LINES,
  ROTATIONS,
  READ_ERRORS,
  WATCHED_FILES,
  CLIENTS,
  CONNECTIONS,
  CONNECTIONS_REJECTED,
  ENTRIES_SENT,
  BYTES_SENT,
  ENTRIES_DROPPED,
  SLOW_CLIENTS_DISCONNECTED,
  EXPENSIVE_FILTERS_DISCONNECTED,
  AUTH_FAILURES,
  TLS_CERTIFICATE_EXPIRY,
  PUBLISH_STATE,
  PUBLISHED_ENTRIES,
  PUBLISH_PENDING,
  READ_TO_SEND,
  RESIDENT_MEMORY,
  CPU_SECONDS,
  OPEN_FDS,
  START_TIME,
]);
