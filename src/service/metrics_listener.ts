import type { MetricsConfig } from "../config/types.ts";
import type { Log } from "../log.ts";
import { serveHttp } from "../server/http_server.ts";
import type { Listener } from "../server/listener.ts";
import { type OpsEndpoints, opsHandler } from "../server/ops_endpoints.ts";
import { bind } from "./stream_service.ts";

/** How long a client may take to receive one metrics response. */
const WRITE_TIMEOUT_MS = 30_000;

/** What the `[metrics]` listener serves, and how it stops. */
export interface MetricsListenerOptions {
  /** The scrape of every stream, and the process's readiness. */
  readonly ops: Omit<OpsEndpoints, "metricsPath">;
  /** The process-wide shutdown signal. */
  readonly shutdown: AbortSignal;
  /** How long clients may take to receive their last data after shutdown. */
  readonly drainMs: number;
  /** Where problems are reported. */
  readonly log: Log;
}

/**
 * Binds `[metrics]`: its path, `/healthz` and `/readyz`, for configurations without an
 * HTTP server (docs/operations.md "Metrics"). Throws a `StartupError` when the port cannot
 * be bound.
 */
export function serveMetricsListener(
  config: MetricsConfig,
  options: MetricsListenerOptions,
): Promise<Listener> {
  return bind("metrics", "http", config, () =>
    serveHttp({
      label: "metrics",
      host: config.host,
      port: config.port,
      limits: config,
      writeTimeoutMs: WRITE_TIMEOUT_MS,
      shutdown: options.shutdown,
      drainMs: options.drainMs,
      log: options.log,
      handler: opsHandler({ ...options.ops, metricsPath: config.path }),
    }));
}
