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
  /** Follow `path` itself rather than the files of a directory. */
  readonly isFile: boolean;
}

/** How a stream follows its files. */
export interface MonitorConfig {
  /** Stat-poll period, in milliseconds. */
  readonly checkIntervalMs: number;
  /** What the stream follows; at least one. */
  readonly targets: readonly TargetConfig[];
  /** Where files present at startup are read from. */
  readonly readFrom: ReadFrom;
  /** Longer lines are cut to this many bytes and marked truncated. */
  readonly maxLineBytes: number;
  /**
   * Use file-system events (`Deno.watchFs`) besides the poll. Off, every file is polled every
   * `checkIntervalMs`; on, idle files are polled less often, as events cover them.
   */
  readonly fsEvents: boolean;
}

/** Keep-alive messages sent to every client of a server. */
export interface HeartbeatConfig {
  /** Whether heartbeats are sent. */
  readonly enabled: boolean;
  /** Seconds between heartbeats. */
  readonly intervalSeconds: number;
  /** The heartbeat carries the time. */
  readonly includeTimestamp: boolean;
  /** The heartbeat carries the client count and uptime. */
  readonly includeStats: boolean;
  /** An SSE comment or a JSON message. */
  readonly format: HeartbeatFormat;
}

/** TLS for a listener (`[*.tls]`): PEM files as configured, checked at load. */
export interface TlsConfig {
  /** PEM, leaf first, then intermediates. */
  readonly certFile: string;
  /** PEM private key of the certificate. */
  readonly keyFile: string;
  /** Require client certificates signed by this CA (mTLS). */
  readonly clientCaFile?: string;
  /** The oldest TLS version accepted. */
  readonly minVersion: "1.2" | "1.3";
}

/** `[*.auth] type = "basic"`: htpasswd file with bcrypt hashes. */
export interface BasicAuthConfig {
  /** Discriminant. */
  readonly type: "basic";
  /** The realm named in `WWW-Authenticate`. */
  readonly realm: string;
  /** htpasswd file with bcrypt hashes. */
  readonly usersFile: string;
}

/** `[*.auth] type = "bearer"`: static tokens (SHA-256 hashes) and/or JWTs. */
export interface BearerAuthConfig {
  /** Discriminant. */
  readonly type: "bearer";
  /** The realm named in `WWW-Authenticate`. */
  readonly realm: string;
  /** Lines `name:sha256-hex-of-token`. */
  readonly tokensFile?: string;
  /** JWKS file of the keys JWTs may be signed with. */
  readonly jwtJwksFile?: string;
  /** HS256 secret, the whole file (a trailing newline is not part of it). */
  readonly jwtSecretFile?: string;
  /** Required `iss` of JWTs, when set. */
  readonly jwtIssuer?: string;
  /** Required `aud` of JWTs, when set. */
  readonly jwtAudience?: string;
  /** Also accept `?access_token=` (EventSource cannot set headers). */
  readonly allowQueryToken: boolean;
}

/** `[*.auth] type = "mtls"`: the client certificate's subject is the identity. */
export interface MtlsAuthConfig {
  /** Discriminant. */
  readonly type: "mtls";
  /** The realm named in errors. */
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
  /** Bind address. */
  readonly host: string;
  /** TCP port, 1–65535. */
  readonly port: number;
  /** Absent: plain text. */
  readonly tls?: TlsConfig;
  /** Who may use the listener. */
  readonly auth: AuthConfig;
  /** Network access rules. */
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
  /** Keep-alive messages to every client. */
  readonly heartbeat: HeartbeatConfig;
}

/** The HTTP server of a stream: SSE, WebSocket, status, metrics, viewer. */
export interface HttpServerConfig extends ServerConfig {
  /** The Server-Sent Events endpoint. */
  readonly streamPath: string;
  /** The JSON status endpoint. */
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
  /** Built-in detectors whose matches are replaced. */
  readonly redact: readonly RedactDetector[];
  /** Custom patterns and their replacements. */
  readonly redactPatterns: readonly { readonly pattern: string; readonly replacement: string }[];
  /** Keys removed from `fields`. */
  readonly dropFields: readonly string[];
  /** Keys added to `fields`. */
  readonly addFields: Readonly<Record<string, string>>;
  /** Remove ANSI escapes from messages. */
  readonly stripAnsi: boolean;
}

/** How to reach NATS (publish and source share it). */
export interface NatsConnectionConfig {
  /** NATS server URLs. */
  readonly servers: readonly string[];
  /** NATS credentials file. */
  readonly credsFile?: string;
  /** File holding a NATS token. */
  readonly tokenFile?: string;
  /** NATS user name (with `passwordFile`). */
  readonly user?: string;
  /** File holding the NATS password. */
  readonly passwordFile?: string;
  /** NATS NKey seed file. */
  readonly nkeyFile?: string;
  /** TLS towards NATS: CA, client certificate and key. */
  readonly tls?: {
    readonly caFile?: string;
    readonly certFile?: string;
    readonly keyFile?: string;
  };
}

/** `[streams.publish]`: every entry also goes to JetStream. */
export interface PublishConfig extends NatsConnectionConfig {
  /** Discriminant. */
  readonly type: "nats";
  /** With `{host}` and `{stream}` placeholders. */
  readonly subject: string;
  /** Replaces the hostname in `{host}` when not empty. */
  readonly hostName: string;
  /** The JetStream stream that stores the subjects. */
  readonly jetstreamStream: string;
  /** Create the JetStream stream when it is missing. */
  readonly createStream: boolean;
  /** Bound on entries read but not yet acknowledged. */
  readonly maxPendingEntries: number;
}

/** `[streams.source]`: a stream fed from JetStream subjects instead of files. */
export interface NatsSourceConfig extends NatsConnectionConfig {
  /** Discriminant. */
  readonly type: "nats";
  /** The JetStream stream read from. */
  readonly jetstreamStream: string;
  /** Subjects to serve; wildcards allowed. */
  readonly subjects: readonly string[];
}

/** One independent pipeline: its entries' source and its enabled servers. */
export interface StreamConfig {
  /** Unique; a URL segment in router mode. */
  readonly name: string;
  /** Files to follow; exactly one of `monitor` and `source` is present. */
  readonly monitor?: MonitorConfig;
  /** A JetStream subject set to serve instead of files. */
  readonly source?: NatsSourceConfig;
  /** Where entries are published besides the stream's own clients. */
  readonly publish?: PublishConfig;
  /** Applied once to every entry, before anything else sees it. */
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
  /** The metrics endpoint. */
  readonly path: string;
}

/** `[audit]`: one JSON line per connection, refusal and authentication event. */
export interface AuditConfig {
  /** Whether audit lines are written. */
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
  /** Where the lookup looked. */
  readonly path: string;
  /** Why the place could not be checked, e.g. `no read permission`. */
  readonly skipped?: string;
}

/** The whole validated configuration. Frozen; no raw TOML gets past the loader. */
export interface Config {
  /** Which file (or the built-in default) this came from. */
  readonly source: ConfigSource;
  /** At least one. */
  readonly streams: readonly StreamConfig[];
  /** Absent when no stream serves HTTP and `[router] port` is not set. */
  readonly router?: RouterConfig;
  /** A listener of its own for metrics, health and readiness. */
  readonly metrics?: MetricsConfig;
  /** The audit log. */
  readonly audit: AuditConfig;
  /** Periodic statistics on stderr; 0 seconds is off. */
  readonly console: { readonly statsIntervalSeconds: number };
}
