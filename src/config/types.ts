import type { Level } from "../entry/entry.ts";

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

/** TLS for a listener (`[*.tls]`): PEM files as configured, checked at load. */
export interface TlsConfig {
  /** PEM, leaf first, then intermediates. */
  readonly certFile: string;
  readonly keyFile: string;
  /** Require client certificates signed by this CA (mTLS). */
  readonly clientCaFile?: string;
  readonly minVersion: "1.2" | "1.3";
}

/** `[*.auth] type = "basic"`: htpasswd file with bcrypt hashes. */
export interface BasicAuthConfig {
  readonly type: "basic";
  readonly realm: string;
  readonly usersFile: string;
}

/** `[*.auth] type = "bearer"`: static tokens (SHA-256 hashes) and/or JWTs. */
export interface BearerAuthConfig {
  readonly type: "bearer";
  readonly realm: string;
  /** Lines `name:sha256-hex-of-token`. */
  readonly tokensFile?: string;
  readonly jwtJwksFile?: string;
  /** HS256 secret, the whole file (a trailing newline is not part of it). */
  readonly jwtSecretFile?: string;
  readonly jwtIssuer?: string;
  readonly jwtAudience?: string;
  /** Also accept `?access_token=` (EventSource cannot set headers). */
  readonly allowQueryToken: boolean;
}

/** `[*.auth] type = "mtls"`: the client certificate's subject is the identity. */
export interface MtlsAuthConfig {
  readonly type: "mtls";
  readonly realm: string;
  /** CN globs; empty: any certificate the CA signed. */
  readonly allowedSubjects: readonly string[];
}

/** Who may use a server (`[*.auth]`); `none` is the default. */
export type AuthConfig =
  | { readonly type: "none" }
  | BasicAuthConfig
  | BearerAuthConfig
  | MtlsAuthConfig;

/** Network access rules of a listener (`[*.access]`). */
export interface AccessConfig {
  /** Addresses and CIDRs (IPv4 and IPv6); empty: everyone. */
  readonly allow: readonly string[];
  /** Addresses and CIDRs; deny wins over allow. */
  readonly deny: readonly string[];
  /** Peers whose `X-Forwarded-For` is believed (HTTP only). */
  readonly trustedProxies: readonly string[];
  /** Token bucket per client address, burst = this figure; 0 = unlimited. */
  readonly connectionsPerMinutePerIp: number;
  /** After this many failed authentications in a minute, 429 for a minute; 0 = unlimited. */
  readonly authFailuresPerMinutePerIp: number;
  /** `Access-Control-Allow-Origin` values; `*` is refused together with auth. */
  readonly corsOrigins: readonly string[];
}

/** How many connections a listener takes, and how long a client may stall (hostile input). */
export interface ListenerLimits {
  /** Open connections at once; over it HTTP gets 503, TCP is closed. */
  readonly maxConnections: number;
  /** Open connections at once from one address. */
  readonly maxConnectionsPerIp: number;
  /** HTTP: complete request headers must arrive within this (also the idle keep-alive limit). */
  readonly headerTimeoutSeconds: number;
}

/** What every listener (stream servers, router, metrics) shares. */
export interface ListenerConfig extends ListenerLimits {
  readonly host: string;
  readonly port: number;
  /** Absent: plain text. */
  readonly tls?: TlsConfig;
  readonly auth: AuthConfig;
  readonly access: AccessConfig;
}

/** Settings shared by the TCP and HTTP servers of a stream. */
export interface ServerConfig extends ListenerConfig {
  /** Per-client queue length, in entries. */
  readonly bufferSize: number;
  /** Per-client queue size, in bytes; whichever bound is reached first drops. */
  readonly bufferBytes: number;
  /** A client whose queue has been full this long is disconnected. */
  readonly slowClientTimeoutSeconds: number;
  readonly heartbeat: HeartbeatConfig;
}

/** The HTTP server of a stream: SSE, WebSocket, status, metrics, viewer. */
export interface HttpServerConfig extends ServerConfig {
  readonly streamPath: string;
  readonly statusPath: string;
  /** `""`: no WebSocket endpoint. */
  readonly wsPath: string;
  /** `""`: no metrics endpoint. */
  readonly metricsPath: string;
  /** `""`: no viewer. */
  readonly viewerPath: string;
}

/** Detectors `[streams.transform] redact` knows. */
export type RedactDetector =
  | "email"
  | "ipv4"
  | "ipv6"
  | "bearer_token"
  | "jwt"
  | "credit_card"
  | "aws_access_key";

/** A per-stream transform applied once, before an entry reaches anything else. */
export interface TransformConfig {
  /** Drop entries below this level; entries with no level are kept. */
  readonly minLevel?: Level;
  /** Keep only entries whose message matches one (when not empty). */
  readonly include: readonly string[];
  /** Drop entries whose message matches one. */
  readonly exclude: readonly string[];
  readonly redact: readonly RedactDetector[];
  readonly redactPatterns: readonly { readonly pattern: string; readonly replacement: string }[];
  readonly dropFields: readonly string[];
  readonly addFields: Readonly<Record<string, string>>;
  readonly stripAnsi: boolean;
}

/** How to reach NATS (publish and source share it). */
export interface NatsConnectionConfig {
  readonly servers: readonly string[];
  readonly credsFile?: string;
  readonly tokenFile?: string;
  readonly user?: string;
  readonly passwordFile?: string;
  readonly nkeyFile?: string;
  readonly tls?: {
    readonly caFile?: string;
    readonly certFile?: string;
    readonly keyFile?: string;
  };
}

/** `[streams.publish]`: every entry also goes to JetStream. */
export interface PublishConfig extends NatsConnectionConfig {
  readonly type: "nats";
  /** With `{host}` and `{stream}` placeholders. */
  readonly subject: string;
  /** Replaces the hostname in `{host}` when not empty. */
  readonly hostName: string;
  readonly jetstreamStream: string;
  readonly createStream: boolean;
  readonly maxPendingEntries: number;
}

/** `[streams.source]`: a stream fed from JetStream subjects instead of files. */
export interface NatsSourceConfig extends NatsConnectionConfig {
  readonly type: "nats";
  readonly jetstreamStream: string;
  readonly subjects: readonly string[];
}

/** One independent pipeline: its entries' source and its enabled servers. */
export interface StreamConfig {
  readonly name: string;
  /** Files to follow; exactly one of `monitor` and `source` is present. */
  readonly monitor?: MonitorConfig;
  /** A JetStream subject set to serve instead of files. */
  readonly source?: NatsSourceConfig;
  /** Where entries are published besides the stream's own clients. */
  readonly publish?: PublishConfig;
  readonly transform?: TransformConfig;
  /** Present only when `tcpserver.enabled = true`. */
  readonly tcp?: ServerConfig;
  /** Present only when `httpserver.enabled = true`. */
  readonly http?: HttpServerConfig;
}

/** Where router mode listens, and what it serves besides the streams. */
export interface RouterConfig extends ListenerConfig {
  /** `""`: no metrics endpoint. */
  readonly metricsPath: string;
  /** `""`: no index page. */
  readonly viewerPath: string;
}

/** `[metrics]`: a listener for `/metrics` when no HTTP server has it. */
export interface MetricsConfig extends ListenerConfig {
  readonly path: string;
}

/** `[audit]`: one JSON line per connection, refusal and authentication event. */
export interface AuditConfig {
  readonly enabled: boolean;
  /** `""`: stderr. */
  readonly file: string;
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
  readonly metrics?: MetricsConfig;
  readonly audit: AuditConfig;
  readonly console: { readonly statsIntervalSeconds: number };
}
