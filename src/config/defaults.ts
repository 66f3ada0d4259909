import type { Config, ConfigSource } from "./types.ts";

/** Default of every optional key (SPEC §2.2). `config.example.toml` documents the same values. */
export const DEFAULTS = {
  checkIntervalMs: 100,
  readFrom: "end",
  maxLineBytes: 1_048_576,
  fsEvents: true,
  host: "0.0.0.0",
  bufferSize: 1000,
  streamPath: "/stream",
  statusPath: "/status",
  heartbeatIntervalSeconds: 30,
  statsIntervalSeconds: 30,
} as const;

/** Bounds of numeric keys; the upper ones only catch typos that would exhaust memory. */
export const LIMITS = {
  checkIntervalMs: { min: 10, max: 3_600_000 },
  maxLineBytes: { min: 1, max: 67_108_864 },
  port: { min: 1, max: 65_535 },
  bufferSize: { min: 1, max: 1_000_000 },
  heartbeatIntervalSeconds: { min: 1, max: 86_400 },
  statsIntervalSeconds: { min: 0, max: 86_400 },
} as const;

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
        bufferSize: DEFAULTS.bufferSize,
        streamPath: DEFAULTS.streamPath,
        statusPath: DEFAULTS.statusPath,
        heartbeat: {
          enabled: true,
          intervalSeconds: DEFAULTS.heartbeatIntervalSeconds,
          includeTimestamp: true,
          includeStats: false,
          format: "comment",
        },
      },
    }],
    router: { host: DEFAULTS.host, port: 8080 },
    console: { statsIntervalSeconds: DEFAULTS.statsIntervalSeconds },
  };
}
