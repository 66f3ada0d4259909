/**
 * A real Prometheus server (Debian's `/usr/bin/prometheus`) for end-to-end tests: it
 * scrapes one target every second, answers PromQL through its HTTP API, and is stopped,
 * its storage removed, when disposed.
 *
 * ```ts
 * await using prometheus = await startPrometheus("http://127.0.0.1:8080/metrics");
 * await prometheus.waitForTarget("up");
 * await prometheus.waitForQuery("rate(logwisp_entries_total[5s])", (s) => s[0]!.value > 0);
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { freePort, tempDir, waitFor, which } from "../src/_test_utils.ts";

/** How Prometheus reaches and authenticates to the target. */
export interface PrometheusOptions {
  /** PEM file of the CA that signed an `https` target's certificate. */
  readonly caFile?: string;
  /** Accept any certificate of an `https` target. */
  readonly insecureSkipVerify?: boolean;
  /** HTTP Basic credentials for the target. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** A bearer token for the target. */
  readonly bearerToken?: string;
  /** Seconds between scrapes (default 1). */
  readonly scrapeIntervalSeconds?: number;
  /** How long Prometheus may take to become ready (default 30 s). */
  readonly readyTimeoutMs?: number;
}

/** One element of an instant query's result. */
export interface PromSample {
  /** The series' labels, `__name__` included when the expression kept it. */
  readonly metric: Readonly<Record<string, string>>;
  /** Its value; `+Inf`, `-Inf` and `NaN` as JavaScript numbers. */
  readonly value: number;
}

/** What Prometheus knows of its target. */
export interface PromTarget {
  /** `unknown` until its first scrape (Prometheus sends new targets every 5 s). */
  readonly health: "up" | "down" | "unknown";
  /** The URL Prometheus scrapes. */
  readonly scrapeUrl: string;
  /** Why the last scrape failed; empty when it did not. */
  readonly lastError: string;
}

/** A running Prometheus; disposing it stops it and removes its storage. */
export interface Prometheus extends AsyncDisposable {
  /** Its base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its log lines so far (it logs to stderr). */
  readonly log: readonly string[];
  /** Evaluates `promql` now: an instant vector, or a scalar as one sample with no labels. */
  query(promql: string): Promise<PromSample[]>;
  /** Evaluates `promql` until `until` holds for the result; fails after the deadline. */
  waitForQuery(
    promql: string,
    until: (samples: PromSample[]) => boolean,
    timeoutMs?: number,
  ): Promise<PromSample[]>;
  /** The scrape target's state. */
  target(): Promise<PromTarget>;
  /** Waits until the target's health is `health` (default `"up"`). */
  waitForTarget(health?: "up" | "down", timeoutMs?: number): Promise<PromTarget>;
  /** Stops Prometheus (SIGTERM, then SIGKILL after 10 s) and removes its storage. */
  stop(): Promise<void>;
}

const PROMETHEUS = "prometheus";

/** The scrape configuration for one target URL (`scheme://host:port/path?query`). */
export function scrapeConfig(target: string | URL, options: PrometheusOptions = {}): unknown {
  const url = new URL(target);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`Cannot scrape ${JSON.stringify(url.href)}: http or https only`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new Error(`Cannot scrape ${JSON.stringify(url.href)}: give credentials as options`);
  }
  const scheme = url.protocol.slice(0, -1);
  const port = url.port === "" ? (scheme === "https" ? "443" : "80") : url.port;
  const params: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (params[name] ??= []).push(value);
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  return {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [{
      job_name: "target",
      scheme,
      metrics_path: url.pathname,
      ...(url.search !== "" && { params }),
      static_configs: [{ targets: [`${url.hostname}:${port}`] }],
      ...((options.caFile !== undefined || options.insecureSkipVerify) && {
        tls_config: {
          ...(options.caFile !== undefined && { ca_file: options.caFile }),
          ...(options.insecureSkipVerify && { insecure_skip_verify: true }),
        },
      }),
      ...(options.basicAuth && { basic_auth: options.basicAuth }),
      ...(options.bearerToken !== undefined && {
        authorization: { type: "Bearer", credentials: options.bearerToken },
      }),
    }],
  };
}

/**
 * Starts Prometheus scraping `target` and waits until it is ready (a fraction of a second).
 * Its first scrape comes about 5 s later: Prometheus 2.42 hands new targets to its scraper
 * every 5 s, with no flag to shorten that; `waitForTarget` waits for it.
 */
export async function startPrometheus(
  target: string | URL,
  options: PrometheusOptions = {},
): Promise<Prometheus> {
  if (!which(PROMETHEUS)) {
    throw new Error(
      "Prometheus is not installed: these tests run the real server (apt-get install prometheus)",
    );
  }
  const dir = await tempDir("logwisp_prometheus_");
  try {
    const config = join(dir.path, "prometheus.yml");
    // JSON is YAML: no quoting rules to get wrong.
    await Deno.writeTextFile(config, JSON.stringify(scrapeConfig(target, options), null, 2));
    // The port is free when chosen but may be taken before Prometheus binds it: try again.
    for (let attempt = 1;; attempt++) {
      const server = await launch(config, join(dir.path, "data"), options);
      if (server !== "port taken") return withStorage(server, dir);
      if (attempt === 3) throw new Error("Prometheus found its port taken three times");
    }
  } catch (error) {
    await dir[Symbol.asyncDispose]();
    throw error;
  }
}

function withStorage(server: Prometheus, dir: AsyncDisposable): Prometheus {
  const stop = async () => {
    try {
      await server.stop();
    } finally {
      await dir[Symbol.asyncDispose]();
    }
  };
  return { ...server, stop, [Symbol.asyncDispose]: stop };
}

async function launch(
  config: string,
  storage: string,
  options: PrometheusOptions,
): Promise<Prometheus | "port taken"> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(PROMETHEUS, {
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${storage}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const reading = (async () => {
    let partial = "";
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      log.push(...lines);
    }
    if (partial) log.push(partial);
  })();
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then(async (value) => {
    await reading;
    exited = value;
    return value;
  });
  const logText = () => log.join("\n");

  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
      }
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await status;
      clearTimeout(killer);
    })();

  const api = async (path: string): Promise<unknown> => {
    const response = await fetch(`${url}${path}`);
    const body = await response.json();
    if (body.status !== "success") {
      throw new Error(`Prometheus ${path}: ${body.errorType}: ${body.error}`);
    }
    return body.data;
  };

  const query = async (promql: string): Promise<PromSample[]> => {
    const data = await api(`/api/v1/query?query=${encodeURIComponent(promql)}`) as {
      resultType: string;
      result: unknown;
    };
    if (data.resultType === "scalar") {
      return [{ metric: {}, value: parseValue((data.result as [number, string])[1]) }];
    }
    if (data.resultType !== "vector") {
      throw new Error(`Query ${JSON.stringify(promql)} gave a ${data.resultType}, not a vector`);
    }
    return (data.result as { metric: Record<string, string>; value: [number, string] }[])
      .map(({ metric, value }) => ({ metric, value: parseValue(value[1]) }));
  };

  const targetOf = async (): Promise<PromTarget> => {
    const data = await api("/api/v1/targets?state=active") as { activeTargets: PromTarget[] };
    const found = data.activeTargets[0];
    if (!found) return { health: "unknown", scrapeUrl: "", lastError: "not discovered yet" };
    return { health: found.health, scrapeUrl: found.scrapeUrl, lastError: found.lastError };
  };

  try {
    await waitFor(async () => {
      if (exited) return true;
      try {
        const response = await fetch(`${url}/-/ready`);
        await response.body?.cancel();
        return response.ok;
      } catch {
        return false;
      }
    }, {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      intervalMs: 50,
      message: () => `Prometheus to be ready on ${url}; its log:\n${logText()}`,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  if (exited) {
    if (/address already in use/.test(logText())) return "port taken";
    throw new Error(`Prometheus exited with ${exited.code} before it was ready:\n${logText()}`);
  }

  return {
    url,
    log,
    query,
    async waitForQuery(promql, until, timeoutMs = 20_000) {
      let last: PromSample[] = [];
      await waitFor(async () => until(last = await query(promql)), {
        timeoutMs,
        intervalMs: 200,
        message: () => `${promql} to hold; last result ${JSON.stringify(last)}`,
      });
      return last;
    },
    target: targetOf,
    async waitForTarget(health = "up", timeoutMs = 20_000) {
      let last: PromTarget | undefined;
      await waitFor(async () => (last = await targetOf()).health === health, {
        timeoutMs,
        intervalMs: 100,
        message: () => `target to be ${health}; it is ${JSON.stringify(last)}`,
      });
      return last!;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}
