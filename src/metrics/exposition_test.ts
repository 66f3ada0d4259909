import assert from "node:assert/strict";
import {
  CONTENT_TYPE,
  defineCounter,
  defineGauge,
  defineHistogram,
  escapeHelp,
  escapeLabelValue,
  Exposition,
  formatValue,
} from "./exposition.ts";
import { FAMILIES } from "./families.ts";
import { Histogram } from "./histogram.ts";
import { addProcessMetrics } from "./process_metrics.ts";
import { parseSamples, sampleExposition } from "./testdata/logwisp_sample.ts";

const REQUESTS = defineCounter("x_requests_total", "Requests.", ["stream", "transport"]);
const QUEUED = defineGauge("x_queued", "Queued entries.", ["stream"]);
const LATENCY = defineHistogram("x_latency_seconds", "Latency.", ["stream"]);
const UP = defineGauge("x_up", "Always 1.");

Deno.test("CONTENT_TYPE is the one Prometheus asks for", () => {
  assert.equal(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("Exposition writes each family once, sorted, however its samples were fed", () => {
  const exposition = new Exposition()
    .add(REQUESTS, { stream: "system", transport: "tcp" }, 3)
    .add(QUEUED, { stream: "system" }, 0)
    .add(UP, {}, 1)
    .add(REQUESTS, { stream: "app", transport: "sse" }, 7)
    .add(QUEUED, { stream: "app" }, 12)
    .add(REQUESTS, { stream: "app", transport: "tcp" }, 1);
  assert.equal(
    exposition.text(),
    `# HELP x_queued Queued entries.
# TYPE x_queued gauge
x_queued{stream="app"} 12
x_queued{stream="system"} 0
# HELP x_requests_total Requests.
# TYPE x_requests_total counter
x_requests_total{stream="app",transport="sse"} 7
x_requests_total{stream="app",transport="tcp"} 1
x_requests_total{stream="system",transport="tcp"} 3
# HELP x_up Always 1.
# TYPE x_up gauge
x_up 1
`,
  );
});

Deno.test("Exposition output does not depend on the order samples were fed in", () => {
  const samples = [
    ["b", "tcp", 1],
    ["a", "ws", 2],
    ["a", "sse", 3],
    ["ab", "sse", 4],
  ] as const;
  const forward = new Exposition();
  const backward = new Exposition();
  for (const [stream, transport, value] of samples) {
    forward.add(REQUESTS, { stream, transport }, value);
  }
  for (const [stream, transport, value] of [...samples].reverse()) {
    backward.add(REQUESTS, { stream, transport }, value);
  }
  assert.equal(forward.text(), backward.text());
});

Deno.test("Exposition of nothing is empty", () => {
  assert.equal(new Exposition().text(), "");
});

Deno.test("escapeLabelValue escapes backslash, double quote and newline, nothing else", () => {
  assert.equal(escapeLabelValue("plain app-1.log"), "plain app-1.log");
  assert.equal(escapeLabelValue('C:\\logs\\"x"\nnext'), 'C:\\\\logs\\\\\\"x\\"\\nnext');
  assert.equal(escapeLabelValue("\\n"), "\\\\n");
  assert.equal(
    escapeLabelValue("tab\there, ünïcode ✓, {braces}='"),
    "tab\there, ünïcode ✓, {braces}='",
  );
  assert.equal(escapeLabelValue(""), "");
});

Deno.test("escapeHelp escapes backslash and newline; double quotes stay", () => {
  assert.equal(escapeHelp('Bytes "read".'), 'Bytes "read".');
  assert.equal(escapeHelp("a\\b\nc"), "a\\\\b\\nc");
});

Deno.test("Exposition escapes label values and help text in the text it writes", () => {
  const family = defineGauge("x_weird", 'Help with \\ and\nnewline and "quotes".', ["stream"]);
  const text = new Exposition().add(family, { stream: 'a"b\\c\nd' }, 1).text();
  assert.equal(
    text,
    `# HELP x_weird Help with \\\\ and\\nnewline and "quotes".
# TYPE x_weird gauge
x_weird{stream="a\\"b\\\\c\\nd"} 1
`,
  );
});

Deno.test("formatValue writes Go float syntax, infinities and NaN", () => {
  assert.equal(formatValue(0), "0");
  assert.equal(formatValue(-0), "0");
  assert.equal(formatValue(1542), "1542");
  assert.equal(formatValue(0.00005), "0.00005");
  assert.equal(formatValue(1.5e-7), "1.5e-7");
  assert.equal(Number(formatValue(2 ** 60 + 2 ** 8)), 2 ** 60 + 2 ** 8);
  assert.equal(formatValue(1e21), "1e+21");
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(NaN), "NaN");
});

Deno.test("Gauges may be negative, infinite or NaN; counters may not be negative or NaN", () => {
  const text = new Exposition()
    .add(QUEUED, { stream: "a" }, -1)
    .add(QUEUED, { stream: "b" }, Infinity)
    .add(QUEUED, { stream: "c" }, NaN)
    .text();
  assert.match(text, /x_queued\{stream="a"\} -1\n.*"b"\} \+Inf\n.*"c"\} NaN\n/s);
  for (const bad of [-1, NaN]) {
    assert.throws(
      () => new Exposition().add(REQUESTS, { stream: "a", transport: "tcp" }, bad),
      {
        name: "TypeError",
        message: `Counter x_requests_total{stream="a",transport="tcp"} cannot be ${bad}`,
      },
    );
  }
});

Deno.test("define* validate metric and label names", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => defineGauge("2xx", "h"), /^Invalid metric name "2xx": letters, digits/],
    [() => defineGauge("a:b", "h"), /^Invalid metric name "a:b"/],
    [() => defineGauge("a-b", "h"), /^Invalid metric name "a-b"/],
    [() => defineGauge("", "h"), /^Invalid metric name ""/],
    [
      () => defineCounter("x_requests", "h"),
      /^Invalid counter name "x_requests": must end in "_total"$/,
    ],
    [
      () => defineGauge("x_open_total", "h"),
      /^Invalid gauge name "x_open_total": only counters end in "_total"$/,
    ],
    [() => defineHistogram("x_total", "h"), /^Invalid histogram name "x_total"/],
    [() => defineGauge("x", ""), /^Metric "x" has no help text$/],
    [() => defineGauge("x", "h", ["0a"]), /^Invalid label name "0a" of metric "x"/],
    [() => defineGauge("x", "h", ["a-b"]), /^Invalid label name "a-b" of metric "x"/],
    [() => defineGauge("x", "h", ["__name__"]), /^Invalid label name "__name__" of metric "x"/],
    [() => defineGauge("x", "h", ["a", "a"]), /^Label "a" of metric "x" is repeated$/],
    [
      () => defineHistogram("x_seconds", "h", ["le"]),
      /^Histogram "x_seconds" cannot have a label "le"/,
    ],
  ];
  for (const [define, message] of cases) assert.throws(define, { name: "TypeError", message });
  assert.deepEqual(defineGauge("_x", "h", ["_a", "b1"]).labelNames, ["_a", "b1"]);
  assert.ok(Object.isFrozen(REQUESTS) && Object.isFrozen(REQUESTS.labelNames));
});

Deno.test("Exposition takes exactly the family's labels", () => {
  const exposition = new Exposition();
  const wrong: Record<string, string>[] = [
    {},
    { stream: "a" },
    { stream: "a", transport: "tcp", extra: "x" },
    { stream: "a", transprot: "tcp" },
  ];
  for (const labels of wrong) {
    assert.throws(
      () => exposition.add(REQUESTS, labels as { stream: string; transport: string }, 1),
      {
        name: "TypeError",
        message: `Metric "x_requests_total" takes the labels ["stream","transport"], not ${
          JSON.stringify(Object.keys(labels))
        }`,
      },
    );
  }
  assert.throws(
    () => exposition.add(REQUESTS, { stream: "a", transport: 1 as unknown as string }, 1),
    { name: "TypeError" },
  );
  assert.equal(exposition.text(), "");
});

Deno.test("Exposition refuses a label set twice and a name with two definitions", () => {
  const exposition = new Exposition().add(QUEUED, { stream: "a" }, 1);
  assert.throws(() => exposition.add(QUEUED, { stream: "a" }, 2), {
    name: "TypeError",
    message: 'Sample x_queued{stream="a"} was added twice',
  });
  const twin = defineGauge("x_queued", "Queued entries.", ["stream"]);
  exposition.add(twin, { stream: "b" }, 2);
  const other = defineGauge("x_queued", "Something else.", ["stream"]);
  assert.throws(() => exposition.add(other, { stream: "c" }, 3), {
    name: "TypeError",
    message:
      'Metric "x_queued" was added with two definitions: gauge ["stream"] "Queued entries." ' +
      'and gauge ["stream"] "Something else."',
  });
  assert.equal(exposition.text().match(/# TYPE/g)?.length, 1);
});

Deno.test("Exposition writes a histogram's buckets cumulative, +Inf, _sum and _count", () => {
  const histogram = new Histogram([0.001, 0.01, 0.1]);
  for (const value of [0.0005, 0.001, 0.002, 0.05, 0.05, 3]) histogram.observe(value);
  const text = new Exposition()
    .add(LATENCY, { stream: "app" }, histogram.snapshot())
    .add(LATENCY, { stream: "b" }, new Histogram([0.5]).snapshot())
    .text();
  assert.equal(
    text,
    `# HELP x_latency_seconds Latency.
# TYPE x_latency_seconds histogram
x_latency_seconds_bucket{stream="app",le="0.001"} 2
x_latency_seconds_bucket{stream="app",le="0.01"} 3
x_latency_seconds_bucket{stream="app",le="0.1"} 5
x_latency_seconds_bucket{stream="app",le="+Inf"} 6
x_latency_seconds_sum{stream="app"} ${formatValue(0.0005 + 0.001 + 0.002 + 0.05 + 0.05 + 3)}
x_latency_seconds_count{stream="app"} 6
x_latency_seconds_bucket{stream="b",le="0.5"} 0
x_latency_seconds_bucket{stream="b",le="+Inf"} 0
x_latency_seconds_sum{stream="b"} 0
x_latency_seconds_count{stream="b"} 0
`,
  );
  const unlabelled = defineHistogram("x_wait_seconds", "Wait.");
  assert.match(
    new Exposition().add(unlabelled, {}, new Histogram([1]).snapshot()).text(),
    /^x_wait_seconds_bucket\{le="1"\} 0\nx_wait_seconds_bucket\{le="\+Inf"\} 0\nx_wait_seconds_sum 0\nx_wait_seconds_count 0\n$/m,
  );
});

Deno.test("Exposition refuses inconsistent histogram snapshots and mismatched value kinds", () => {
  const exposition = new Exposition();
  const at = (buckets: [number, number][], count: number) => ({
    buckets: buckets.map(([le, count]) => ({ le, count })),
    count,
    sum: 0,
  });
  const bad: [ReturnType<typeof at>, RegExp][] = [
    [at([[1, 0], [0.5, 0]], 0), /bounds must be finite and ascending/],
    [at([[1, 0], [1, 0]], 0), /bounds must be finite and ascending/],
    [at([[Infinity, 0]], 0), /bounds must be finite and ascending/],
    [at([[1, 2], [2, 1]], 2), /bucket counts must be cumulative/],
    [at([[1, 2]], 1), /count 1 is not an integer at least the last bucket's/],
    [at([[1, 1]], 1.5), /count 1.5 is not an integer/],
  ];
  for (const [snapshot, message] of bad) {
    assert.throws(() => exposition.add(LATENCY, { stream: "a" }, snapshot), {
      name: "TypeError",
      message,
    });
  }
  assert.throws(
    () => exposition.add(LATENCY, { stream: "a" }, 1 as never),
    { name: "TypeError", message: 'Histogram "x_latency_seconds" takes a snapshot, not a number' },
  );
  assert.throws(
    () => exposition.add(QUEUED, { stream: "a" }, new Histogram().snapshot() as never),
    { name: "TypeError", message: 'The gauge "x_queued" takes a number' },
  );
});

async function promtoolCheckMetrics(text: string): Promise<{ code: number; output: string }> {
  let child;
  try {
    child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(
      "promtool is not installed: these tests check the exposition with the real one " +
        "(apt-get install prometheus)",
    );
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

Deno.test("promtool check metrics passes on every LogWisp family, escapes and process metrics", async () => {
  const exposition = sampleExposition(["app", "system", 'odd "name" \\ with\nnewline'], 3);
  await addProcessMetrics(exposition);
  const text = exposition.text();
  const { code, output } = await promtoolCheckMetrics(text);
  assert.equal(output, "");
  assert.equal(code, 0);

  const written = new Set(text.match(/^# TYPE \S+/gm)?.map((line) => line.slice(7)));
  const missing = FAMILIES.map((family) => family.name).filter((name) => !written.has(name));
  // Only process_open_fds may be missing: without --allow-all, /proc cannot be read.
  assert.ok(missing.length === 0 || missing.join() === "process_open_fds", `missing ${missing}`);
  const samples = parseSamples(text);
  assert.ok(
    samples.some((sample) => sample.labels === 'stream="odd \\"name\\" \\\\ with\\nnewline"'),
  );
  assert.ok(samples.some((sample) => sample.name === "logwisp_read_to_send_seconds_bucket"));
});

Deno.test("promtool check metrics does fail on what the writer refuses to write", async () => {
  const { code, output } = await promtoolCheckMetrics(
    "# HELP x_open_total Open things.\n# TYPE x_open_total gauge\nx_open_total 1\n",
  );
  assert.notEqual(code, 0);
  assert.match(output, /non-counter metrics should not have "_total" suffix/);
});
