import { resolve } from "node:path";
import { compileGlob } from "../monitor/glob.ts";
import { Checker, describe, type Table } from "./checker.ts";
import { ConfigError, quote } from "./config_error.ts";
import { DEFAULT_LIMITS, DEFAULTS, LIMITS } from "./defaults.ts";
import { outsideReadPermission } from "./permissions.ts";
import { readAudit, readListenerSecurity, SECURITY_KEYS } from "./read_security.ts";
import { readTransform } from "./read_transform.ts";
import { readMetrics } from "./read_metrics.ts";
import { NATS_STREAM_KEYS, readNatsTables } from "./read_nats.ts";
import type {
  Config,
  HeartbeatConfig,
  HeartbeatFormat,
  HttpServerConfig,
  ListenerLimits,
  MonitorConfig,
  ReadFrom,
  RouterConfig,
  ServerConfig,
  StreamConfig,
  TargetConfig,
} from "./types.ts";

/** How to read a parsed configuration document. */
export interface ValidateOptions {
  /** The file the document came from; every issue names it. */
  readonly file?: string;
  /** Router mode: stream HTTP ports are not bound, the router port is. */
  readonly router?: boolean;
  /** Base for relative target paths. */
  readonly cwd: string;
  /** Whether a target may be read; targets that may not are reported. Default: all may. */
  readonly readable?: (path: string) => boolean;
}

const TOP_KEYS = ["monitor", "streams", "router", "metrics", "console", "audit"];
const GLOBAL_MONITOR_KEYS = ["check_interval_ms", "fs_events"];
const STREAM_KEYS = [
  "name",
  "monitor",
  "tcpserver",
  "httpserver",
  "transform",
  ...NATS_STREAM_KEYS,
];
const MONITOR_KEYS = ["check_interval_ms", "targets", "read_from", "max_line_bytes", "fs_events"];
const TARGET_KEYS = ["path", "pattern", "is_file"];
const LIMIT_KEYS = ["max_connections", "max_connections_per_ip", "header_timeout_seconds"];
const TCP_KEYS = [
  "enabled",
  "host",
  "port",
  "buffer_size",
  "buffer_bytes",
  "slow_client_timeout_seconds",
  "max_connections",
  "max_connections_per_ip",
  "heartbeat",
  ...SECURITY_KEYS,
];
const HTTP_KEYS = [
  ...TCP_KEYS,
  "header_timeout_seconds",
  "stream_path",
  "status_path",
  "ws_path",
  "metrics_path",
  "viewer_path",
];
const HEARTBEAT_KEYS = [
  "enabled",
  "interval_seconds",
  "include_timestamp",
  "include_stats",
  "format",
];
const ROUTER_KEYS = [
  "port",
  "host",
  ...LIMIT_KEYS,
  "metrics_path",
  "viewer_path",
  ...SECURITY_KEYS,
];
const CONSOLE_KEYS = ["stats_interval_seconds"];

const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;
/** A URL path: `/` then unreserved, sub-delim, `:`, `@`, `%` and `/` characters. */
const URL_PATH_PATTERN = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;

/**
 * Checks a parsed TOML document against README "Configuration" and resolves every default.
 * Throws a {@linkcode ConfigError} listing every problem found, not just the first.
 */
export function validateConfig(document: Table, options: ValidateOptions): Omit<Config, "source"> {
  const check = new Checker(options.file);
  const top = check.table(document, "", TOP_KEYS) ?? {};

  const globalMonitor = check.table(top.monitor, "monitor", GLOBAL_MONITOR_KEYS, {
    hint: (key) =>
      MONITOR_KEYS.includes(key) ? "set it per stream, in [streams.monitor]" : undefined,
  }) ?? {};
  const checkIntervalMs = check.integer(
    globalMonitor,
    "monitor",
    "check_interval_ms",
    LIMITS.checkIntervalMs,
    DEFAULTS.checkIntervalMs,
  );
  const fsEvents = check.boolean(globalMonitor, "monitor", "fs_events", DEFAULTS.fsEvents);
  const inherited = { checkIntervalMs, fsEvents };

  const streams = readStreams(check, top.streams, inherited, options);
  const router = readRouter(check, top.router, streams, options.router ?? false);
  const metrics = readMetrics(check, top.metrics);
  checkPorts(check, streams, router, options.router ?? false, metrics?.port);

  const consoleTable = check.table(top.console, "console", CONSOLE_KEYS) ?? {};
  const statsIntervalSeconds = check.integer(
    consoleTable,
    "console",
    "stats_interval_seconds",
    LIMITS.statsIntervalSeconds,
    DEFAULTS.statsIntervalSeconds,
  );

  const audit = readAudit(check, top.audit);
  if (check.issues.length > 0) throw new ConfigError(check.issues);
  return {
    streams: streams.map(({ config }) => config),
    ...(router && { router: router.config }),
    ...(metrics && { metrics }),
    audit,
    console: { statsIntervalSeconds },
  };
}

interface ReadStream {
  readonly config: StreamConfig;
  readonly key: string;
}

/** Global `[monitor]` keys every stream inherits unless its own `[streams.monitor]` sets them. */
interface Inherited {
  readonly checkIntervalMs: number;
  readonly fsEvents: boolean;
}

function readStreams(
  check: Checker,
  value: unknown,
  inherited: Inherited,
  options: ValidateOptions,
): ReadStream[] {
  if (value === undefined) {
    check.report("streams", "at least one [[streams]] entry is required");
    return [];
  }
  if (!Array.isArray(value)) {
    check.report("streams", `expected an array of tables ([[streams]]), got ${describe(value)}`);
    return [];
  }
  if (value.length === 0) check.report("streams", "at least one [[streams]] entry is required");

  const streams: ReadStream[] = [];
  const namedAt = new Map<string, string>();
  value.forEach((item, index) => {
    const key = `streams[${index}]`;
    const table = check.table(item, key, STREAM_KEYS);
    if (!table) return;

    const name = check.string(table, key, "name", {
      required: "a unique name made of letters, digits, _ and -",
    });
    if (name !== undefined && !NAME_PATTERN.test(name)) {
      const rule = "use letters, digits, _ and - (it becomes a URL segment)";
      check.report(`${key}.name`, `${quote(name)} is not a valid name: ${rule}`);
    } else if (name !== undefined && namedAt.has(name)) {
      check.report(`${key}.name`, `${quote(name)} is already the name of ${namedAt.get(name)}`);
    } else if (name !== undefined) {
      namedAt.set(name, key);
    }

    const nats = readNatsTables(check, table, key);
    const monitor = table.source === undefined
      ? readMonitor(check, table.monitor, `${key}.monitor`, inherited, options)
      : undefined;
    const tcp = readTcpServer(check, table.tcpserver, `${key}.tcpserver`);
    const http = readHttpServer(check, table.httpserver, `${key}.httpserver`);
    const transform = readTransform(check, table.transform, `${key}.transform`);
    if (!tcp.enabled && !http.enabled) {
      check.report(key, "no server enabled: set tcpserver.enabled or httpserver.enabled to true");
    }

    streams.push({
      key,
      config: {
        name: name ?? key,
        ...(monitor && { monitor }),
        ...nats,
        ...(tcp.config && { tcp: tcp.config }),
        ...(http.config && { http: http.config }),
        ...(transform && { transform }),
      },
    });
  });
  return streams;
}

function readMonitor(
  check: Checker,
  value: unknown,
  key: string,
  inherited: Inherited,
  options: ValidateOptions,
): MonitorConfig {
  const table = check.table(value, key, MONITOR_KEYS) ?? {};
  if (value === undefined) check.report(key, "required: a [streams.monitor] table with targets");
  return {
    checkIntervalMs: check.integer(
      table,
      key,
      "check_interval_ms",
      LIMITS.checkIntervalMs,
      inherited.checkIntervalMs,
    ),
    targets: value === undefined
      ? []
      : readTargets(check, table.targets, `${key}.targets`, options),
    readFrom: check.choice<ReadFrom>(table, key, "read_from", ["end", "beginning"], "end"),
    maxLineBytes: check.integer(
      table,
      key,
      "max_line_bytes",
      LIMITS.maxLineBytes,
      DEFAULTS.maxLineBytes,
    ),
    fsEvents: check.boolean(table, key, "fs_events", inherited.fsEvents),
  };
}

function readTargets(
  check: Checker,
  value: unknown,
  key: string,
  options: ValidateOptions,
): TargetConfig[] {
  if (!Array.isArray(value) || value.length === 0) {
    check.report(
      key,
      value === undefined || Array.isArray(value)
        ? "required: at least one { path, pattern, is_file } target"
        : `expected an array of { path, pattern, is_file } tables, got ${describe(value)}`,
    );
    return [];
  }
  const targets: TargetConfig[] = [];
  value.forEach((item, index) => {
    const targetKey = `${key}[${index}]`;
    const table = check.table(item, targetKey, TARGET_KEYS);
    if (!table) return;
    const path = check.string(table, targetKey, "path", { required: "a file or directory path" });
    const pathProblem = path === undefined ? undefined : describePathProblem(path);
    if (pathProblem) check.report(`${targetKey}.path`, pathProblem);
    const isFile = check.boolean(table, targetKey, "is_file", false);
    const pattern = check.string(table, targetKey, "pattern");
    if (isFile && pattern !== undefined) {
      check.report(
        `${targetKey}.pattern`,
        "only directory targets take a pattern: remove it or set is_file = false",
      );
    } else if (pattern !== undefined) {
      try {
        compileGlob(pattern);
      } catch (error) {
        // The glob's own message is a sentence; here it follows the key.
        const message = (error as Error).message;
        check.report(`${targetKey}.pattern`, message.charAt(0).toLowerCase() + message.slice(1));
      }
    }
    if (path === undefined || pathProblem) return;
    const absolute = resolve(options.cwd, path);
    if (options.readable && !options.readable(absolute)) {
      check.report(`${targetKey}.path`, outsideReadPermission(absolute));
    }
    targets.push({ path: absolute, pattern: pattern ?? "*", isFile });
  });
  return targets;
}

/** A server table: whether it asks to be enabled, and its settings when they are valid. */
interface ReadServer<T> {
  readonly enabled: boolean;
  readonly config?: T;
}

function readTcpServer(check: Checker, value: unknown, key: string): ReadServer<ServerConfig> {
  const table = check.table(value, key, TCP_KEYS, {
    hint: (name) => HTTP_KEYS.includes(name) ? "only [streams.httpserver] has it" : undefined,
  });
  return table ? readServer(check, table, key, "tcp") : { enabled: false };
}

function readHttpServer(
  check: Checker,
  value: unknown,
  key: string,
): ReadServer<HttpServerConfig> {
  const table = check.table(value, key, HTTP_KEYS);
  if (!table) return { enabled: false };
  const paths = readEndpointPaths(check, table, key, {
    stream_path: DEFAULTS.streamPath,
    status_path: DEFAULTS.statusPath,
    ws_path: DEFAULTS.wsPath,
    metrics_path: DEFAULTS.metricsPath,
    viewer_path: DEFAULTS.viewerPath,
  });
  const { enabled, config } = readServer(check, table, key, "http");
  if (!config) return { enabled };
  return {
    enabled,
    config: {
      ...config,
      headerTimeoutSeconds: readLimits(check, table, key).headerTimeoutSeconds,
      streamPath: paths.stream_path,
      statusPath: paths.status_path,
      wsPath: paths.ws_path,
      metricsPath: paths.metrics_path,
      viewerPath: paths.viewer_path,
    },
  };
}

/** Paths LogWisp serves on every HTTP listener, whatever the configuration says. */
const FIXED_PATHS = ["/healthz", "/readyz"];
/** Endpoints that may be turned off with `""`. */
const OPTIONAL_PATHS = ["ws_path", "metrics_path", "viewer_path"];

/**
 * The endpoint paths of an HTTP listener: each a URL path without dot segments (a client
 * normalizes those away, so such a path can never be reached), all different, none of them
 * `/healthz` or `/readyz`.
 */
function readEndpointPaths<K extends string>(
  check: Checker,
  table: Table,
  key: string,
  defaults: Record<K, string>,
): Record<K, string> {
  const paths = {} as Record<K, string>;
  const usedBy = new Map<string, string>(FIXED_PATHS.map((path) => [path, "built in"]));
  for (const name of Object.keys(defaults) as K[]) {
    const path = readUrlPath(
      check,
      table,
      key,
      name,
      defaults[name],
      OPTIONAL_PATHS.includes(name),
    );
    paths[name] = path;
    if (path === "") continue;
    const other = usedBy.get(path);
    if (other === "built in") {
      check.report(`${key}.${name}`, `${quote(path)} is a built-in endpoint: choose another path`);
    } else if (other !== undefined) {
      check.report(`${key}.${name}`, `${quote(path)} is also the ${other}: they must differ`);
    } else {
      usedBy.set(path, name);
    }
  }
  return paths;
}

/** `max_connections`, `max_connections_per_ip` and `header_timeout_seconds` of a listener. */
export function readLimits(check: Checker, table: Table, key: string): ListenerLimits {
  const maxConnections = check.integer(
    table,
    key,
    "max_connections",
    LIMITS.maxConnections,
    DEFAULT_LIMITS.maxConnections,
  );
  const maxConnectionsPerIp = check.integer(
    table,
    key,
    "max_connections_per_ip",
    LIMITS.maxConnections,
    Math.min(DEFAULT_LIMITS.maxConnectionsPerIp, maxConnections),
  );
  if (maxConnectionsPerIp > maxConnections) {
    check.report(
      `${key}.max_connections_per_ip`,
      `${maxConnectionsPerIp} is more than max_connections (${maxConnections})`,
    );
  }
  return {
    maxConnections,
    maxConnectionsPerIp,
    headerTimeoutSeconds: check.integer(
      table,
      key,
      "header_timeout_seconds",
      LIMITS.headerTimeoutSeconds,
      DEFAULT_LIMITS.headerTimeoutSeconds,
    ),
  };
}

function readServer(
  check: Checker,
  table: Table,
  key: string,
  kind: "tcp" | "http",
): ReadServer<ServerConfig> {
  const enabled = check.boolean(table, key, "enabled", false);
  const host = readHost(check, check.string(table, key, "host") ?? DEFAULTS.host, `${key}.host`);
  const port = check.optionalInteger(table, key, "port", LIMITS.port);
  if (enabled && table.port === undefined) {
    check.report(`${key}.port`, "required when enabled = true");
  }
  const bufferSize = check.integer(
    table,
    key,
    "buffer_size",
    LIMITS.bufferSize,
    DEFAULTS.bufferSize,
  );
  const bufferBytes = check.integer(
    table,
    key,
    "buffer_bytes",
    LIMITS.bufferBytes,
    DEFAULTS.bufferBytes,
  );
  const slowClientTimeoutSeconds = check.integer(
    table,
    key,
    "slow_client_timeout_seconds",
    LIMITS.slowClientTimeoutSeconds,
    DEFAULTS.slowClientTimeoutSeconds,
  );
  const limits = readLimits(check, table, key);
  const heartbeat = readHeartbeat(check, table.heartbeat, `${key}.heartbeat`, kind);
  const security = readListenerSecurity(check, table, key, kind);
  if (!enabled || port === undefined) return { enabled };
  return {
    enabled,
    config: {
      host,
      port,
      ...limits,
      ...security,
      bufferSize,
      bufferBytes,
      slowClientTimeoutSeconds,
      heartbeat,
    },
  };
}

/** Why `path` cannot be a target path, or undefined when it can. */
function describePathProblem(path: string): string | undefined {
  if (path === "") return "must not be empty";
  if (path.includes("\0")) return `${quote(path)} contains a NUL character`;
  if (path.startsWith("~")) {
    return `${quote(path)} starts with "~", which is not expanded here: write the full path`;
  }
  return undefined;
}

/** Dot-separated labels of letters, digits, `_` and inner `-`. */
const HOST_NAME = /^\w([\w-]*\w)?(\.\w([\w-]*\w)?)*$/;

/**
 * A bind address as the servers take it: an IPv6 address without brackets, otherwise as
 * written. Otherwise why `host` is not a host name or IP address, with the URL parser as
 * judge: a name it would read differently (`127.1`, `0x`, `999.1.1.1`) does not bind as
 * written, so its reading is offered instead.
 */
function bindHost(host: string): { bind: string } | { problem: string } {
  const invalid = { problem: `${quote(host)} is not a host name or IP address` };
  if (host.includes(":")) {
    const bare = /^\[(.*)\]$/.exec(host)?.[1] ?? host;
    // The URL parser knows no zone (`%eth0`), so it checks the address without it.
    const address = /^([^%]*)(%[\w.-]+)?$/.exec(bare)?.[1];
    return address !== undefined && urlHost(`[${address}]`) ? { bind: bare } : invalid;
  }
  const read = HOST_NAME.test(host) ? urlHost(host) : undefined;
  if (read === undefined) return invalid;
  if (read === host.toLowerCase()) return { bind: host };
  return { problem: `${invalid.problem} as written: did you mean ${quote(read)}?` };
}

/** How the URL parser reads `host`, or undefined when it refuses it. */
function urlHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
}

/** `host` ready to bind, or the problem with it reported at `key`. */
export function readHost(check: Checker, host: string, key: string): string {
  if (host === "") {
    check.report(key, 'must not be empty: use "0.0.0.0" for all');
    return host;
  }
  const result = bindHost(host);
  if ("bind" in result) return result.bind;
  check.report(key, result.problem);
  return host;
}

/** The URL path at `table[name]`, or `fallback`; `""` only when `optional`. */
export function readUrlPath(
  check: Checker,
  table: Table,
  key: string,
  name: string,
  fallback: string,
  optional = false,
): string {
  const path = check.string(table, key, name) ?? fallback;
  if (optional && path === "") return path;
  if (!URL_PATH_PATTERN.test(path)) {
    check.report(
      `${key}.${name}`,
      `${quote(path)} is not a URL path: start with "/" and use no spaces, "?" or "#"` +
        (optional ? ' ("" turns it off)' : ""),
    );
  } else if (/(^|\/)\.\.?(\/|$)/.test(path.slice(1)) || /%2e/i.test(path) || path.includes("//")) {
    check.report(
      `${key}.${name}`,
      `${quote(path)} has an empty, "." or ".." segment, which clients normalize away: ` +
        "it could never be reached",
    );
  }
  return path;
}

function readHeartbeat(
  check: Checker,
  value: unknown,
  key: string,
  kind: "tcp" | "http",
): HeartbeatConfig {
  const table = check.table(value, key, HEARTBEAT_KEYS) ?? {};
  const format = kind === "tcp"
    ? check.choice<HeartbeatFormat>(table, key, "format", ["json"], "json", {
      hint: "TCP heartbeats are JSON lines",
    })
    : check.choice<HeartbeatFormat>(table, key, "format", ["comment", "json"], "comment");
  return {
    enabled: check.boolean(table, key, "enabled", false),
    intervalSeconds: check.integer(
      table,
      key,
      "interval_seconds",
      LIMITS.heartbeatIntervalSeconds,
      DEFAULTS.heartbeatIntervalSeconds,
    ),
    includeTimestamp: check.boolean(table, key, "include_timestamp", true),
    includeStats: check.boolean(table, key, "include_stats", false),
    format,
  };
}

interface ReadRouter {
  readonly config: RouterConfig;
  /** The key the port came from, for port clash messages. */
  readonly portKey: string;
}

function readRouter(
  check: Checker,
  value: unknown,
  streams: readonly ReadStream[],
  routerMode: boolean,
): ReadRouter | undefined {
  const table = check.table(value, "router", ROUTER_KEYS) ?? {};
  const port = check.optionalInteger(table, "router", "port", LIMITS.port);
  const written = check.string(table, "router", "host");
  const host = written === undefined ? undefined : readHost(check, written, "router.host");
  const paths = readEndpointPaths(check, table, "router", {
    status: "/status",
    metrics_path: DEFAULTS.metricsPath,
    viewer_path: DEFAULTS.viewerPath,
  });
  const listener = {
    ...readLimits(check, table, "router"),
    ...readListenerSecurity(check, table, "router", "router"),
    metricsPath: paths.metrics_path,
    viewerPath: paths.viewer_path,
  };
  const first = streams.find(({ config }) => config.http);
  if (port !== undefined) {
    return {
      config: { host: host ?? first?.config.http?.host ?? DEFAULTS.host, port, ...listener },
      portKey: "router.port",
    };
  }
  if (first?.config.http) {
    return {
      config: { host: host ?? first.config.http.host, port: first.config.http.port, ...listener },
      portKey: `router.port (default: ${first.key}.httpserver.port)`,
    };
  }
  if (routerMode && table.port === undefined && streams.length > 0) {
    check.report(
      "router",
      "router mode needs [router] port or a stream with httpserver.enabled = true",
    );
  }
  return undefined;
}

/** Every port LogWisp binds must be unique; in router mode stream HTTP ports are not bound. */
function checkPorts(
  check: Checker,
  streams: readonly ReadStream[],
  router: ReadRouter | undefined,
  routerMode: boolean,
  metricsPort: number | undefined,
): void {
  const bound: { port: number; key: string }[] = [];
  if (metricsPort !== undefined) bound.push({ port: metricsPort, key: "metrics.port" });
  if (routerMode && router) bound.push({ port: router.config.port, key: router.portKey });
  for (const { key, config } of streams) {
    if (config.http && !routerMode) {
      bound.push({ port: config.http.port, key: `${key}.httpserver.port` });
    }
    if (config.tcp) bound.push({ port: config.tcp.port, key: `${key}.tcpserver.port` });
  }
  const owner = new Map<number, string>();
  for (const { port, key } of bound) {
    const first = owner.get(port);
    if (first === undefined) owner.set(port, key);
    else check.report(key.replace(/ \(.*\)$/, ""), `port ${port} is already used by ${first}`);
  }
}
