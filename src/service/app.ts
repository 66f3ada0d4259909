import { aborted } from "../async.ts";
import { describeSource } from "../cli/check_summary.ts";
import type { Config } from "../config/types.ts";
import { type Log, writeStderr } from "../log.ts";
import { AuditLog } from "../audit/audit_log.ts";
import { Guard } from "../server/guard.ts";
import { collectMetrics } from "../metrics/collect.ts";
import { serveHttp } from "../server/http_server.ts";
import type { Listener } from "../server/listener.ts";
import type { Readiness } from "../server/ops_endpoints.ts";
import { routerHandler } from "../server/router.ts";
import { routerStatus } from "../server/status.ts";
import { VERSION } from "../version.ts";
import { formatConsoleStats } from "./console_stats.ts";
import type { Security } from "./security.ts";
import { StartupError } from "./startup_error.ts";
import { serveMetricsListener } from "./metrics_listener.ts";
import { bind, StreamService } from "./stream_service.ts";
import { bindTls } from "../tls/tls_source.ts";

/** How LogWisp runs. */
export interface RunOptions {
  /** Serve every HTTP stream on the router's port (`--router`). */
  readonly router: boolean;
  /** No periodic console statistics (`--quiet`). */
  readonly quiet: boolean;
  /** Aborted on SIGINT/SIGTERM: clients are told, listeners closed, then this resolves. */
  readonly shutdown: AbortSignal;
  /** Where LogWisp's own messages go. */
  readonly log: Log;
  /** Where console statistics go; stderr by default. */
  readonly stats?: (text: string) => void;
  /** How long clients may take to receive their last data after shutdown (default 3 s). */
  readonly drainMs?: number;
  /** Each listener's TLS, authentication and access rules, loaded by `loadSecurity()`. */
  readonly security: Security;
}

const DEFAULT_DRAIN_MS = 3000;
/** How long the router may take to write one buffered response (status) to a client. */
const ROUTER_WRITE_TIMEOUT_MS = 30_000;

/**
 * Runs every stream of `config` until `shutdown` aborts (README "Signals"). Resolves to the exit
 * code: 0 after a clean shutdown. A `StartupError` (a port in use) is thrown after
 * everything already opened is closed again.
 */
export async function runLogWisp(config: Config, options: RunOptions): Promise<number> {
  const startedAt = Date.now();
  const { log } = options;
  const failed = new AbortController();
  const shutdown = AbortSignal.any([options.shutdown, failed.signal]);
  const drainMs = options.drainMs ?? DEFAULT_DRAIN_MS;
  const services: StreamService[] = [];
  const finished: Promise<unknown>[] = [];
  let router: { host: string; port: number; secure: boolean; viewerPath: string } | undefined;
  let metricsUrl: string | undefined;
  /** Listeners of no one stream (router, `[metrics]`), whose refusals the metrics count. */
  const shared: Listener[] = [];
  /** When the router's own certificate expires, in seconds since the epoch. */
  const sharedTlsExpiry: Record<string, number> = {};
  let started = false;
  const readiness = (): Readiness => shutdown.aborted ? "stopping" : started ? "ready" : "starting";
  const metrics = () =>
    collectMetrics({
      streams: services.map((service) => service.metrics()),
      shared: shared.map((listener) => ({ transport: "http", counts: listener.refused })),
      sharedTlsExpiry,
    });
  let audit: AuditLog;
  try {
    audit = await AuditLog.open(config.audit, { log });
  } catch (error) {
    throw new StartupError((error as Error).message, { cause: error });
  }

  try {
    for (const stream of config.streams) {
      const service = await StreamService.bind({
        config: stream,
        shutdown,
        router: options.router,
        startedAt,
        drainMs,
        log,
        security: options.security,
        audit,
        readiness,
      });
      services.push(service);
      finished.push(service.finished);
    }
    if (options.router && config.router) {
      const routed = services.filter((service) => service.handler);
      const routerConfig = config.router;
      const { authenticator, access, tls } = options.security.of(routerConfig);
      if (tls) sharedTlsExpiry.router = Math.floor(tls.leaf.notAfter.getTime() / 1000);
      const guard = new Guard({
        authenticator,
        access,
        corsOrigins: routerConfig.access.corsOrigins,
        audit,
        transport: "http",
        label: "router",
        log,
      });
      // Each stream's routes are guarded by that stream's own auth; the rest by the router's.
      const prefixes = routed.map(({ config }) => `/${config.name}/`);
      const covers = (path: string) =>
        path !== "/healthz" && path !== "/readyz" &&
        !prefixes.some((prefix) => path.startsWith(prefix));
      const listener = await bind("router", "http", routerConfig, async () =>
        serveHttp({
          label: "router",
          host: routerConfig.host,
          port: routerConfig.port,
          limits: routerConfig,
          writeTimeoutMs: ROUTER_WRITE_TIMEOUT_MS,
          shutdown,
          drainMs,
          log,
          admit: guard.admit,
          onTlsError: guard.onTlsError,
          ...(tls && {
            source: await bindTls(tls, { hostname: routerConfig.host, port: routerConfig.port }),
          }),
          handler: guard.http(
            routerHandler(
              routed.map(({ config, handler }) => ({
                name: config.name,
                handler: handler!,
                streamPath: config.http!.streamPath,
                statusPath: config.http!.statusPath,
                viewerPath: config.http!.viewerPath,
              })),
              () =>
                routerStatus(
                  services.map((service) => service.snapshot()),
                  Math.floor((Date.now() - startedAt) / 1000),
                ),
              { metricsPath: routerConfig.metricsPath, metrics, readiness },
              routerConfig.viewerPath,
            ),
            covers,
          ),
        }));
      shared.push(listener);
      finished.push(listener.finished);
      router = {
        host: routerConfig.host,
        port: listener.port,
        secure: tls !== undefined,
        viewerPath: routerConfig.viewerPath,
      };
      for (const service of routed) service.httpPort = listener.port;
    }
    if (config.metrics) {
      const listener = await serveMetricsListener(config.metrics, {
        ops: { metrics, readiness },
        shutdown,
        drainMs,
        log,
      });
      shared.push(listener);
      finished.push(listener.finished);
      const { host, path } = config.metrics;
      metricsUrl = `http://${displayHost(host)}:${listener.port}${path}`;
    }
  } catch (error) {
    failed.abort();
    await Promise.all(finished);
    await audit.close();
    throw error;
  }
  // Every port answers (status says "starting") while the files are first scanned.
  await Promise.all(services.map((service) => service.start()));
  for (const service of services) finished.push(service.finished);
  started = true;

  log("info", `LogWisp ${VERSION} ready (configuration: ${describeSource(config)})`);
  for (const line of endpointLines(services, router, options.security)) {
    log("info", line);
  }
  if (metricsUrl) log("info", `metrics: ${metricsUrl} (with /healthz and /readyz)`);

  const statsEvery = options.quiet ? 0 : config.console.statsIntervalSeconds;
  const print = options.stats ?? writeStderr;
  const statsTimer = statsEvery > 0
    ? setInterval(() => {
      print(formatConsoleStats(services.map((service) => service.snapshot()), new Date()));
    }, statsEvery * 1000)
    : undefined;

  await aborted(shutdown);
  clearInterval(statsTimer);
  log("info", "Shutting down: telling clients, closing listeners");
  await Promise.all(finished);
  await audit.close();
  log("info", "Stopped");
  return 0;
}

/** One line per stream naming every URL it serves, plus the router's global status. */
function endpointLines(
  services: readonly StreamService[],
  router: { host: string; port: number; secure: boolean; viewerPath: string } | undefined,
  security: Security,
): string[] {
  const lines = services.map((service) => {
    const { name, http, tcp, monitor } = service.config;
    const parts: string[] = [];
    if (http && service.httpPort !== undefined) {
      const secure = router ? router.secure : security.of(http).tls !== undefined;
      const base = `${secure ? "https" : "http"}://${
        displayHost(router?.host ?? http.host)
      }:${service.httpPort}`;
      const prefix = router ? `/${name}` : "";
      parts.push(`${base}${prefix}${http.streamPath} (status ${base}${prefix}${http.statusPath})`);
      if (http.wsPath !== "") parts.push(`${base.replace(/^http/, "ws")}${prefix}${http.wsPath}`);
      if (http.viewerPath) parts.push(`viewer ${base}${prefix}${http.viewerPath}`);
    }
    if (tcp && service.tcpPort !== undefined) {
      const scheme = security.of(tcp).tls ? "tls" : "tcp";
      parts.push(`${scheme}://${displayHost(tcp.host)}:${service.tcpPort}`);
    }
    const count = monitor?.targets.length ?? 0;
    const targets = count === 1 ? "1 target" : `${count} targets`;
    return `stream "${name}" (${targets}): ${parts.join(", ")}`;
  });
  if (router) {
    const scheme = router.secure ? "https" : "http";
    const base = `${scheme}://${displayHost(router.host)}:${router.port}`;
    const index = router.viewerPath ? `, viewers of all streams ${base}${router.viewerPath}` : "";
    lines.push(`router: ${base}/status (all streams)${index}`);
  }
  return lines;
}

/** A bind-all address is reachable as localhost from the host itself. */
function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}
