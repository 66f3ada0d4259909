/**
 * The Grafana dashboard in deploy/: its shape, that its queries name only metrics LogWisp
 * exposes and every one of them, and that a real Prometheus answers each query.
 */
import assert from "node:assert/strict";
import { CONTENT_TYPE, Exposition } from "../src/metrics/exposition.ts";
import { FAMILIES } from "../src/metrics/families.ts";
import { addProcessMetrics } from "../src/metrics/process_metrics.ts";
import { sampleExposition } from "../src/metrics/testdata/logwisp_sample.ts";
import { startPrometheus } from "./_prometheus.ts";
import { ROOT } from "./_cli.ts";

const DASHBOARD = `${ROOT}deploy/grafana-dashboard.json`;
const DATASOURCE = { type: "prometheus", uid: "${datasource}" };
/** Every series name LogWisp exposes: a histogram as its `_bucket`, `_sum` and `_count`. */
const SERIES = FAMILIES.flatMap((family) =>
  family.type === "histogram"
    ? ["_bucket", "_sum", "_count"].map((suffix) => family.name + suffix)
    : [family.name]
);
const STREAM_SERIES = FAMILIES.filter((family) => family.labelNames.includes("stream" as never))
  .map((family) => family.name);

interface Target {
  refId: string;
  expr: string;
  datasource: unknown;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: unknown;
  targets?: Target[];
  panels?: Panel[];
}

const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
/** Every panel, those inside collapsed rows included. */
const panels: Panel[] = (dashboard.panels as Panel[]).flatMap((panel) => [
  panel,
  ...(panel.panels ?? []),
]);
const graphs = panels.filter((panel) => panel.type !== "row");
const exprs = graphs.flatMap((panel) => panel.targets!.map((target) => target.expr));

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "inf",
  "nan",
]);

/** The metric names a PromQL expression selects (not functions, labels or keywords). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\boffset\s+\S+/g, " ")
    .replace(/\$\{?\w+\}?/g, " ")
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, " ");
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((match) => match[2] === undefined && !KEYWORDS.has(match[1]!.toLowerCase()))
    .map((match) => match[1]!);
}

Deno.test("metricNames finds selected metrics, not functions, labels, keywords or variables", () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.99, sum by (le) (rate(a_bucket{stream=~"$stream",x="by(y)"}[$__rate_interval])))',
    ),
    ["a_bucket"],
  );
  assert.deepEqual(metricNames("time() - b and on (instance, job) c"), ["b", "c"]);
  assert.deepEqual(metricNames("sum(rate(d[5m] offset 1h)) by (stream) / 1e3"), ["d"]);
  assert.deepEqual(metricNames('(e{s=~"$s"} - time()) / 86400'), ["e"]);
});

Deno.test("The dashboard is a Grafana dashboard with a Prometheus data source and stream variable", () => {
  assert.equal(typeof dashboard.title, "string");
  assert.equal(typeof dashboard.uid, "string");
  assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
  assert.ok(Array.isArray(dashboard.panels) && dashboard.panels.length > 0);
  const variables = dashboard.templating.list as Record<string, unknown>[];
  const datasource = variables.find((variable) => variable.name === "datasource");
  assert.equal(datasource?.type, "datasource");
  assert.equal(datasource?.query, "prometheus");
  const stream = variables.find((variable) => variable.name === "stream");
  assert.equal(stream?.type, "query");
  assert.deepEqual(stream?.datasource, DATASOURCE);
  assert.equal(stream?.definition, "label_values(logwisp_entries_total, stream)");
  assert.equal(stream?.query, "label_values(logwisp_entries_total, stream)");
  assert.equal(stream?.includeAll, true);
  assert.equal(stream?.allValue, ".*");
});

Deno.test("Every panel has a unique id, fits the grid and queries through ${datasource}", () => {
  const ids = panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length, `repeated ids in ${ids}`);
  for (const panel of panels) {
    const { x, w, h } = panel.gridPos;
    assert.ok(
      x >= 0 && w > 0 && h > 0 && x + w <= 24,
      `${panel.title}: ${JSON.stringify(panel.gridPos)}`,
    );
  }
  for (const panel of graphs) {
    assert.deepEqual(panel.datasource, DATASOURCE, panel.title);
    assert.ok(panel.targets && panel.targets.length > 0, `${panel.title} has no query`);
    const refIds = panel.targets.map((target) => target.refId);
    assert.equal(new Set(refIds).size, refIds.length, `${panel.title}: repeated refIds`);
    for (const target of panel.targets) {
      assert.deepEqual(target.datasource, DATASOURCE, `${panel.title} ${target.refId}`);
      assert.equal(typeof target.expr, "string");
    }
  }
});

Deno.test("The dashboard queries only metrics LogWisp exposes, and every one of them", () => {
  const allowed = new Set(SERIES);
  const used = new Set(exprs.flatMap(metricNames));
  assert.deepEqual([...used].filter((name) => !allowed.has(name)), []);
  assert.deepEqual(SERIES.filter((name) => !used.has(name)), []);
});

Deno.test("Every query of a per-stream metric follows the stream variable", () => {
  for (const expr of exprs) {
    const perStream = metricNames(expr).filter((name) => STREAM_SERIES.includes(name));
    if (perStream.length === 0) continue;
    const selectors = expr.match(/\b\w+\{[^}]*\}/g) ?? [];
    for (const name of perStream) {
      assert.ok(
        selectors.some((selector) =>
          selector.startsWith(`${name}{`) && selector.includes('stream=~"$stream"')
        ),
        `${name} in ${expr}`,
      );
    }
  }
});

Deno.test("A real Prometheus answers every query of the dashboard", async () => {
  const probe = new Exposition();
  await addProcessMetrics(probe);
  const exposesOpenFds = probe.text().includes("process_open_fds");
  let scrapes = 0;
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async () => {
      const exposition = sampleExposition(["app", "system"], ++scrapes);
      await addProcessMetrics(exposition);
      return new Response(exposition.text(), { headers: { "content-type": CONTENT_TYPE } });
    },
  );
  await using prometheus = await startPrometheus(`http://127.0.0.1:${server.addr.port}/metrics`);
  await prometheus.waitForTarget("up");
  const grafana = (expr: string) =>
    expr.replaceAll("$__rate_interval", "5s").replaceAll("$stream", ".*");
  for (const expr of exprs) {
    // process_open_fds is there only under --allow-all.
    if (metricNames(expr).includes("process_open_fds") && !exposesOpenFds) continue;
    await prometheus.waitForQuery(grafana(expr), (samples) => samples.length > 0);
  }
});
