import { quote } from "../config/config_error.ts";
import type {
  Config,
  HeartbeatConfig,
  ListenerConfig,
  MonitorConfig,
  ServerConfig,
  TransformConfig,
} from "../config/types.ts";
import { formatAddress } from "../server/connection.ts";
import { describeNats } from "./describe_nats.ts";

/** Human description of where the configuration came from, for `--check` and startup. */
export function describeSource(config: Config): string {
  const { source } = config;
  if (source.kind === "file") return `${source.path} (from ${source.via})`;
  const places = source.searched.map(({ path, skipped }) =>
    skipped ? `${quote(path)} (skipped: ${skipped})` : quote(path)
  );
  const searched = places.length > 0 ? `; searched ${places.join(", ")}` : "";
  return `built-in default (no configuration file found${searched})`;
}

/** The `--check` summary (README "Command line"): per stream its targets, servers, ports, paths, heartbeat. */
export function formatCheckSummary(
  config: Config,
  options: { router: boolean; warnings?: readonly string[] },
): string {
  const lines = [
    `Configuration: ${describeSource(config)}`,
    `Mode: ${options.router ? "router" : "standalone"}`,
    "",
  ];
  for (const stream of config.streams) {
    const { monitor, tcp, http } = stream;
    lines.push(`stream "${stream.name}"`);
    if (monitor) lines.push(...describeMonitor(monitor));
    if (stream.transform) lines.push(`  transform ${describeTransform(stream.transform)}`);
    lines.push(...describeNats(stream));
    if (tcp) lines.push(`  tcp      ${address(tcp)}  ${serverDetails(tcp)}`);
    if (http) {
      const prefix = options.router ? `/${stream.name}` : "";
      const where = options.router ? "via router" : address(http);
      lines.push(
        `  http     ${where}  stream ${prefix}${http.streamPath}  status ${prefix}${http.statusPath}` +
          `  ${serverDetails(http)}`,
      );
    }
  }
  lines.push("");
  if (options.router && config.router) {
    lines.push(
      `Router: ${address(config.router)}, global status /status${securityDetails(config.router)}`,
    );
  }
  if (config.metrics) {
    lines.push(`Metrics: ${address(config.metrics)}${config.metrics.path}, /healthz, /readyz`);
  }
  const stats = config.console.statsIntervalSeconds;
  lines.push(`Console statistics: ${stats > 0 ? `every ${stats} s` : "off"}`);
  if (config.audit.enabled) {
    lines.push(`Audit log: ${config.audit.file === "" ? "stderr" : config.audit.file}`);
  }
  for (const warning of options.warnings ?? []) lines.push(`Warning: ${warning}`);
  lines.push("Configuration OK");
  return lines.join("\n") + "\n";
}

/** What a transform does, in one line: only the keys that are set. */
function describeTransform(transform: TransformConfig): string {
  const parts: string[] = [];
  if (transform.minLevel !== undefined) parts.push(`min_level ${transform.minLevel}`);
  if (transform.stripAnsi) parts.push("strip_ansi");
  if (transform.include.length > 0) parts.push(`include ${transform.include.length} pattern(s)`);
  if (transform.exclude.length > 0) parts.push(`exclude ${transform.exclude.length} pattern(s)`);
  if (transform.dropFields.length > 0) parts.push(`drop_fields ${transform.dropFields.join(",")}`);
  if (transform.redactPatterns.length > 0) {
    parts.push(`redact_patterns ${transform.redactPatterns.length}`);
  }
  if (transform.redact.length > 0) parts.push(`redact ${transform.redact.join(",")}`);
  const added = Object.keys(transform.addFields);
  if (added.length > 0) parts.push(`add_fields ${added.join(",")}`);
  return parts.length > 0 ? parts.join(", ") : "none (the table is empty)";
}

function describeMonitor(monitor: MonitorConfig): string[] {
  const lines = monitor.targets.map((target) =>
    target.isFile
      ? `  target   file ${target.path}`
      : `  target   directory ${target.path}, files matching ${quote(target.pattern)}`
  );
  lines.push(
    `  monitor  check every ${monitor.checkIntervalMs} ms, files present at startup read from ` +
      `the ${monitor.readFrom}, lines cut at ${monitor.maxLineBytes} bytes` +
      (monitor.fsEvents ? "" : ", no file-system events (polling only)"),
  );
  return lines;
}

function address(server: { host: string; port: number }): string {
  return formatAddress({ hostname: server.host, port: server.port });
}

function serverDetails(server: ServerConfig): string {
  return `buffer ${server.bufferSize}  heartbeat ${describeHeartbeat(server.heartbeat)}` +
    securityDetails(server);
}

/** TLS and auth of a listener, when it has them. */
function securityDetails(server: ListenerConfig): string {
  const tls = server.tls
    ? `  tls ${server.tls.minVersion}+${server.tls.clientCaFile ? " with client certificates" : ""}`
    : "";
  return `${tls}${server.auth.type === "none" ? "" : `  auth ${server.auth.type}`}`;
}

function describeHeartbeat(heartbeat: HeartbeatConfig): string {
  if (!heartbeat.enabled) return "off";
  const parts = [
    heartbeat.format,
    ...(heartbeat.includeTimestamp ? ["timestamp"] : []),
    ...(heartbeat.includeStats ? ["stats"] : []),
  ];
  return `every ${heartbeat.intervalSeconds} s (${parts.join(", ")})`;
}
