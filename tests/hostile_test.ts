/**
 * Hostile input against the real CLI: what a log file's content, a file-system change or a
 * network client can do must never crash LogWisp, freeze a stream or grow its memory without
 * bound. Each test names the attack; the README's "Security" and "Troubleshooting" sections
 * state the limits these tests hold LogWisp to.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { append, tempDir, waitFor, which, within } from "../src/_test_utils.ts";
import { runCli } from "./_cli.ts";
import {
  ClientProcess,
  connectSse,
  connectTcp,
  freePort,
  getJson,
  type LogWisp,
  startLogWisp,
  writeConfig,
} from "./_logwisp.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const encoder = new TextEncoder();

/** A stream following `files` (or a directory with `pattern`), with HTTP and TCP servers. */
function config(
  target: { file: string } | { dir: string; pattern: string },
  ports: { http: number; tcp?: number },
  extra: { monitor?: string; http?: string } = {},
): string {
  const targets = "file" in target
    ? `{ path = ${JSON.stringify(target.file)}, is_file = true }`
    : `{ path = ${JSON.stringify(target.dir)}, pattern = ${JSON.stringify(target.pattern)} }`;
  return `[[streams]]
name = "app"
[streams.monitor]
check_interval_ms = 50
targets = [${targets}]
${extra.monitor ?? ""}
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${ports.http}
${extra.http ?? ""}
${
    ports.tcp === undefined
      ? ""
      : `[streams.tcpserver]\nenabled = true\nhost = "127.0.0.1"\nport = ${ports.tcp}\n`
  }`;
}

/** Lines LogWisp logged as errors: none may come from what a client or a file did. */
function errorLines(logwisp: LogWisp): string[] {
  return logwisp.log.filter((line) => / ERROR /.test(line));
}

/** Sends raw bytes on a new connection; resolves what came back before the server closed it. */
async function rawHttp(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(request));
    let text = "";
    const buffer = new Uint8Array(65536);
    for (;;) {
      const count = await within(conn.read(buffer), 10_000, "an answer").catch(() => null);
      if (count === null) return text;
      text += new TextDecoder().decode(buffer.subarray(0, count));
    }
  } finally {
    conn.close();
  }
}

/** A temp dir with `app.log` holding `content`, and a free port for the server that follows it. */
async function followedFile(
  content = "",
): Promise<{ path: string; log: string; port: number } & AsyncDisposable> {
  const dir = await tempDir("logwisp_hostile_");
  const log = join(dir.path, "app.log");
  await Deno.writeTextFile(log, content);
  return { ...dir, log, port: freePort() };
}

Deno.test("a JSON line nested thousands deep, huge numbers and binary garbage become entries", async () => {
  await using dir = await tempDir("logwisp_hostile_");
  const log = join(dir.path, "app.log");
  const deep = '{"a":'.repeat(6000) + "1" + "}".repeat(6000);
  const deepArray = '{"msg":' + "[".repeat(100_000) + "]".repeat(100_000) + "}";
  const lines = [
    deep,
    deepArray,
    '{"msg":"huge","n":1e400,"m":-1e400,"big":123456789012345678901234567890}',
    "NUL \0 bytes \0 and \x1b[31mERROR\x1b[0m in colour",
    "last line",
  ];
  await Deno.writeFile(
    log,
    new Uint8Array([
      ...encoder.encode(lines.join("\n") + "\n"),
      0xff,
      0xfe,
      0x80,
      10,
      ...encoder.encode("after garbage\n"),
    ]),
  );
  const port = freePort();
  const file = await writeConfig(
    dir.path,
    config({ file: log }, { http: port }, { monitor: 'read_from = "beginning"' }),
  );
  // Twice: a line that killed LogWisp would kill it again on every restart.
  for (let run = 0; run < 2; run++) {
    await using logwisp = await startLogWisp(["--config", file, "--quiet"]);
    await using sse = await connectSse(`http://127.0.0.1:${port}/stream?last_event_id=0`);
    const entries = (await sse.events.take(7)).map((event) => JSON.parse(event.data));
    assert.equal(entries[0].message, deep);
    assert.deepEqual(entries[0].fields, {
      json_error: "nested deeper than 64 levels: kept as text",
    });
    assert.equal(entries[1].message, deepArray);
    assert.equal(entries[2].message, "huge");
    assert.equal(entries[2].fields.n, null, "infinity is not JSON: null, not a crash");
    assert.equal(entries[3].message, "NUL \0 bytes \0 and \x1b[31mERROR\x1b[0m in colour");
    assert.equal(entries[5].message, "\ufffd\ufffd\ufffd");
    assert.equal(entries[6].message, "after garbage");
    const status = await getJson(`http://127.0.0.1:${port}/status`) as Json;
    assert.equal(status.monitor.total_entries, 7);
    assert.deepEqual(errorLines(logwisp), []);
    assert.equal((await logwisp.stop()).code, 0);
  }
});

Deno.test("a followed path swapped with a FIFO again and again never freezes the stream", async () => {
  await using dir = await tempDir("logwisp_hostile_");
  const port = freePort();
  const file = await writeConfig(
    dir.path,
    config({ dir: dir.path, pattern: "*.log" }, { http: port }),
  );
  const ok = join(dir.path, "ok.log");
  const swapped = join(dir.path, "swap.log");
  await Deno.writeTextFile(ok, "");
  await Deno.writeTextFile(swapped, "");
  await using logwisp = await startLogWisp(["--config", file, "--quiet"]);
  await using sse = await connectSse(`http://127.0.0.1:${port}/stream`);
  await sse.events.next();
  const fifo = join(dir.path, "fifo");
  const plain = join(dir.path, "plain");
  for (let i = 0; i < 30; i++) {
    // A FIFO with no writer: opening it for reading would block until one comes.
    await new Deno.Command("mkfifo", { args: [fifo] }).output();
    await Deno.rename(fifo, swapped);
    await append(ok, `still here ${i}\n`);
    const [event] = await sse.events.take(1, (event) => event.data.includes("still here"));
    assert.equal(JSON.parse(event!.data).message, `still here ${i}`);
    await Deno.writeTextFile(plain, "");
    await Deno.rename(plain, swapped);
  }
  const exit = await logwisp.stop();
  assert.equal(exit.code, 0);
  assert.ok(!logwisp.log.some((line) => /Shutdown took over/.test(line)), "no watchdog exit");
});

Deno.test({
  name: "running out of file descriptors is survived: refused while exhausted, served after",
  ignore: which("python3") === undefined,
  fn: async () => {
    await using dir = await tempDir("logwisp_hostile_");
    const log = join(dir.path, "app.log");
    await Deno.writeTextFile(log, "");
    const [http, tcp] = [freePort(), freePort()];
    const file = await writeConfig(dir.path, config({ file: log }, { http, tcp }));
    await using logwisp = await startLogWisp(["--config", file, "--quiet"], { maxOpenFiles: 128 });
    // Far more sockets than descriptors, on both ports, held for a while.
    const flood = new ClientProcess("python3", [
      "-c",
      "import socket,sys,time\n" +
      "socks=[]\n" +
      `for port in (${http}, ${tcp}):\n` +
      "  for i in range(300):\n" +
      "    try:\n" +
      "      s=socket.create_connection(('127.0.0.1', port), timeout=2); socks.append(s)\n" +
      "    except Exception: pass\n" +
      "print('opened', len(socks), flush=True)\n" +
      "sys.stdin.readline()\n",
    ]);
    try {
      await flood.waitForLines(/^opened \d+$/, 1, 30_000);
      await logwisp.waitForLog(/cannot accept connections: out of file descriptors/, 15_000);
    } finally {
      await flood[Symbol.asyncDispose]();
    }
    // Descriptors free again: a normal client of each kind is served.
    await waitFor(async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${http}/status`);
        await response.body?.cancel();
        return response.status === 200;
      } catch {
        return false;
      }
    }, { timeoutMs: 15_000, intervalMs: 100 });
    const again = await logwisp.waitForLog(/accepting connections again after \d+\.\d s/);
    // deno-lint-ignore no-console
    console.log(`600 sockets against ulimit -n 128: ${again.replace(/^.*?: /, "")}`);
    using client = await connectTcp(tcp);
    await waitFor(async () =>
      ((await getJson(`http://127.0.0.1:${http}/status`)) as Json).tcp.active_clients === 1
    );
    await append(log, "served after the flood\n");
    assert.equal(JSON.parse((await client.take(1))[0]!).message, "served after the flood");
    const exhausted = logwisp.log.filter((line) => /out of file descriptors/.test(line));
    assert.ok(exhausted.length <= 4, `logged once per burst and listener: ${exhausted.join("\n")}`);
    assert.equal((await logwisp.stop()).code, 0);
  },
});

Deno.test("a client that never completes its request headers is closed after header_timeout_seconds", async () => {
  await using dir = await followedFile();
  const { log, port } = dir;
  const file = await writeConfig(
    dir.path,
    config({ file: log }, { http: port }, { http: "header_timeout_seconds = 2" }),
  );
  await using _logwisp = await startLogWisp(["--config", file, "--quiet"]);
  const idle = await Deno.connect({ hostname: "127.0.0.1", port });
  const slow = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const started = Date.now();
    let dribbling = true;
    const dribble = (async () => {
      for (const char of "GET /stream HTTP/1.1\r\nHost: a\r\nX: " + "y".repeat(100)) {
        if (!dribbling) return;
        await slow.write(encoder.encode(char)).catch(() => dribbling = false);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    // Meanwhile others are served.
    const served = await fetch(`http://127.0.0.1:${port}/status`);
    await served.body?.cancel();
    assert.equal(served.status, 200);
    for (const conn of [idle, slow]) {
      const buffer = new Uint8Array(512);
      const count = await within(conn.read(buffer), 10_000, "the server to close the client");
      const answer = count === null ? "" : new TextDecoder().decode(buffer.subarray(0, count));
      assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    }
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds >= 1.9 && seconds < 8, `closed after ${seconds} s`);
    dribbling = false;
    await dribble;
  } finally {
    idle.close();
    slow.close();
  }
});

Deno.test("the Host header never picks the endpoint; a malformed one is 400 without an ERROR line", async () => {
  await using dir = await followedFile();
  const { log, port } = dir;
  const file = await writeConfig(dir.path, config({ file: log }, { http: port }));
  await using logwisp = await startLogWisp(["--config", file, "--quiet"]);
  const status = (text: string) => text.split("\r\n")[0];
  for (let i = 0; i < 50; i++) {
    for (const host of ["x/status#", "%zz", "[::", "a b", "x/stream?"]) {
      const answer = await rawHttp(port, `GET /stream HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert.equal(status(answer), "HTTP/1.1 400 Bad Request", host);
    }
  }
  const odd = await rawHttp(
    port,
    "GET /status HTTP/1.1\r\nHost: stream.example\r\nConnection: close\r\n\r\n",
  );
  assert.match(odd, /"stream":"app"/, "a valid but foreign Host is ignored: the path decides");
  const absolute = await rawHttp(
    port,
    "GET http://other/status HTTP/1.1\r\nHost: elsewhere\r\nConnection: close\r\n\r\n",
  );
  assert.match(absolute, /"stream":"app"/);
  assert.deepEqual(errorLines(logwisp), [], "no log line per bad request");
});

Deno.test("file names with line breaks and escape sequences are printed escaped", async () => {
  await using dir = await tempDir("logwisp_hostile_");
  const forged = join(dir.path, "evil\n[12:00:00] ERROR forged line\x1b[2J\x1b[31m.log");
  await new Deno.Command("mkfifo", { args: [forged] }).output();
  const missingDir = join(dir.path, "gone\r\n\x1b]0;title\x07");
  const port = freePort();
  const file = await writeConfig(
    dir.path,
    `[[streams]]
name = "app"
[streams.monitor]
check_interval_ms = 50
targets = [
  { path = ${JSON.stringify(forged)}, is_file = true },
  { path = ${JSON.stringify(missingDir)}, pattern = "*" },
]
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${port}
`,
  );
  await using logwisp = await startLogWisp(["--config", file, "--quiet"]);
  await logwisp.waitForLog(/it is a FIFO, not a regular file/);
  await logwisp.waitForLog(/does not exist \(yet\)/);
  assert.ok(
    !logwisp.log.some((line) => line.startsWith("[12:00:00] ERROR forged")),
    "no forged line",
  );
  for (const line of logwisp.log) {
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(line, /[\x00-\x08\x0b-\x1f\x7f]/, `raw control characters in ${line}`);
  }
  const fifoLine = logwisp.log.find((line) => line.includes("FIFO"))!;
  assert.ok(fifoLine.includes("evil\\n[12:00:00] ERROR forged line\\u001b[2J\\u001b[31m.log"));
});

/** Resident memory of a process, as `ps` reports it (reading /proc needs --allow-all). */
async function rssBytes(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] })
    .output();
  return Number(new TextDecoder().decode(stdout).trim()) * 1024;
}

/** Clients that send a request for the stream and never read a byte of the answer. */
function stuckSseClients(port: number, count: number): ClientProcess {
  return new ClientProcess("python3", [
    "-c",
    "import socket,sys\n" +
    "socks=[]\n" +
    `for i in range(${count}):\n` +
    "  s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n" +
    `  s.connect(('127.0.0.1', ${port}))\n` +
    "  s.sendall(b'GET /stream HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'); socks.append(s)\n" +
    "print('stuck', flush=True)\n" +
    "sys.stdin.readline()\n",
  ]);
}

/** Resident memory bound with 10 non-reading clients on 50 kB lines (README, Troubleshooting). */
const STUCK_CLIENTS_RSS_BOUND = 250 * 1024 * 1024;

Deno.test({
  name: "ten clients that never read, on 50 kB lines, cost bounded memory",
  ignore: which("python3") === undefined || which("ps") === undefined,
  fn: async () => {
    await using dir = await followedFile();
    const { log, port } = dir;
    const file = await writeConfig(dir.path, config({ file: log }, { http: port }));
    await using logwisp = await startLogWisp(["--config", file, "--quiet"]);
    const baseline = await rssBytes(logwisp.pid);
    await using stuck = stuckSseClients(port, 10);
    await stuck.waitForLines(/^stuck$/, 1);
    await waitFor(async () =>
      ((await getJson(`http://127.0.0.1:${port}/status`)) as Json).server.active_clients === 10
    );
    const line = "x".repeat(50_000);
    let peak = baseline;
    const until = Date.now() + 8000;
    let written = 0;
    while (Date.now() < until) {
      await append(log, `${written++} ${line}\n`.repeat(20));
      peak = Math.max(peak, await rssBytes(logwisp.pid));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const status = await getJson(`http://127.0.0.1:${port}/status`) as Json;
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    // deno-lint-ignore no-console
    console.log(
      `10 non-reading SSE clients, ${written * 20} lines of 50 kB in 8 s: RSS ${
        mib(baseline)
      } MiB ` +
        `before, ${mib(peak)} MiB at most; ${status.monitor.dropped_entries} entries dropped`,
    );
    assert.ok(status.monitor.dropped_entries > 0, "the stuck clients drop");
    for (const client of status.delivery.clients) {
      assert.ok(client.queued_bytes <= 8 * 1024 * 1024 + 100_000, `queue ${client.queued_bytes} B`);
    }
    assert.ok(peak < STUCK_CLIENTS_RSS_BOUND, `RSS ${mib(peak)} MiB`);
  },
});

Deno.test({
  name:
    "a client stuck for slow_client_timeout_seconds is disconnected, counted, and its socket closed",
  ignore: which("python3") === undefined,
  fn: async () => {
    await using dir = await followedFile();
    const { log, port } = dir;
    const file = await writeConfig(
      dir.path,
      config({ file: log }, { http: port }, {
        // Room for the two stuck clients and one status request.
        http: "buffer_size = 10\nslow_client_timeout_seconds = 2\nmax_connections = 3",
      }),
    );
    await using _logwisp = await startLogWisp(["--config", file, "--quiet"]);
    await using stuck = stuckSseClients(port, 2);
    await stuck.waitForLines(/^stuck$/, 1);
    const url = `http://127.0.0.1:${port}/status`;
    await waitFor(async () => ((await getJson(url)) as Json).server.active_clients === 2);
    const started = Date.now();
    await append(log, `${"y".repeat(100_000)}\n`.repeat(200));
    await waitFor(
      async () => ((await getJson(url)) as Json).delivery.slow_clients_disconnected === 2,
      {
        timeoutMs: 15_000,
      },
    );
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds >= 1.5, `evicted after ${seconds} s, not before the timeout`);
    assert.equal(((await getJson(url)) as Json).server.active_clients, 0);
    // Their sockets are closed too, not only left out of status: their slots are free.
    await using first = await connectSse(`http://127.0.0.1:${port}/stream`);
    await using second = await connectSse(`http://127.0.0.1:${port}/stream`);
    assert.deepEqual([first.response.status, second.response.status], [200, 200]);
    assert.equal(((await getJson(url)) as Json).server.active_clients, 2);
  },
});

Deno.test("resuming with an id of an earlier run gets a gap, never a silent skip", async () => {
  await using dir = await followedFile();
  const { log, port } = dir;
  const file = await writeConfig(dir.path, config({ file: log }, { http: port }));
  const url = `http://127.0.0.1:${port}/stream`;
  let lastId: string;
  {
    await using logwisp = await startLogWisp(["--config", file, "--quiet"]);
    await using sse = await connectSse(url);
    await sse.events.next();
    await append(log, "one\ntwo\nthree\n");
    const events = await sse.events.take(3);
    lastId = events[2]!.id!;
    assert.match(lastId, /^\d+-3$/);
    assert.equal((await logwisp.stop()).code, 0);
  }
  await using logwisp = await startLogWisp(["--config", file, "--quiet"]);
  await append(log, "four\n");
  await waitFor(async () =>
    ((await getJson(`http://127.0.0.1:${port}/status`)) as Json).delivery.last_sequence === 1
  );
  await using resumed = await connectSse(url, { "Last-Event-ID": lastId });
  assert.equal((await resumed.events.next())?.event, "connected");
  const gap = await resumed.events.next();
  assert.equal(gap?.event, "gap");
  assert.deepEqual(JSON.parse(gap!.data), { reason: "restart", missed: 0, last_event_id: lastId });
  const [four] = await resumed.events.take(1);
  assert.equal(JSON.parse(four!.data).message, "four", "the new run's entries from its first");
  assert.notEqual(four!.id!.split("-")[0], lastId.split("-")[0], "ids of the new run");
  assert.equal((await logwisp.stop()).code, 0);
});

Deno.test("touch -d on an unchanged file replays nothing", async () => {
  await using dir = await followedFile("old one\nold two\n");
  const { log, port } = dir;
  const file = await writeConfig(dir.path, config({ file: log }, { http: port }));
  await using _logwisp = await startLogWisp(["--config", file, "--quiet"]);
  await using sse = await connectSse(`http://127.0.0.1:${port}/stream`);
  await sse.events.next();
  await append(log, "new\n");
  assert.equal(JSON.parse((await sse.events.take(1))[0]!.data).message, "new");
  await new Deno.Command("touch", { args: ["-d", "2001-01-01", log] }).output();
  // Wait for a check to have seen the touch: the poll runs every 50 ms.
  await waitFor(async () => {
    const status = await getJson(`http://127.0.0.1:${port}/status`) as Json;
    return Date.now() - Date.parse(status.monitor.watchers[0].last_read) > 300;
  }, { intervalMs: 100 });
  await append(log, "marker\n");
  const [next] = await sse.events.take(1);
  assert.equal(JSON.parse(next!.data).message, "marker", "nothing replayed before the marker");
  const status = await getJson(`http://127.0.0.1:${port}/status`) as Json;
  assert.equal(status.monitor.rotations, 0);
});

Deno.test("status answers while 5,000 files are first scanned, never 500", async () => {
  await using dir = await tempDir("logwisp_hostile_");
  const logs = join(dir.path, "logs");
  await Deno.mkdir(logs);
  await Promise.all(
    Array.from({ length: 5000 }, (_, i) => Deno.writeTextFile(join(logs, `f${i}.log`), "line\n")),
  );
  const port = freePort();
  const file = await writeConfig(dir.path, config({ dir: logs, pattern: "*.log" }, { http: port }));
  await using logwisp = await startLogWisp(["--config", file, "--quiet"], { ready: false });
  const seen = new Map<string, number>();
  await waitFor(async () => {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/status`);
      const body = await response.json();
      const key = `${response.status} ${body.state}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      return body.state === "running";
    } catch (error) {
      // Before the port is bound: refused, which is not an answer.
      if (!(error instanceof TypeError)) throw error;
      return false;
    }
  }, { timeoutMs: 60_000, intervalMs: 5 });
  // deno-lint-ignore no-console
  console.log(
    `status during the first scan of 5,000 files: ${JSON.stringify(Object.fromEntries(seen))}`,
  );
  for (const key of seen.keys()) assert.match(key, /^200 (starting|running)$/);
  await logwisp.waitForLog(/ ready \(configuration: /);
});

Deno.test("a symbolic link in a followed directory cannot lead outside --allow-read", async () => {
  await using dir = await tempDir("logwisp_hostile_");
  const logs = join(dir.path, "logs");
  const secret = join(dir.path, "secret.txt");
  await Deno.mkdir(logs);
  await Deno.writeTextFile(secret, "TOPSECRET 1\n");
  await Deno.writeTextFile(join(logs, "real.txt"), "");
  await Deno.writeTextFile(join(logs, "app.log"), "");
  await Deno.symlink(secret, join(logs, "evil.log"));
  await Deno.symlink(join(logs, "real.txt"), join(logs, "inside.log"));
  // The operator's own link to the directory (a volume; /var is one on macOS) is no escape.
  const view = join(dir.path, "view");
  await Deno.symlink(logs, view);
  const port = freePort();
  const file = await writeConfig(
    dir.path,
    config({ dir: view, pattern: "*.log" }, { http: port }, { monitor: 'read_from = "beginning"' }),
  );
  const permissions = [`--allow-read=${view},${file}`, "--allow-net"];
  const check = await runCli(["--check", "--config", file], { permissions });
  assert.equal(check.code, 0, check.stderr);
  assert.match(
    check.stdout,
    /1 link\(s\) matching "\*\.log" lead outside the read permission \(--allow-read\)/,
  );
  await using logwisp = await startLogWisp(["--config", file, "--quiet"], { permissions });
  await logwisp.waitForLog(/evil\.log.*it leads to ".*secret\.txt", outside the read permission/);
  await using sse = await connectSse(`http://127.0.0.1:${port}/stream`);
  await sse.events.next();
  // A link within the permission is followed, as tail -F follows it.
  await append(join(logs, "real.txt"), "inside\n");
  await append(join(logs, "app.log"), "app line\n");
  await append(secret, "TOPSECRET 2\n");
  // The followed file swapped for a link to the secret, as a rotation would swap it.
  await Deno.rename(join(logs, "app.log"), join(logs, "app.log.1"));
  await Deno.symlink(secret, join(logs, "app.log"));
  await logwisp.waitForLog(/app\.log.*it leads to ".*secret\.txt", outside the read permission/);
  await append(secret, "TOPSECRET 3\n");
  await Deno.writeTextFile(join(logs, "marker.log"), "marker\n");
  // Files are read in no particular order: collect until each expected line is there.
  const messages: string[] = [];
  await within(
    (async () => {
      while (!["app line", "inside", "marker"].every((line) => messages.includes(line))) {
        const [event] = await sse.events.take(1);
        messages.push(JSON.parse(event!.data).message);
      }
    })(),
    15_000,
    "the lines of the files within the permission",
  );
  assert.deepEqual(
    messages.filter((message) => !message.startsWith("Log rotation detected")).toSorted(),
    ["app line", "inside", "marker"],
  );
  assert.deepEqual(
    errorLines(logwisp).filter((line) => !/outside the read permission/.test(line)),
    [],
  );
});
