import { aborted } from "../async.ts";
import { describeSource } from "../cli/check_summary.ts";
import type { Config } from "../config/types.ts";
import { type Log, writeStderr } from "../log.ts";
import { serveHttp } from "../server/http_server.ts";
import { routerHandler } from "../server/router.ts";
import { routerStatus } from "../server/status.ts";
import { VERSION } from "../version.ts";
import { formatConsoleStats } from "./console_stats.ts";
import { bind, StreamService } from "./stream_service.ts";

/** How LogWisp runs. */
export interface RunOptions {
  /** Serve every HTTP stream on the router's port (`--router`). */
  readonly router: boolean;
  /** No periodic console statistics (`--quiet`). */
  readonly quiet: boolean;
  /** Aborted on SIGINT/SIGTERM: clients are told, listeners closed, then this resolves. */
  readonly shutdown: AbortSignal;
  readonly log: Log;
  /** Where console statistics go; stderr by default. */
  readonly stats?: (text: string) => void;
  /** How long clients may take to receive their last data after shutdown (default 3 s). */
  readonly drainMs?: number;
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
  let router: { host: string; port: number; viewerPath: string } | undefined;

  try {
    for (const stream of config.streams) {
      const service = await StreamService.bind({
        config: stream,
        shutdown,
        router: options.router,
        startedAt,
        drainMs,
        log,
      });
      services.push(service);
      finished.push(service.finished);
    }
    if (options.router && config.router) {
      const routed = services.filter((service) => service.handler);
      const routerConfig = config.router;
      const listener = bind("router", "http", routerConfig, () =>
        serveHttp({
          label: "router",
          host: routerConfig.host,
          port: routerConfig.port,
          limits: routerConfig,
          writeTimeoutMs: ROUTER_WRITE_TIMEOUT_MS,
          shutdown,
          drainMs,
          log,
          handler: routerHandler(
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
            routerConfig.viewerPath,
          ),
        }));
      finished.push(listener.finished);
      router = {
        host: routerConfig.host,
        port: listener.port,
        viewerPath: routerConfig.viewerPath,
      };
      for (const service of routed) service.httpPort = listener.port;
    }
  } catch (error) {
    failed.abort();
    await Promise.all(finished);
    throw error;
  }
  // Every port answers (status says "starting") while the files are first scanned.
  await Promise.all(services.map((service) => service.start()));
  for (const service of services) finished.push(service.finished);

  log("info", `LogWisp ${VERSION} ready (configuration: ${describeSource(config)})`);
  for (const line of endpointLines(services, router)) {
    log("info", line);
  }

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
  log("info", "Stopped");
  return 0;
}

/** One line per stream naming every URL it serves, plus the router's global status. */
function endpointLines(
  services: readonly StreamService[],
  router: { host: string; port: number; viewerPath: string } | undefined,
): string[] {
  const lines = services.map((service) => {
    const { name, http, tcp, monitor } = service.config;
    const parts: string[] = [];
    if (http && service.httpPort !== undefined) {
      const base = `http://${displayHost(router?.host ?? http.host)}:${service.httpPort}`;
      const prefix = router ? `/${name}` : "";
      parts.push(`${base}${prefix}${http.streamPath} (status ${base}${prefix}${http.statusPath})`);
      if (http.viewerPath) parts.push(`viewer ${base}${prefix}${http.viewerPath}`);
    }
    if (tcp && service.tcpPort !== undefined) {
      parts.push(`tcp://${displayHost(tcp.host)}:${service.tcpPort}`);
    }
    const count = monitor?.targets.length ?? 0;
    const targets = count === 1 ? "1 target" : `${count} targets`;
    return `stream "${name}" (${targets}): ${parts.join(", ")}`;
  });
  if (router) {
    const base = `http://${displayHost(router.host)}:${router.port}`;
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
