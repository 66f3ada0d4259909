import type { AccessConfig, AuthConfig, Config, ConfigSource, ListenerLimits } from "./types.ts";

/** Default of every optional key (README "Configuration"). `config.example.toml` documents the same values. */
export const DEFAULTS = {
  checkIntervalMs: 100,
  readFrom: "end",
  maxLineBytes: 1_048_576,
  fsEvents: true,
  host: "0.0.0.0",
  bufferSize: 1000,
  streamPath: "/stream",
  statusPath: "/status",
  wsPath: "/ws",
  metricsPath: "/metrics",
  viewerPath: "/",
  bufferBytes: 8 * 1024 * 1024,
  slowClientTimeoutSeconds: 30,
  maxConnections: 1024,
  maxConnectionsPerIp: 64,
  headerTimeoutSeconds: 10,
  heartbeatIntervalSeconds: 30,
  statsIntervalSeconds: 30,
} as const;

/** Bounds of numeric keys; the upper ones only catch typos that would exhaust memory. */
export const LIMITS = {
  checkIntervalMs: { min: 10, max: 3_600_000 },
  maxLineBytes: { min: 1, max: 67_108_864 },
  port: { min: 1, max: 65_535 },
  bufferSize: { min: 1, max: 1_000_000 },
  bufferBytes: { min: 1024, max: 1_073_741_824 },
  slowClientTimeoutSeconds: { min: 1, max: 86_400 },
  maxConnections: { min: 1, max: 1_000_000 },
  headerTimeoutSeconds: { min: 1, max: 3600 },
  heartbeatIntervalSeconds: { min: 1, max: 86_400 },
  statsIntervalSeconds: { min: 0, max: 86_400 },
} as const;

/** Connection limits when none are configured. */
export const DEFAULT_LIMITS: ListenerLimits = {
  maxConnections: DEFAULTS.maxConnections,
  maxConnectionsPerIp: DEFAULTS.maxConnectionsPerIp,
  headerTimeoutSeconds: DEFAULTS.headerTimeoutSeconds,
};

/** No authentication. */
export const NO_AUTH: AuthConfig = { type: "none" };

/** Everyone may connect, as often as they like; browsers on any origin may read. */
export const OPEN_ACCESS: AccessConfig = {
  allow: [],
  deny: [],
  trustedProxies: [],
  connectionsPerMinutePerIp: 0,
  authFailuresPerMinutePerIp: 10,
  corsOrigins: ["*"],
};

/**
 * The configuration used when no file is found: stream `default` follows `*.log` in the
 * working directory and serves HTTP on 8080 with a comment heartbeat every 30 s.
 */
export function builtinConfig(cwd: string, source: ConfigSource): Config {
  return {
    source,
    streams: [{
      name: "default",
      monitor: {
        checkIntervalMs: DEFAULTS.checkIntervalMs,
        targets: [{ path: cwd, pattern: "*.log", isFile: false }],
        readFrom: DEFAULTS.readFrom,
        maxLineBytes: DEFAULTS.maxLineBytes,
        fsEvents: DEFAULTS.fsEvents,
      },
      http: {
        host: DEFAULTS.host,
        port: 8080,
        ...DEFAULT_LIMITS,
        auth: NO_AUTH,
        access: OPEN_ACCESS,
        bufferSize: DEFAULTS.bufferSize,
        bufferBytes: DEFAULTS.bufferBytes,
        slowClientTimeoutSeconds: DEFAULTS.slowClientTimeoutSeconds,
        streamPath: DEFAULTS.streamPath,
        statusPath: DEFAULTS.statusPath,
        wsPath: DEFAULTS.wsPath,
        metricsPath: DEFAULTS.metricsPath,
        viewerPath: DEFAULTS.viewerPath,
        heartbeat: {
          enabled: true,
          intervalSeconds: DEFAULTS.heartbeatIntervalSeconds,
          includeTimestamp: true,
          includeStats: false,
          format: "comment",
        },
      },
    }],
    router: {
      host: DEFAULTS.host,
      port: 8080,
      ...DEFAULT_LIMITS,
      auth: NO_AUTH,
      access: OPEN_ACCESS,
      metricsPath: DEFAULTS.metricsPath,
      viewerPath: DEFAULTS.viewerPath,
    },
    audit: { enabled: false, file: "" },
    console: { statsIntervalSeconds: DEFAULTS.statsIntervalSeconds },
  };
}
