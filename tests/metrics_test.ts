/**
 * Metrics, health and readiness end to end: the real CLI scraped by a real Prometheus and
 * checked by `promtool` (docs/operations.md "Metrics").
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { FAMILIES } from "../src/metrics/families.ts";
import { parseSamples } from "../src/metrics/testdata/logwisp_sample.ts";
import { makeCertificates } from "../src/tls/testdata/make_certs.ts";
import { tempDir, waitFor, which } from "../src/_test_utils.ts";
import { runCli } from "./_cli.ts";
import { startNatsServer } from "./_nats.ts";
import { startPrometheus } from "./_prometheus.ts";
import { appendNumbered, connectSse, connectTcp, freePort, startLogWisp } from "./_logwisp.ts";

/** Deno lets a program read /proc/self/fd only under --allow-all. */
const NEEDS_ALLOW_ALL = "process_open_fds";

/** Families that need a feature the first test does not configure: TLS, NATS publishing. */
const CONDITIONAL = new Set([
  "logwisp_tls_certificate_expiry_timestamp_seconds",
  "logwisp_publish_state",
  "logwisp_published_entries_total",
  "logwisp_publish_pending",
  NEEDS_ALLOW_ALL,
]);

/** `promtool check metrics` on `text`: its complaints, empty when it has none. */
async function promtoolProblems(text: string): Promise<string> {
  if (!which("promtool")) {
    throw new Error("promtool is not installed: apt-get install prometheus");
  }
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  return code === 0 && output.trim() === "" ? "" : `exit ${code}: ${output}`;
}

async function scrape(url: string): Promise<{ text: string; contentType: string | null }> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `${url} answers 200`);
  return { text: await response.text(), contentType: response.headers.get("content-type") };
}

function familiesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));
}

/** Counter and histogram series of a scrape, by series. */
function monotonic(text: string): Map<string, number> {
  const counters = new Set(
    [...text.matchAll(/^# TYPE (\S+) (counter|histogram)$/gm)].map((match) => match[1]!),
  );
  const series = new Map<string, number>();
  for (const sample of parseSamples(text)) {
    const family = sample.name.replace(/_(bucket|sum|count)$/, "");
    if (counters.has(sample.name) || counters.has(family)) {
      series.set(`${sample.name}{${sample.labels}}`, sample.value);
    }
  }
  return series;
}

async function writeConfig(dir: string, toml: string): Promise<string> {
  const file = join(dir, "logwisp.toml");
  await Deno.writeTextFile(file, toml);
  return file;
}

Deno.test("a real Prometheus scrapes LogWisp: entry rates, clients held open, refused connections", async () => {
  await using dir = await tempDir("logwisp_metrics_");
  const log = join(dir.path, "app.log");
  await Deno.writeTextFile(log, "");
  const [http, tcp] = [freePort(), freePort()];
  const file = await writeConfig(
    dir.path,
    `[[streams]]
name = "app"
[streams.monitor]
check_interval_ms = 50
targets = [{ path = "${log}", is_file = true }]
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${http}
[streams.tcpserver]
enabled = true
host = "127.0.0.1"
port = ${tcp}
max_connections = 2
`,
  );
  await using _logwisp = await startLogWisp(["--config", file, "--quiet"]);
  const metricsUrl = `http://127.0.0.1:${http}/metrics`;
  await using prometheus = await startPrometheus(metricsUrl);

  // Lines keep arriving while Prometheus scrapes, so that rates are non-zero.
  let written = 0;
  const writer = setInterval(() => {
    appendNumbered(log, "line", written, written + 20).catch(() => {});
    written += 20;
  }, 100);
  try {
    await using sse = await connectSse(`http://127.0.0.1:${http}/stream`);
    using tcp1 = await connectTcp(tcp);
    using tcp2 = await connectTcp(tcp);
    // TCP has no greeting: an entry says the client is subscribed.
    await tcp1.take(1);
    await tcp2.take(1);
    await sse.events.next();

    await prometheus.waitForTarget("up", 30_000);
    const [rate] = await prometheus.waitForQuery(
      'rate(logwisp_entries_total{stream="app"}[5s])',
      (samples) => (samples[0]?.value ?? 0) > 0,
    );
    assert.ok(rate!.value > 0);
    await prometheus.waitForQuery(
      'logwisp_clients{stream="app",transport="tcp"} == 2 and on() ' +
        'logwisp_clients{stream="app",transport="sse"} == 1',
      (samples) => samples.length === 1,
    );

    // A third TCP client is over max_connections: closed at once, and counted.
    using refused = await connectTcp(tcp);
    assert.deepEqual(await refused.rest(), []);
    await prometheus.waitForQuery(
      'logwisp_connections_rejected_total{stream="app",transport="tcp",reason="max_connections"}',
      (samples) => samples[0]?.value === 1,
    );
    await prometheus.waitForQuery(
      'rate(logwisp_entries_sent_total{stream="app",transport="tcp"}[5s]) > 0',
      (samples) => samples.length === 1,
    );
    await prometheus.waitForQuery(
      "logwisp_read_to_send_seconds_count > 0",
      (samples) => samples.length === 1,
    );
    const [up] = await prometheus.query('up{job="target"}');
    assert.equal(up!.value, 1);
  } finally {
    clearInterval(writer);
  }

  // Every family is there, except those of features this configuration does not use.
  const { text, contentType } = await scrape(metricsUrl);
  assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
  const missing = FAMILIES.map((family) => family.name)
    .filter((name) => !CONDITIONAL.has(name) && !familiesIn(text).has(name));
  assert.deepEqual(missing, []);
  assert.equal(await promtoolProblems(text), "");
});

/** `command args…`: its exit code and what it printed. */
async function run(command: string, args: string[]): Promise<{ code: number; stdout: string }> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** The value of the one sample written as `series` (name and labels), or undefined. */
function sampleValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test({
  name: "with TLS, Basic auth, a transform, WebSocket and NATS publishing, every family is there",
  ignore: !which("nats-server") || !which("htpasswd") || !which("curl"),
  async fn() {
    await using dir = await tempDir("logwisp_metrics_");
    await using nats = await startNatsServer();
    const certs = await makeCertificates(dir.path);
    const users = join(dir.path, "users.htpasswd");
    const htpasswd = await run("htpasswd", ["-B", "-C", "5", "-b", "-c", users, "admin", "s3cret"]);
    assert.equal(htpasswd.code, 0, htpasswd.stdout);
    const [secureLog, publishedLog] = [join(dir.path, "secure.log"), join(dir.path, "pub.log")];
    await Deno.writeTextFile(secureLog, "");
    await Deno.writeTextFile(publishedLog, "");
    const [secure, published] = [freePort(), freePort()];
    const file = await writeConfig(
      dir.path,
      `[[streams]]
name = "secure"
[streams.monitor]
check_interval_ms = 50
targets = [{ path = "${secureLog}", is_file = true }]
[streams.transform]
min_level = "INFO"
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${secure}
[streams.httpserver.tls]
enabled = true
cert_file = "${certs.server.cert}"
key_file = "${certs.server.key}"
[streams.httpserver.auth]
type = "basic"
users_file = "${users}"

[[streams]]
name = "pub"
[streams.monitor]
check_interval_ms = 50
targets = [{ path = "${publishedLog}", is_file = true }]
[streams.publish]
type = "nats"
servers = ["${nats.url}"]
host_name = "metrics-test"
create_stream = true
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${published}
`,
    );
    await using _logwisp = await startLogWisp(["--config", file, "--quiet"]);
    const secureUrl = `https://localhost:${secure}/metrics`;
    const scrapeSecure = async () => {
      const answer = await run("curl", [
        "-sS",
        "--fail",
        "--cacert",
        certs.ca.cert,
        "-u",
        "admin:s3cret",
        secureUrl,
      ]);
      assert.equal(answer.code, 0, answer.stdout);
      return answer.stdout;
    };
    const publishedUrl = `http://127.0.0.1:${published}/metrics`;

    // One request without credentials: refused and counted.
    const refused = await run("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--cacert",
      certs.ca.cert,
      `https://localhost:${secure}/status`,
    ]);
    assert.equal(refused.stdout, "401");
    // min_level drops the DEBUG line, keeps the INFO one.
    await Deno.writeTextFile(secureLog, "DEBUG hidden\nINFO shown\n", { append: true });
    await Deno.writeTextFile(publishedLog, "to nats\n", { append: true });
    const ws = new WebSocket(`ws://127.0.0.1:${published}/ws`);
    const wsClosed = new Promise((resolve) => ws.onclose = resolve);
    try {
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      let secureText = "";
      await waitFor(async () => {
        secureText = await scrapeSecure();
        return sampleValue(secureText, 'logwisp_filtered_entries_total{stream="secure"}') === 1;
      }, { message: () => `a filtered entry in:\n${secureText}` });
      let publishedText = "";
      await waitFor(async () => {
        publishedText = (await scrape(publishedUrl)).text;
        return sampleValue(publishedText, 'logwisp_published_entries_total{stream="pub"}') ===
            1 &&
          sampleValue(publishedText, 'logwisp_clients{stream="pub",transport="ws"}') === 1;
      }, { message: () => `a published entry and a ws client in:\n${publishedText}` });

      const notAfter = Date.parse(
        new X509Certificate(await Deno.readTextFile(certs.server.cert)).validTo,
      );
      const expected: [string, string, number][] = [
        [secureText, 'logwisp_entries_total{stream="secure"}', 2],
        [secureText, 'logwisp_auth_failures_total{stream="secure",reason="missing"}', 1],
        [
          secureText,
          'logwisp_connections_rejected_total{stream="secure",transport="http",reason="auth_failure"}',
          1,
        ],
        [
          secureText,
          'logwisp_connections_rejected_total{stream="secure",transport="http",reason="tls_error"}',
          0,
        ],
        [
          secureText,
          'logwisp_tls_certificate_expiry_timestamp_seconds{stream="secure",server="http"}',
          notAfter / 1000,
        ],
        [secureText, 'logwisp_clients{stream="secure",transport="ws"}', 0],
        [publishedText, 'logwisp_publish_state{stream="pub",state="connected"}', 1],
        [publishedText, 'logwisp_publish_state{stream="pub",state="blocked"}', 0],
        [publishedText, 'logwisp_publish_pending{stream="pub"}', 0],
        [publishedText, 'logwisp_connections_total{stream="pub",transport="ws"}', 1],
      ];
      for (const [text, series, value] of expected) {
        assert.equal(sampleValue(text, series), value, series);
      }

      // Between them, the two streams' servers expose every family.
      const present = new Set([...familiesIn(secureText), ...familiesIn(publishedText)]);
      const missing = FAMILIES.map((family) => family.name)
        .filter((name) => name !== NEEDS_ALLOW_ALL && !present.has(name));
      assert.deepEqual(missing, []);
      assert.equal(await promtoolProblems(secureText), "");
      assert.equal(await promtoolProblems(publishedText), "");
    } finally {
      ws.close();
      await wsClosed;
    }
  },
});

Deno.test("counters never decrease across scrapes while files rotate and clients come and go", async () => {
  await using dir = await tempDir("logwisp_metrics_");
  const log = join(dir.path, "app.log");
  await Deno.writeTextFile(log, "");
  const http = freePort();
  const file = await writeConfig(
    dir.path,
    `[[streams]]
name = "app"
[streams.monitor]
check_interval_ms = 20
targets = [{ path = "${dir.path}", pattern = "*.log" }]
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${http}
`,
  );
  await using _logwisp = await startLogWisp(["--config", file, "--quiet"]);
  const url = `http://127.0.0.1:${http}/metrics`;
  let previous = monotonic((await scrape(url)).text);
  for (let round = 0; round < 8; round++) {
    {
      await using sse = await connectSse(`http://127.0.0.1:${http}/stream`);
      await sse.events.next();
      await appendNumbered(log, `round ${round}`, 0, 50);
      await sse.events.take(50);
    }
    // Rename rotation, then a new file, and a file that vanishes for good.
    await Deno.rename(log, join(dir.path, `app.${round}`));
    await Deno.writeTextFile(log, "fresh\n");
    await Deno.writeTextFile(join(dir.path, `gone${round}.log`), "x\n");
    await Deno.remove(join(dir.path, `gone${round}.log`));
    const current = monotonic((await scrape(url)).text);
    for (const [series, value] of previous) {
      const now = current.get(series);
      assert.ok(now !== undefined, `${series} is still exposed`);
      assert.ok(now >= value, `${series} went from ${value} to ${now}`);
    }
    previous = current;
  }
  const text = (await scrape(url)).text;
  await waitFor(async () => /reason="inode_change"} [1-9]/.test((await scrape(url)).text));
  assert.equal(await promtoolProblems(text), "");
});

Deno.test("/readyz is 503 during the first scan of 5,000 files and 200 after; /healthz is 200 throughout", async () => {
  await using dir = await tempDir("logwisp_metrics_");
  const logs = join(dir.path, "logs");
  await Deno.mkdir(logs);
  const line = "x".repeat(200) + "\n";
  for (let i = 0; i < 5000; i++) await Deno.writeTextFile(join(logs, `f${i}.log`), line);
  const http = freePort();
  const file = await writeConfig(
    dir.path,
    `[[streams]]
name = "many"
[streams.monitor]
read_from = "beginning"
targets = [{ path = "${logs}", pattern = "*.log" }]
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${http}
`,
  );
  await using logwisp = await startLogWisp(["--config", file, "--quiet"], { ready: false });
  const seen: number[] = [];
  let health = 0;
  await waitFor(async () => {
    try {
      const ready = await fetch(`http://127.0.0.1:${http}/readyz`);
      const body = await ready.json();
      if (seen.at(-1) !== ready.status) seen.push(ready.status);
      if (ready.status === 503) {
        assert.deepEqual(body, { status: "starting" });
        const alive = await fetch(`http://127.0.0.1:${http}/healthz`);
        await alive.body?.cancel();
        health = alive.status;
      }
      return ready.status === 200;
    } catch (error) {
      if (error instanceof TypeError) return false; // not listening yet
      throw error;
    }
  }, { timeoutMs: 60_000, intervalMs: 2 });
  assert.deepEqual(seen, [503, 200]);
  assert.equal(health, 200);
  await logwisp.waitForLog(/ ready \(configuration: /);
});

Deno.test("without an HTTP server, [metrics] serves /metrics, /healthz and /readyz; the router serves them too", async () => {
  await using dir = await tempDir("logwisp_metrics_");
  const log = join(dir.path, "app.log");
  await Deno.writeTextFile(log, "one\ntwo\n");
  const [tcp, metrics] = [freePort(), freePort()];
  const tcpOnly = await writeConfig(
    dir.path,
    `[[streams]]
name = "app"
[streams.monitor]
read_from = "beginning"
targets = [{ path = "${log}", is_file = true }]
[streams.tcpserver]
enabled = true
host = "127.0.0.1"
port = ${tcp}
[metrics]
host = "127.0.0.1"
port = ${metrics}
path = "/prom"
`,
  );
  const check = await runCli(["--check", "--config", tcpOnly]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(
    check.stdout,
    new RegExp(`^Metrics: 127\\.0\\.0\\.1:${metrics}/prom, /healthz, /readyz$`, "m"),
  );
  {
    await using logwisp = await startLogWisp(["--config", tcpOnly, "--quiet"]);
    await logwisp.waitForLog(new RegExp(`metrics: http://127\\.0\\.0\\.1:${metrics}/prom`));
    const { text } = await scrape(`http://127.0.0.1:${metrics}/prom`);
    assert.match(text, /^logwisp_entries_total\{stream="app"\} 2$/m);
    assert.match(text, /^logwisp_clients\{stream="app",transport="tcp"\} 0$/m);
    assert.equal(await promtoolProblems(text), "");
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(`http://127.0.0.1:${metrics}${path}`);
      assert.equal(response.status, 200, path);
      await response.body?.cancel();
    }
    const missing = await fetch(`http://127.0.0.1:${metrics}/metrics`);
    assert.equal(missing.status, 404);
    assert.deepEqual((await missing.json()).endpoints, {
      healthz: "/healthz",
      readyz: "/readyz",
      metrics: "/prom",
    });
  }

  const router = freePort();
  const routed = await writeConfig(
    dir.path,
    `[router]
host = "127.0.0.1"
port = ${router}
${
      ["a", "b"].map((name) =>
        `[[streams]]
name = "${name}"
[streams.monitor]
read_from = "beginning"
targets = [{ path = "${log}", is_file = true }]
[streams.httpserver]
enabled = true
port = ${freePort()}
`
      ).join("")
    }`,
  );
  await using _router = await startLogWisp(["--config", routed, "--router", "--quiet"]);
  const { text } = await scrape(`http://127.0.0.1:${router}/metrics`);
  assert.match(text, /^logwisp_entries_total\{stream="a"\} 2$/m);
  assert.match(text, /^logwisp_entries_total\{stream="b"\} 2$/m);
  assert.equal(await promtoolProblems(text), "");
  const ready = await fetch(`http://127.0.0.1:${router}/readyz`);
  assert.deepEqual([ready.status, await ready.json()], [200, { status: "ready" }]);
  const alive = await fetch(`http://127.0.0.1:${router}/healthz`);
  assert.deepEqual([alive.status, await alive.json()], [200, { status: "alive" }]);
});

Deno.test("the alert rules of docs/operations.md pass promtool check rules, over families that exist", async () => {
  const text = await Deno.readTextFile(new URL("../docs/operations.md", import.meta.url));
  const rules = /```yaml\n(groups:[\s\S]*?)```/.exec(text)?.[1];
  assert.ok(rules, "docs/operations.md has a rules block");
  const names = new Set(FAMILIES.map((family) => family.name));
  for (const [, metric] of rules.matchAll(/\b(logwisp_[a-z_]+?|process_[a-z_]+?)(?:_bucket)?\b/g)) {
    assert.ok(names.has(metric!), `${metric} is a family LogWisp exposes`);
  }
  await using dir = await tempDir("logwisp_rules_");
  const file = join(dir.path, "rules.yml");
  await Deno.writeTextFile(file, rules);
  const { code, stdout, stderr } = await new Deno.Command("promtool", {
    args: ["check", "rules", file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, decoder.decode(stdout) + decoder.decode(stderr));
});
