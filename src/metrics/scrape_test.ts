/**
 * The exposition as a real Prometheus scrapes it, and the Prometheus test harness itself.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { scrapeConfig, startPrometheus } from "../../tests/_prometheus.ts";
import { freePort, tempDir } from "../_test_utils.ts";
import { CONTENT_TYPE, defineCounter, Exposition } from "./exposition.ts";
import { addProcessMetrics } from "./process_metrics.ts";
import { addStream, parseSamples, sampleExposition } from "./testdata/logwisp_sample.ts";

const X = defineCounter("x_total", "A counter the test increases on every scrape.");
const ODD_STREAM = 'odd "name" \\ with\nnewline';

/** Serves a fresh exposition from `expose` on every request to `path`. */
function serveMetrics(
  expose: () => Promise<string> | string,
  options: { path?: string; cert?: string; key?: string } = {},
): Deno.HttpServer<Deno.NetAddr> {
  const path = options.path ?? "/metrics";
  return Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    ...(options.cert !== undefined && options.key !== undefined &&
      { cert: options.cert, key: options.key }),
  }, async (request) => {
    if (new URL(request.url).pathname !== path) return new Response("not found", { status: 404 });
    return new Response(await expose(), { headers: { "content-type": CONTENT_TYPE } });
  });
}

Deno.test("Prometheus scrapes the exposition: target up, rate of an increasing counter > 0", async () => {
  let scrapes = 0;
  let lastText = "";
  await using server = serveMetrics(async () => {
    scrapes++;
    const exposition = sampleExposition(["app", "system", ODD_STREAM], scrapes)
      .add(X, {}, 10 * scrapes);
    await addProcessMetrics(exposition);
    return lastText = exposition.text();
  });
  await using prometheus = await startPrometheus(`http://127.0.0.1:${server.addr.port}/metrics`);

  const target = await prometheus.waitForTarget("up");
  assert.equal(target.scrapeUrl, `http://127.0.0.1:${server.addr.port}/metrics`);
  const [rate] = await prometheus.waitForQuery("rate(x_total[5s])", (s) => s[0]?.value! > 0);
  assert.ok(rate!.value > 0);

  // Every sample written was ingested: nothing was refused or dropped.
  const [scraped] = await prometheus.query("scrape_samples_scraped");
  assert.equal(scraped!.value, parseSamples(lastText).length);
  // Label values come back exactly as they were, escapes undone by Prometheus' own parser.
  const streams = await prometheus.query("logwisp_entries_total");
  assert.deepEqual(
    streams.map((s) => s.metric.stream).sort(),
    ["app", ODD_STREAM, "system"].sort(),
  );
  // The sample histogram's observations are mostly 60–600 µs.
  const [median] = await prometheus.query(
    "histogram_quantile(0.5, logwisp_read_to_send_seconds_bucket)",
  );
  assert.ok(median!.value > 0.00025 && median!.value <= 0.0005, `median ${median!.value}`);
  const [uptime] = await prometheus.query("time() - process_start_time_seconds");
  assert.ok(uptime!.value > 0 && uptime!.value < 3600, `uptime ${uptime!.value}`);
});

Deno.test("startPrometheus scrapes an https target on its own path, verified with a CA file", async () => {
  await using dir = await tempDir();
  const cert = join(dir.path, "cert.pem");
  const key = join(dir.path, "key.pem");
  const openssl = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(openssl.code, 0, new TextDecoder().decode(openssl.stderr));
  let scrapes = 0;
  await using server = serveMetrics(() => {
    scrapes++;
    const exposition = new Exposition().add(X, {}, scrapes);
    addStream(exposition, "app", scrapes);
    return exposition.text();
  }, {
    path: "/custom/metrics",
    cert: await Deno.readTextFile(cert),
    key: await Deno.readTextFile(key),
  });
  await using prometheus = await startPrometheus(
    `https://127.0.0.1:${server.addr.port}/custom/metrics`,
    { caFile: cert },
  );
  const target = await prometheus.waitForTarget("up");
  assert.equal(target.scrapeUrl, `https://127.0.0.1:${server.addr.port}/custom/metrics`);
  await prometheus.waitForQuery("x_total", (s) => s[0]?.value! >= 1);
});

Deno.test("waitForTarget('down') sees a target nobody serves, with Prometheus' reason", async () => {
  await using prometheus = await startPrometheus(`http://127.0.0.1:${freePort()}/metrics`);
  const target = await prometheus.waitForTarget("down");
  assert.match(target.lastError, /connection refused/);
});

Deno.test("scrapeConfig turns a URL and options into one scrape job", () => {
  assert.deepEqual(
    scrapeConfig("https://[::1]/m?a=1&a=2&b=x", {
      caFile: "/ca.pem",
      basicAuth: { username: "u", password: "p" },
      scrapeIntervalSeconds: 2,
    }),
    {
      global: { scrape_interval: "2s", scrape_timeout: "2s", evaluation_interval: "2s" },
      scrape_configs: [{
        job_name: "target",
        scheme: "https",
        metrics_path: "/m",
        params: { a: ["1", "2"], b: ["x"] },
        static_configs: [{ targets: ["[::1]:443"] }],
        tls_config: { ca_file: "/ca.pem" },
        basic_auth: { username: "u", password: "p" },
      }],
    },
  );
  assert.deepEqual(
    (scrapeConfig("http://127.0.0.1:9/", { bearerToken: "t" }) as {
      scrape_configs: Record<string, unknown>[];
    }).scrape_configs[0]!.authorization,
    { type: "Bearer", credentials: "t" },
  );
  assert.throws(() => scrapeConfig("ftp://x/"), /http or https only/);
  assert.throws(() => scrapeConfig("http://u:p@x/"), /give credentials as options/);
});
