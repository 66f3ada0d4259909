import type { Checker, Table } from "./checker.ts";
import { quote } from "./config_error.ts";
import { DEFAULTS, LIMITS, NO_AUTH, OPEN_ACCESS } from "./defaults.ts";
import type { MetricsConfig } from "./types.ts";
import { readHost, readLimits, readUrlPath } from "./validate.ts";

/** The keys of `[metrics]`. */
export const METRICS_KEYS: readonly string[] = [
  "host",
  "port",
  "path",
  "max_connections",
  "max_connections_per_ip",
  "header_timeout_seconds",
];

/**
 * `[metrics]`: a listener of its own for `/metrics`, `/healthz` and `/readyz`, for
 * configurations without an HTTP server (docs/configuration.md "[metrics]"). Absent when
 * the table is.
 */
export function readMetrics(check: Checker, value: unknown): MetricsConfig | undefined {
  if (value === undefined) return undefined;
  const table: Table | undefined = check.table(value, "metrics", METRICS_KEYS);
  if (!table) return undefined;
  const port = check.optionalInteger(table, "metrics", "port", LIMITS.port);
  if (table.port === undefined) check.report("metrics.port", "required in a [metrics] table");
  const host = readHost(
    check,
    check.string(table, "metrics", "host") ?? DEFAULTS.host,
    "metrics.host",
  );
  const path = readUrlPath(check, table, "metrics", "path", DEFAULTS.metricsPath);
  if (path === "/healthz" || path === "/readyz") {
    check.report("metrics.path", `${quote(path)} is a built-in endpoint: choose another path`);
  }
  const limits = readLimits(check, table, "metrics");
  if (port === undefined) return undefined;
  return { host, port, path, ...limits, auth: NO_AUTH, access: OPEN_ACCESS };
}
