/** Where files that exist at startup are read from. */
export type ReadFrom = "end" | "beginning";

/** How heartbeats are written: an SSE comment or a JSON event/line. */
export type HeartbeatFormat = "json" | "comment";

/** One thing to follow: a single file, or the matching files of a directory. */
export interface TargetConfig {
  /** Absolute path (relative paths in the file are resolved against the working directory). */
  readonly path: string;
  /** Glob on the base name; `*` for file targets. */
  readonly pattern: string;
  readonly isFile: boolean;
}

/** How a stream follows its files. */
export interface MonitorConfig {
  readonly checkIntervalMs: number;
  readonly targets: readonly TargetConfig[];
  readonly readFrom: ReadFrom;
  readonly maxLineBytes: number;
  /**
   * Use file-system events (`Deno.watchFs`) besides the poll. Off, every file is polled every
   * `checkIntervalMs`; on, idle files are polled less often, as events cover them.
   */
  readonly fsEvents: boolean;
}

/** Keep-alive messages sent to every client of a server. */
export interface HeartbeatConfig {
  readonly enabled: boolean;
  readonly intervalSeconds: number;
  readonly includeTimestamp: boolean;
  readonly includeStats: boolean;
  readonly format: HeartbeatFormat;
}

/** Settings shared by the TCP and HTTP servers of a stream. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Per-client queue length, in entries. */
  readonly bufferSize: number;
  readonly heartbeat: HeartbeatConfig;
}

/** The HTTP/SSE server of a stream. */
export interface HttpServerConfig extends ServerConfig {
  readonly streamPath: string;
  readonly statusPath: string;
}

/** One independent pipeline: its targets and its enabled servers. */
export interface StreamConfig {
  readonly name: string;
  readonly monitor: MonitorConfig;
  /** Present only when `tcpserver.enabled = true`. */
  readonly tcp?: ServerConfig;
  /** Present only when `httpserver.enabled = true`. */
  readonly http?: HttpServerConfig;
}

/** Where router mode listens. */
export interface RouterConfig {
  readonly host: string;
  readonly port: number;
}

/** Where the configuration came from, for startup logs and `--check`. */
export type ConfigSource =
  | { readonly kind: "file"; readonly path: string; readonly via: string }
  | { readonly kind: "default"; readonly searched: readonly SearchedPlace[] };

/** A place the lookup looked for a configuration file, and why it passed over it if not absent. */
export interface SearchedPlace {
  readonly path: string;
  /** Why the place could not be checked, e.g. `no read permission`. */
  readonly skipped?: string;
}

/** The whole validated configuration. Frozen; no raw TOML gets past the loader. */
export interface Config {
  readonly source: ConfigSource;
  readonly streams: readonly StreamConfig[];
  /** Absent when no stream serves HTTP and `[router] port` is not set. */
  readonly router?: RouterConfig;
  readonly console: { readonly statsIntervalSeconds: number };
}
