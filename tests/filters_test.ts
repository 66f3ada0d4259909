/**
 * Filters, `tail` and transforms end to end (README "Filters" and "Transforms"): the real
 * CLI, real files, and real clients — curl, fetch, the npm `eventsource` package and nc.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EventSource } from "eventsource";
import { tempDir, waitFor } from "../src/_test_utils.ts";
import { runCli } from "./_cli.ts";
import {
  ClientProcess,
  connectSse,
  connectTcp,
  freePort,
  getJson,
  type LogWisp,
  serversToml,
  startLogWisp,
  streamToml,
  writeConfig,
} from "./_logwisp.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** Plain lines of `a.log`, then JSON lines of `b.log`, published in this order. */
const A_LINES = [
  "2024-01-01T00:00:01Z INFO user login ok",
  "2024-01-01T00:00:02Z WARN disk 91% full",
  "2024-01-01T00:00:03Z ERROR db timeout after 30s",
  "2024-01-01T00:00:04Z DEBUG cache miss",
  "no level here timeout",
];
const B_LINES = [
  `{"level":"error","msg":"payment failed timeout","user":"alice","code":502}`,
  `{"level":"info","msg":"payment ok","user":"bob","code":200}`,
  `{"level":"fatal","msg":"Out Of Memory","user":"alice","code":500}`,
];
const [LOGIN, DISK, DB, CACHE, NO_LEVEL] = A_LINES as [string, string, string, string, string];
const ALL = [...A_LINES, "payment failed timeout", "payment ok", "Out Of Memory"];

interface Running {
  readonly dir: string;
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly logwisp: LogWisp;
}

/** LogWisp following `*.log` in a temp dir, with `a.log` and `b.log` already published. */
async function withFixture(
  extra: string,
  body: (running: Running) => Promise<void>,
): Promise<void> {
  await using dir = await tempDir("logwisp_filters_");
  const [httpPort, tcpPort] = [freePort(), freePort()];
  const config = await writeConfig(
    dir.path,
    `[[streams]]
name = "app"
[streams.monitor]
check_interval_ms = 50
targets = [{ path = "${dir.path}", pattern = "*.log" }]
${extra}
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${httpPort}
[streams.tcpserver]
enabled = true
host = "127.0.0.1"
port = ${tcpPort}
`,
  );
  await using logwisp = await startLogWisp(["--config", config, "--quiet"]);
  await body({ dir: dir.path, httpPort, tcpPort, logwisp });
}

async function status(port: number): Promise<Json> {
  return await getJson(`http://127.0.0.1:${port}/status`);
}

/** Appends lines to a file of the fixture and waits until the stream has published `seq`. */
async function publish(running: Running, file: string, lines: string[], seq: number) {
  await Deno.writeTextFile(join(running.dir, file), lines.map((l) => `${l}\n`).join(""), {
    append: true,
  });
  await waitFor(async () => (await status(running.httpPort)).delivery.last_sequence >= seq, {
    message: `sequence ${seq}`,
  });
}

async function publishFixture(running: Running): Promise<void> {
  await publish(running, "a.log", A_LINES, 5);
  await publish(running, "b.log", B_LINES, 8);
}

/**
 * The messages an SSE client with `query` receives on connect when `count` are expected,
 * checked in status to be all it was sent (nothing is published meanwhile).
 */
async function replayed(running: Running, query: string, count: number): Promise<string[]> {
  const url = `http://127.0.0.1:${running.httpPort}/stream?${query}`;
  await using client = await connectSse(url);
  assert.equal(client.response.status, 200, query);
  const connected = await client.events.next();
  assert.equal(connected?.event, "connected");
  const id = JSON.parse(connected!.data).client_id;
  const events = await client.events.take(count);
  await waitFor(async () => {
    const doc = await status(running.httpPort);
    const self = doc.delivery.clients.find((client: Json) => client.id === id);
    return self.queued_entries === 0 && self.sent_entries >= count;
  });
  const self = (await status(running.httpPort)).delivery.clients.find((c: Json) => c.id === id);
  assert.equal(self.sent_entries, count, `${query}: sent ${self.sent_entries}, expected ${count}`);
  return events.map((event) => JSON.parse(event.data).message);
}

Deno.test("filters: each parameter alone and combined, replayed by tail through the filter", async () => {
  await withFixture("", async (running) => {
    await publishFixture(running);
    const cases: [string, string[]][] = [
      ["tail=100", ALL],
      ["level=WARN&tail=100", [
        DISK,
        DB,
        "payment failed timeout",
        "Out Of Memory",
      ]],
      ["source=b.log&tail=100", ["payment failed timeout", "payment ok", "Out Of Memory"]],
      ["source=a.*&source=b.log&tail=100", ALL],
      ["source=*.txt&tail=100", []],
      ["grep=timeout&tail=100", [
        DB,
        NO_LEVEL,
        "payment failed timeout",
      ]],
      ["grep=(?i)OUT%20OF&tail=100", ["Out Of Memory"]],
      ["grep=out%20of&icase=1&tail=100", ["Out Of Memory"]],
      ["grep=out%20of&tail=100", []],
      ["exclude=payment|disk&tail=100", [
        LOGIN,
        DB,
        CACHE,
        NO_LEVEL,
        "Out Of Memory",
      ]],
      ["field.user=alice&tail=100", ["payment failed timeout", "Out Of Memory"]],
      ["field.code=502&tail=100", ["payment failed timeout"]],
      ["field.user=alice&field.user=bob&tail=100", [
        "payment failed timeout",
        "payment ok",
        "Out Of Memory",
      ]],
      ["level=ERROR&grep=timeout&source=a.log&tail=100", [DB]],
      ["level=WARN&exclude=disk&field.user=alice&tail=100", [
        "payment failed timeout",
        "Out Of Memory",
      ]],
      ["level=WARN&tail=2", ["payment failed timeout", "Out Of Memory"]],
      ["tail=3", ["payment failed timeout", "payment ok", "Out Of Memory"]],
      ["tail=0", []],
      ["level=WARN", []],
      ["unknown=1&tail=1", ["Out Of Memory"]],
    ];
    for (const [query, expected] of cases) {
      assert.deepEqual(await replayed(running, query, expected.length), expected, query);
    }
  });
});

Deno.test("filters: field.NAME replays and level filters leave out entries without a level", async () => {
  await withFixture("", async (running) => {
    await publishFixture(running);
    // field.user matches nothing in c.log: the live marker must carry it.
    const url = `http://127.0.0.1:${running.httpPort}/stream?field.user=alice&tail=10`;
    await using client = await connectSse(url);
    const replay = await client.events.take(2);
    assert.deepEqual(replay.map((event) => JSON.parse(event.data).message), [
      "payment failed timeout",
      "Out Of Memory",
    ]);
    await publish(running, "b.log", [
      `{"level":"info","msg":"bob again","user":"bob"}`,
      `{"msg":"alice without level","user":"alice"}`,
    ], 10);
    const [live] = await client.events.take(1);
    assert.equal(JSON.parse(live!.data).message, "alice without level");
  });
});

Deno.test("filters: every bad parameter gets 400 with a JSON body naming it, over curl too", async () => {
  await withFixture("", async (running) => {
    const base = `http://127.0.0.1:${running.httpPort}/stream`;
    const bad: [string, string][] = [
      ["level=LOUD", "level"],
      ["grep=(unclosed", "grep"],
      ["exclude=[z-a]", "exclude"],
      ["grep=(a)%5C1", "grep"],
      ["grep=(?=x)y", "grep"],
      ["tail=ten", "tail"],
      ["tail=-1", "tail"],
      ["tail=99999999", "tail"],
      ["icase=maybe", "icase"],
      ["field.=x", "field."],
      ["level=WARN&level=ERROR", "level"],
      ["source=%5B", "source"],
    ];
    for (const [query, parameter] of bad) {
      const response = await fetch(`${base}?${query}`);
      assert.equal(response.status, 400, query);
      assert.match(response.headers.get("content-type") ?? "", /application\/json/);
      const body: Json = await response.json();
      assert.equal(body.parameter, parameter, query);
      assert.equal(typeof body.error, "string");
      assert.ok(body.error.includes(JSON.stringify(parameter)), body.error);
    }
    const curl = await new Deno.Command("curl", {
      args: ["-sS", "-w", "\n%{http_code}", `${base}?level=LOUD`],
      stdout: "piped",
    }).output();
    const [body, code] = new TextDecoder().decode(curl.stdout).split("\n");
    assert.equal(code, "400");
    assert.equal(JSON.parse(body!).parameter, "level");
    // LogWisp still serves.
    assert.equal((await status(running.httpPort)).state, "running");
  });
});

Deno.test("filters: curl -N with level and tail; status shows each client's filter and filtered count", async () => {
  await withFixture("", async (running) => {
    await publishFixture(running);
    const url = `http://127.0.0.1:${running.httpPort}/stream?level=ERROR&tail=100`;
    await using curl = new ClientProcess("curl", ["-sN", url]);
    const replay = await curl.waitForLines(/^data: \{"time"/, 3);
    assert.deepEqual(replay.map((line) => JSON.parse(line.slice(6)).message), [
      DB,
      "payment failed timeout",
      "Out Of Memory",
    ]);
    await publish(running, "a.log", ["2024-01-01T00:00:05Z INFO quiet", "FATAL loud"], 10);
    const [live] = (await curl.waitForLines(/^data: \{"time"/, 4)).slice(3);
    assert.equal(JSON.parse(live!.slice(6)).message, "FATAL loud");

    const doc = await status(running.httpPort);
    const [client] = doc.delivery.clients;
    assert.equal(client.filter, "level=ERROR tail=100");
    assert.equal(client.sent_entries, 4);
    assert.equal(client.dropped_entries, 0);
    assert.ok(client.filtered_entries >= 1, JSON.stringify(client));
    assert.ok(doc.delivery.transports.sse.filtered_entries >= 1);
  });
});

Deno.test("filters: resume applies the filter, and Last-Event-ID wins over tail", async () => {
  await withFixture("", async (running) => {
    await publishFixture(running);
    const url = `http://127.0.0.1:${running.httpPort}/stream`;
    let first: string;
    {
      await using all = await connectSse(`${url}?tail=8`);
      const events = await all.events.take(8);
      first = events[0]!.id!;
    }
    await using resumed = await connectSse(`${url}?level=ERROR&tail=1`, {
      "Last-Event-ID": first,
    });
    const replay = await resumed.events.take(3);
    assert.deepEqual(replay.map((event) => JSON.parse(event.data).message), [
      DB,
      "payment failed timeout",
      "Out Of Memory",
    ]);

    // EventSource (npm) resumes on its own after a reconnect, with its filter in the URL.
    const source = new EventSource(`${url}?grep=payment&tail=5`);
    try {
      const seen: string[] = [];
      source.onmessage = (event) => seen.push(JSON.parse(event.data).message);
      await waitFor(() => seen.length === 2, { message: () => `EventSource got ${seen}` });
      assert.deepEqual(seen, ["payment failed timeout", "payment ok"]);
    } finally {
      source.close();
    }
  });
});

Deno.test("filters: TCP hello line with nc; a bad hello gets an error line and is closed", async () => {
  await withFixture("", async (running) => {
    await publishFixture(running);
    const hello = JSON.stringify({ level: "ERROR", source: ["b.log", "c.log"], tail: 10 });
    await using nc = new ClientProcess("nc", ["127.0.0.1", String(running.tcpPort)]);
    await nc.send(`${hello}\n`);
    const replay = await nc.waitForLines(/^\{/, 2);
    assert.deepEqual(replay.map((line) => JSON.parse(line).message), [
      "payment failed timeout",
      "Out Of Memory",
    ]);
    await publish(running, "a.log", ["ERROR not from b"], 9);
    await publish(running, "c.log", ["INFO quiet c", "ERROR loud c"], 11);
    const lines = await nc.waitForLines(/^\{/, 3);
    assert.equal(JSON.parse(lines[2]!).message, "ERROR loud c");

    const doc = await status(running.httpPort);
    const tcp = doc.delivery.clients.find((client: Json) => client.transport === "tcp");
    assert.equal(tcp.filter, 'level=ERROR source="b.log" source="c.log" tail=10');

    // A bad hello: one error line naming the parameter, then the connection is closed.
    for (const [bad, parameter] of [[`{"grep":"("}`, "grep"], [`{"tail":"x"}`, "tail"]]) {
      using conn = await connectTcp(running.tcpPort);
      await conn.conn.write(new TextEncoder().encode(`${bad}\n`));
      const rest = await conn.rest();
      assert.equal(rest.length, 1, rest.join("\n"));
      const error: Json = JSON.parse(rest[0]!);
      assert.equal(error.type, "error");
      assert.equal(error.parameter, parameter);
    }
    {
      using conn = await connectTcp(running.tcpPort);
      await conn.conn.write(new TextEncoder().encode(`{"level": \n`));
      const [line] = await conn.rest();
      assert.match(JSON.parse(line!).error, /^Hello line is not JSON/);
    }

    // Without a hello a client gets every entry, none lost while LogWisp waited for one.
    using plain = await connectTcp(running.tcpPort);
    await publish(running, "a.log", ["right after connect"], 12);
    const [next] = await plain.take(1);
    assert.equal(JSON.parse(next!).message, "right after connect");
  });
});

Deno.test("filters: a catastrophic pattern leaves another client's latency unchanged", async () => {
  await withFixture("", async (running) => {
    const url = `http://127.0.0.1:${running.httpPort}/stream`;
    await using _evil = await connectSse(`${url}?grep=${encodeURIComponent("(a+)+$")}`);
    await using normal = await connectSse(url);
    await waitFor(async () => (await status(running.httpPort)).delivery.clients.length === 2);

    // Latency of one line to the normal client: written, then received.
    let n = 0;
    const latency = async () => {
      const marker = `marker ${++n}`;
      const start = performance.now();
      await Deno.writeTextFile(join(running.dir, "a.log"), `${marker}\n`, { append: true });
      const [event] = await normal.events.take(1, (e) => e.data.includes(marker));
      assert.ok(event);
      return performance.now() - start;
    };
    const before: number[] = [];
    for (let i = 0; i < 5; i++) before.push(await latency());
    // Lines of "aaaa…a!" just under the length patterns look at: exponential in V8's
    // backtracking engine, linear after its fallback.
    const evilLine = `${"a".repeat(8000)}!\n`;
    const during: number[] = [];
    const writer = (async () => {
      for (let i = 0; i < 20; i++) {
        await Deno.writeTextFile(join(running.dir, "a.log"), evilLine.repeat(5), { append: true });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    for (let i = 0; i < 5; i++) during.push(await latency());
    await writer;
    during.push(await latency());
    const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1]!;
    // deno-lint-ignore no-console
    console.log(
      `normal client latency: median ${median(before).toFixed(1)} ms before, ` +
        `${median(during).toFixed(1)} ms while another client runs (a+)+$ on 100 lines of 8 kB`,
    );
    const doc = await status(running.httpPort);
    const evilClient = doc.delivery.clients.find((client: Json) => client.filter?.includes("grep"));
    // About a millisecond and a half per line of 8 kB: whether that is over the client's share
    // of the thread (100 ms a second) depends on the machine; either way it cost no one else.
    if (evilClient) {
      assert.ok(evilClient.filtered_entries >= 100, JSON.stringify(evilClient));
      assert.equal(evilClient.sent_entries, 0);
    } else {
      assert.equal(doc.delivery.expensive_filters_disconnected, 1);
    }
  });
});

Deno.test("filters: a client whose pattern takes too much of the thread is told so, ended and counted", async () => {
  await withFixture("", async (running) => {
    const url = `http://127.0.0.1:${running.httpPort}/stream`;
    // Within every limit on patterns, yet about a millisecond per kilobyte of line on the
    // linear-time engine: a few such clients would leave nothing for the others.
    const costly = `${".*".repeat(120)}\\x00`;
    await using expensive = await connectSse(`${url}?grep=${encodeURIComponent(costly)}`);
    await using normal = await connectSse(url);
    await waitFor(async () => (await status(running.httpPort)).delivery.clients.length === 2);
    const long = `INFO ${"x".repeat(8000)}\n`;
    await Deno.writeTextFile(join(running.dir, "a.log"), long.repeat(100), { append: true });
    const [farewell] = await expensive.events.take(1, (event) => event.event === "disconnect");
    assert.deepEqual(JSON.parse(farewell!.data), { reason: "filter_too_expensive" });
    assert.equal(await expensive.events.next(), null);
    await Deno.writeTextFile(join(running.dir, "a.log"), "after\n", { append: true });
    await normal.events.take(1, (event) => event.data.includes('"after"'));
    const doc = await status(running.httpPort);
    assert.equal(doc.delivery.expensive_filters_disconnected, 1);
    assert.equal(doc.delivery.transports.sse.expensive_filters_disconnected, 1);
    assert.equal(doc.delivery.clients.length, 1);
    const metrics = await (await fetch(`http://127.0.0.1:${running.httpPort}/metrics`)).text();
    assert.match(metrics, /^logwisp_expensive_filters_disconnected_total\{stream="app"\} 1$/m);
  });
});

Deno.test("transforms: applied once before SSE, TCP, WebSocket and status; dropped entries counted", async () => {
  await withFixture(
    `[streams.transform]
min_level = "INFO"
exclude = ["^healthcheck"]
redact = ["email", "ipv4", "credit_card"]
redact_patterns = [{ pattern = "password=\\\\S+", replacement = "password=[REDACTED]" }]
drop_fields = ["token"]
add_fields = { env = "test" }
strip_ansi = true`,
    async (running) => {
      const sse = await connectSse(`http://127.0.0.1:${running.httpPort}/stream`);
      await using _sse = sse;
      using tcp = await connectTcp(running.tcpPort);
      const ws = new WebSocket(`ws://127.0.0.1:${running.httpPort}/ws`);
      const fromWs: Json[] = [];
      ws.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.type === "entry") fromWs.push(message.entry);
      };
      const wsClosed = new Promise((resolve) => ws.onclose = resolve);
      await waitFor(async () => (await status(running.httpPort)).delivery.clients.length === 3);
      // The TCP client waits for a hello first: it gets what is published meanwhile.
      await publish(running, "a.log", [
        "DEBUG hidden below min_level",
        "healthcheck ok",
        "\u001b[31mERROR\u001b[0m login from 10.1.2.3 by bob@example.com password=hunter2",
        `{"level":"warn","msg":"card 4111 1111 1111 1111 and 4111 1111 1111 1112","token":"t0k","ip":"192.168.0.1"}`,
      ], 2);
      const expected = [
        "ERROR login from [REDACTED:ipv4] by [REDACTED:email] password=[REDACTED]",
        "card [REDACTED:credit_card] and 4111 1111 1111 1112",
      ];
      const events = await sse.events.take(2);
      const fromSse = events.map((event) => JSON.parse(event.data));
      const fromTcp = (await tcp.take(2)).map((line) => JSON.parse(line));
      await waitFor(() => fromWs.length === 2);
      ws.close();
      await wsClosed;
      for (const entries of [fromSse, fromTcp, fromWs]) {
        assert.deepEqual(entries.map((entry: Json) => entry.message), expected);
        assert.equal(entries[0].level, "ERROR");
        assert.deepEqual(entries[0].fields, { env: "test" });
        assert.deepEqual(entries[1].fields, { ip: "[REDACTED:ipv4]", env: "test" });
      }
      const doc = await status(running.httpPort);
      assert.equal(doc.monitor.filtered_entries, 2);
      assert.equal(doc.transform.filtered_entries, 2);
      assert.deepEqual(doc.transform.redact, ["email", "ipv4", "credit_card"]);
      assert.equal(doc.delivery.last_sequence, 2);
    },
  );
});

Deno.test("transforms: --check shows each stream's transform; a bad one exits 2 naming its key", async () => {
  await using dir = await tempDir("logwisp_filters_");
  const config = join(dir.path, "logwisp.toml");
  const stream = (transform: string) =>
    `[[streams]]
name = "app"
[streams.monitor]
targets = [{ path = "${dir.path}", pattern = "*.log" }]
[streams.transform]
${transform}
[streams.httpserver]
enabled = true
port = ${freePort()}
`;
  await Deno.writeTextFile(config, stream(`min_level = "WARN"\nredact = ["email", "jwt"]`));
  const ok = await runCli(["--check", "--config", config]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^ {2}transform min_level WARN, redact email,jwt$/m);
  await Deno.writeTextFile(config, stream(`redact = ["emial"]\ninclude = ["("]`));
  const bad = await runCli(["--check", "--config", config]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /streams\[0\]\.transform\.redact\[0\]: unknown detector "emial": did you mean "email"\?/,
  );
  assert.match(bad.stderr, /streams\[0\]\.transform\.include\[0\]: invalid regular expression/);
});

Deno.test("filters: a TCP-only stream keeps entries for tail and for clients saying hello", async () => {
  await using dir = await tempDir("logwisp_filters_");
  const log = join(dir.path, "app.log");
  await Deno.writeTextFile(log, "");
  const port = freePort();
  const config = await writeConfig(
    dir.path,
    streamToml(dir.path, "app", serversToml({ tcpPort: port })),
  );
  await using _logwisp = await startLogWisp(["--config", config, "--quiet"]);
  // Written the moment the client connects, while LogWisp still waits for a hello.
  using plain = await connectTcp(port);
  await Deno.writeTextFile(log, "one\ntwo\n", { append: true });
  assert.deepEqual((await plain.take(2)).map((line) => JSON.parse(line).message), ["one", "two"]);
  using tailing = await connectTcp(port);
  await tailing.conn.write(new TextEncoder().encode(`{"tail":1}\n`));
  assert.equal(JSON.parse((await tailing.take(1))[0]!).message, "two");
});
