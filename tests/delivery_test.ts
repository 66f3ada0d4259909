/**
 * Delivery end to end (the README, Clients and Signals): the real CLI, real files, and real clients — curl, nc,
 * the npm `eventsource` package (a WHATWG EventSource), and raw sockets.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EventSource } from "eventsource";
import { tempDir, waitFor } from "../src/_test_utils.ts";
import { runCli } from "./_cli.ts";
import {
  appendNumbered,
  ClientProcess,
  connectSse,
  connectTcp,
  exampleConfig,
  freePort,
  getJson,
  serversToml,
  startLogWisp,
  streamToml,
  stuckTcpClient,
  writeConfig,
} from "./_logwisp.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** The HTTP status code of a GET, its body discarded. */
async function statusOf(url: string): Promise<number> {
  const response = await fetch(url);
  await response.body?.cancel();
  return response.status;
}

/** Active clients of a stream, per transport, from its status endpoint. */
async function activeClients(statusUrl: string): Promise<{ sse: number; tcp: number }> {
  const status: Json = await getJson(statusUrl);
  const clients: Json[] = status.delivery.clients;
  return {
    sse: clients.filter((client) => client.transport === "sse").length,
    tcp: clients.filter((client) => client.transport === "tcp").length,
  };
}

Deno.test("the original README example serves curl -N, nc, EventSource and status as written", async () => {
  await using dir = await tempDir("logwisp_e2e_");
  await Deno.mkdir(join(dir.path, "myapp"));
  for (const name of ["myapp/app.log", "myapp/worker.log", "syslog", "auth.log"]) {
    await Deno.writeTextFile(join(dir.path, name), "written before startup\n");
  }
  const ports = { app: freePort(), systemTcp: freePort(), systemHttp: freePort() };
  const config = await writeConfig(dir.path, await exampleConfig(dir.path, ports));
  await using logwisp = await startLogWisp(["--config", config, "--quiet"]);
  const app = `http://localhost:${ports.app}`;
  const system = `http://localhost:${ports.systemHttp}`;
  await logwisp.waitForLog(new RegExp(`stream "app" .*: ${app}/stream \\(status ${app}/status\\)`));
  await logwisp.waitForLog(new RegExp(`stream "system" .*, tcp://localhost:${ports.systemTcp}$`));

  // The README's clients, as written there.
  await using curl = new ClientProcess("curl", ["-N", "-s", `${app}/stream`]);
  await using nc = new ClientProcess("nc", ["localhost", String(ports.systemTcp)]);
  const browserLike = new EventSource(`${system}/logs`);
  const connected = Promise.withResolvers<Json>();
  const messages: Json[] = [];
  browserLike.addEventListener("connected", (event) => connected.resolve(JSON.parse(event.data)));
  browserLike.addEventListener("message", (event) => messages.push(JSON.parse(event.data)));
  try {
    const { client_id, ...greeting } = await connected.promise;
    assert.match(client_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(greeting, {
      stream: "system",
      stream_path: "/logs",
      status_path: "/health",
      buffer_size: 1000,
    });
    await waitFor(async () => (await activeClients(`${app}/status`)).sse === 1);
    await waitFor(async () => {
      const clients = await activeClients(`${system}/health`);
      return clients.sse === 1 && clients.tcp === 1;
    });

    // app.log is behind both of the app stream's targets: followed once.
    await Deno.writeTextFile(join(dir.path, "myapp/app.log"), "ERROR app failed\n", {
      append: true,
    });
    await Deno.writeTextFile(join(dir.path, "myapp/worker.log"), '{"level":30,"msg":"job"}\n', {
      append: true,
    });
    await Deno.writeTextFile(join(dir.path, "syslog"), "kernel: hello\n", { append: true });
    await Deno.writeTextFile(join(dir.path, "auth.log"), "sshd: accepted\n", { append: true });

    const data = await curl.waitForLines(/^data: \{"time"/, 2);
    const entries = data.map((line) => JSON.parse(line.slice("data: ".length)));
    const bySource = Object.fromEntries(entries.map((entry) => [entry.source, entry]));
    assert.equal(bySource["app.log"].level, "ERROR");
    assert.equal(bySource["app.log"].message, "ERROR app failed");
    assert.equal(bySource["worker.log"].level, "INFO");
    assert.equal(bySource["worker.log"].message, "job");
    assert.match(curl.lines[0]!, /^retry: 3000$/);
    assert.equal(curl.lines[1], "event: connected");
    assert.ok(curl.lines.some((line) => /^id: \d+-1$/.test(line)), "ids carry the run");

    const lines = (await nc.waitForLines(/^\{/, 2)).map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((entry) => entry.message).sort(), [
      "kernel: hello",
      "sshd: accepted",
    ]);
    await waitFor(() => messages.length === 2);
    assert.deepEqual(messages.map((entry) => entry.message).sort(), [
      "kernel: hello",
      "sshd: accepted",
    ]);

    // Nothing read twice, nothing else sent.
    await Deno.writeTextFile(join(dir.path, "myapp/app.log"), "marker\n", { append: true });
    await curl.waitForLines(/"message":"marker"/, 1);
    assert.equal(curl.lines.filter((line) => line.includes("ERROR app failed")).length, 1);

    const status: Json = await getJson(`${app}/status`);
    assert.equal(status.service, "LogWisp");
    assert.equal(status.stream, "app");
    assert.deepEqual(status.server.type, "http");
    assert.equal(status.server.port, ports.app);
    assert.equal(status.server.active_clients, 1);
    assert.equal(status.tcp, undefined);
    assert.equal(status.monitor.total_entries, 3);
    assert.equal(status.monitor.dropped_entries, 0);
    const watchers = Object.fromEntries(
      status.monitor.watchers.map((watcher: Json) => [watcher.path, watcher]),
    );
    assert.equal(watchers[join(dir.path, "myapp/worker.log")].entries_read, 1);
    const health: Json = await getJson(`${system}/health`);
    assert.deepEqual(health.tcp, {
      port: ports.systemTcp,
      active_clients: 1,
      connections: 1,
      refused_connections: {},
    });
    assert.equal(health.monitor.active_watchers, 2);

    const exit = await logwisp.stop();
    assert.equal(exit.code, 0);
    await curl.waitForLines(/^event: disconnect$/, 1);
    assert.ok(curl.lines.includes('data: {"reason":"server_shutdown"}'));
    assert.ok((await curl.exited).success, "curl ends when LogWisp closes the stream");
  } finally {
    browserLike.close();
  }
});

Deno.test("router mode: one port, streams by whole path segment, global /status", async () => {
  await using dir = await tempDir("logwisp_e2e_");
  const port = freePort();
  const http = (path: string) => `
[streams.httpserver]
enabled = true
port = ${port}
stream_path = "${path}"`;
  const config = await writeConfig(
    dir.path,
    `[router]\nport = ${port}\nhost = "127.0.0.1"\n` +
      streamToml(dir.path, "app", http("/stream")) +
      streamToml(dir.path, "app2", http("/logs")),
  );
  await using logwisp = await startLogWisp(["--config", config, "--router", "--quiet"]);
  const base = `http://127.0.0.1:${port}`;
  await logwisp.waitForLog(new RegExp(`stream "app2" .*: ${base}/app2/logs`));

  await using app = await connectSse(`${base}/app/stream`);
  await using app2 = await connectSse(`${base}/app2/logs`);
  assert.equal(app.response.status, 200);
  assert.equal(app.response.headers.get("content-type"), "text/event-stream");
  for (const path of ["/app/logs", "/app2/stream", "/ap/stream", "/app/stream/x", "/stream"]) {
    assert.equal(await statusOf(`${base}${path}`), 404, path);
  }
  await waitFor(async () => (await activeClients(`${base}/app2/status`)).sse === 1);

  await appendNumbered(join(dir.path, "app.log"), "app", 0, 3);
  await appendNumbered(join(dir.path, "app2.log"), "app2", 0, 2);
  assert.deepEqual(
    (await app.events.take(3)).map((event) => JSON.parse(event.data).message),
    ["app 0", "app 1", "app 2"],
  );
  assert.deepEqual(
    (await app2.events.take(2)).map((event) => JSON.parse(event.data).message),
    ["app2 0", "app2 1"],
  );
  // Nothing of app2 reached app: its next entry is its own.
  await appendNumbered(join(dir.path, "app.log"), "app", 3, 4);
  assert.equal(JSON.parse((await app.events.take(1))[0]!.data).message, "app 3");

  const global: Json = await getJson(`${base}/status`);
  assert.equal(global.mode, "router");
  assert.equal(global.total_streams, 2);
  assert.deepEqual(Object.keys(global.streams).sort(), ["app", "app2"]);
  assert.equal(global.streams.app.monitor.total_entries, 4);
  assert.equal(global.streams.app2.monitor.total_entries, 2);
  assert.equal(global.streams.app2.server.port, port);
  assert.equal((await logwisp.stop()).code, 0);
});

Deno.test("fan-out: 50 SSE + 50 TCP clients get every entry in order; a stuck client only drops", async () => {
  await using dir = await tempDir("logwisp_e2e_");
  const [httpPort, tcpPort] = [freePort(), freePort()];
  const config = await writeConfig(
    dir.path,
    streamToml(dir.path, "app", serversToml({ httpPort, tcpPort, bufferSize: 200 })),
  );
  const log = join(dir.path, "app.log");
  await Deno.writeTextFile(log, "");
  await using _logwisp = await startLogWisp(["--config", config, "--quiet"]);
  const statusUrl = `http://127.0.0.1:${httpPort}/status`;

  await using _stuck = await stuckTcpClient(tcpPort);
  const sse = await Promise.all(
    Array.from({ length: 50 }, () => connectSse(`http://127.0.0.1:${httpPort}/stream`)),
  );
  const tcp = await Promise.all(Array.from({ length: 50 }, () => connectTcp(tcpPort)));
  try {
    await waitFor(async () => {
      const clients = await activeClients(statusUrl);
      return clients.sse === 50 && clients.tcp === 51;
    });
    // Batches of 100 lines of ~1 KiB, each read by every client before the next is written,
    // until the stuck client's queue overflows.
    const filler = "x".repeat(1000);
    let written = 0;
    const received = new Array<number>(100).fill(0);
    const check = (message: string, client: number) => {
      assert.equal(message, `${received[client]} ${filler}`, `client ${client} out of order`);
      received[client]!++;
    };
    let status: Json;
    do {
      assert.ok(written < 20_000, "the stuck client never overflowed");
      let text = "";
      for (let i = written; i < written + 100; i++) text += `${i} ${filler}\n`;
      await Deno.writeTextFile(log, text, { append: true });
      written += 100;
      await Promise.all([
        ...sse.map(async ({ events }, client) => {
          for (const event of await events.take(100)) check(JSON.parse(event.data).message, client);
        }),
        ...tcp.map(async (conn, client) => {
          for (const line of await conn.take(100)) check(JSON.parse(line).message, 50 + client);
        }),
      ]);
      status = await getJson(statusUrl);
    } while (status.monitor.dropped_entries === 0);

    assert.ok(received.every((count) => count === written));
    const droppers = status.delivery.clients.filter((client: Json) => client.dropped_entries > 0);
    assert.equal(droppers.length, 1, "only the stuck client drops");
    assert.equal(droppers[0].transport, "tcp");
    assert.equal(status.monitor.dropped_entries, droppers[0].dropped_entries);
  } finally {
    for (const client of sse) await client[Symbol.asyncDispose]();
    for (const client of tcp) client[Symbol.dispose]();
  }
});

Deno.test("resume: Last-Event-ID gets exactly the missed entries; one older than the ring a gap", async () => {
  await using dir = await tempDir("logwisp_e2e_");
  const port = freePort();
  const config = await writeConfig(
    dir.path,
    streamToml(dir.path, "app", serversToml({ httpPort: port, bufferSize: 10 })),
  );
  const log = join(dir.path, "app.log");
  await Deno.writeTextFile(log, "");
  await using _logwisp = await startLogWisp(["--config", config, "--quiet"]);
  const url = `http://127.0.0.1:${port}/stream`;
  const messages = (events: { data: string }[]) =>
    events.map((event) => JSON.parse(event.data).message);

  let lastId: string;
  let run: string;
  {
    await using first = await connectSse(url);
    await waitFor(async () => (await activeClients(`http://127.0.0.1:${port}/status`)).sse === 1);
    await appendNumbered(log, "line", 1, 4);
    const events = await first.events.take(3);
    run = events[0]!.id!.split("-")[0]!;
    assert.deepEqual(events.map((event) => event.id), [`${run}-1`, `${run}-2`, `${run}-3`]);
    lastId = events.at(-1)!.id!;
  }
  await waitFor(async () => (await activeClients(`http://127.0.0.1:${port}/status`)).sse === 0);
  await appendNumbered(log, "line", 4, 7);
  await waitFor(async () =>
    (await getJson(`http://127.0.0.1:${port}/status`) as Json)
      .delivery.last_sequence === 6
  );

  {
    await using resumed = await connectSse(url, { "Last-Event-ID": lastId });
    assert.deepEqual(messages(await resumed.events.take(3)), ["line 4", "line 5", "line 6"]);
    await appendNumbered(log, "line", 7, 8);
    const [live] = await resumed.events.take(1);
    assert.equal(live!.id, `${run}-7`);
    assert.equal(JSON.parse(live!.data).message, "line 7");
  }

  // 20 more: the ring of 10 no longer holds what followed entry 7.
  await appendNumbered(log, "line", 8, 28);
  await waitFor(async () =>
    (await getJson(`http://127.0.0.1:${port}/status`) as Json)
      .delivery.last_sequence === 27
  );
  await using late = await connectSse(`${url}?last_event_id=${run}-7`);
  const [gap] = await late.events.take(1, (event) => event.event === "gap");
  assert.deepEqual(JSON.parse(gap!.data), {
    reason: "evicted",
    from: `${run}-8`,
    to: `${run}-17`,
    missed: 10,
  });
  const rest = await late.events.take(10);
  assert.deepEqual(
    rest.map((event) => event.id),
    Array.from({ length: 10 }, (_, i) => `${run}-${18 + i}`),
  );
});

Deno.test("shutdown: exit 0 within 5 s with stuck clients; readers get disconnect", async () => {
  await using dir = await tempDir("logwisp_e2e_");
  const [httpPort, tcpPort] = [freePort(), freePort()];
  const config = await writeConfig(
    dir.path,
    streamToml(dir.path, "app", serversToml({ httpPort, tcpPort })),
  );
  const log = join(dir.path, "app.log");
  await Deno.writeTextFile(log, "");
  await using logwisp = await startLogWisp(["--config", config, "--quiet"]);
  // Two clients that never read: a TCP socket and an SSE request whose body is never read.
  await using _stuckTcp = await stuckTcpClient(tcpPort);
  const stuckSse = await fetch(`http://127.0.0.1:${httpPort}/stream`);
  await using reader = await connectSse(`http://127.0.0.1:${httpPort}/stream`);
  using tcpReader = await connectTcp(tcpPort);
  await waitFor(async () => {
    const clients = await activeClients(`http://127.0.0.1:${httpPort}/status`);
    return clients.sse === 2 && clients.tcp === 2;
  });
  // Until both stuck clients overflow: their socket buffers full, their queues too.
  const line = "y".repeat(2000);
  const statusUrl = `http://127.0.0.1:${httpPort}/status`;
  for (let batch = 0;; batch++) {
    assert.ok(batch < 100, "the stuck clients never overflowed");
    let text = "";
    for (let i = 0; i < 500; i++) text += `${batch * 500 + i} ${line}\n`;
    await Deno.writeTextFile(log, text, { append: true });
    await reader.events.take(500);
    assert.equal((await tcpReader.take(500)).length, 500);
    const status: Json = await getJson(statusUrl);
    const droppers = status.delivery.clients.filter((client: Json) => client.dropped_entries > 0);
    if (droppers.length === 2) break;
  }

  const exit = await logwisp.stop("SIGTERM");
  assert.equal(exit.code, 0);
  // Within 5 s by the clean path (stuck clients cut at the drain deadline), not the watchdog.
  assert.ok(
    !logwisp.log.some((line) => line.includes("Shutdown took over")),
    `exited after ${exit.elapsedMs} ms by the watchdog:\n${logwisp.log.join("\n")}`,
  );
  const [disconnect] = await reader.events.take(1, (event) => event.event === "disconnect");
  assert.deepEqual(JSON.parse(disconnect!.data), { reason: "server_shutdown" });
  assert.deepEqual(await tcpReader.rest(), []);
  await stuckSse.body?.cancel().catch(() => {});
  assert.ok(logwisp.log.some((line) => line.includes("Stopped")));
});

Deno.test("a port in use fails startup naming stream and port, exit 1", async () => {
  await using dir = await tempDir("logwisp_e2e_");
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const config = await writeConfig(
    dir.path,
    streamToml(
      dir.path,
      "busy",
      `
[streams.tcpserver]
enabled = true
host = "127.0.0.1"
port = ${port}`,
    ),
  );
  const { code, stderr } = await runCli(["--config", config, "--quiet"]);
  assert.equal(code, 1);
  assert.match(
    stderr,
    new RegExp(
      `stream "busy": cannot listen on tcp 127\\.0\\.0\\.1:${port}: address already in use`,
    ),
  );
  assert.ok(!stderr.includes("    at "), "no stack trace");
});

Deno.test("console statistics every stats_interval_seconds, unless --quiet", async () => {
  await using dir = await tempDir("logwisp_e2e_");
  await Deno.writeTextFile(join(dir.path, "app.log"), "");
  const config = await writeConfig(
    dir.path,
    "[console]\nstats_interval_seconds = 1\n" +
      streamToml(dir.path, "app", serversToml({ tcpPort: freePort() })),
  );
  await using logwisp = await startLogWisp(["--config", config]);
  await logwisp.waitForLog(/^\[\d\d:\d\d:\d\d\] Active streams: 1$/);
  await logwisp.waitForLog(/^ {2}app: watchers=1 entries=0 tcp_conns=0 http_conns=0$/);
  assert.equal((await logwisp.stop()).code, 0);
});
