/**
 * The WebSocket endpoint end to end (README "WebSocket"): the real CLI with Deno's
 * `WebSocket`, the npm `ws` client, and raw sockets for handshakes and a client that never
 * reads.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import NodeWebSocket from "ws";
import { tempDir, waitFor, within } from "../src/_test_utils.ts";
import {
  appendNumbered,
  ClientProcess,
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

interface Running {
  readonly dir: string;
  readonly log: string;
  readonly port: number;
  readonly logwisp: LogWisp;
}

/** LogWisp following `app.log` with an HTTP server whose table gets `http` added. */
async function withLogWisp(
  http: string,
  body: (running: Running) => Promise<void>,
  options: { router?: boolean } = {},
): Promise<void> {
  await using dir = await tempDir("logwisp_ws_");
  const port = freePort();
  const log = join(dir.path, "app.log");
  await Deno.writeTextFile(log, "");
  const config = await writeConfig(
    dir.path,
    streamToml(
      dir.path,
      "app",
      serversToml({ httpPort: port }) + http,
    ),
  );
  const args = ["--config", config, "--quiet", ...(options.router ? ["--router"] : [])];
  await using logwisp = await startLogWisp(args);
  await body({ dir: dir.path, log, port, logwisp });
}

async function status(running: Running, path = "/status"): Promise<Json> {
  return await getJson(`http://127.0.0.1:${running.port}${path}`);
}

async function waitForSeq(running: Running, seq: number, path?: string): Promise<void> {
  await waitFor(async () => (await status(running, path)).delivery.last_sequence >= seq, {
    message: `sequence ${seq}`,
  });
}

/** A Deno `WebSocket` collecting every message as JSON; disposing closes it and waits. */
class DenoClient implements AsyncDisposable {
  readonly messages: Json[] = [];
  /** Entries received, kept or not. */
  entries = 0;
  readonly socket: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;

  /** With `keep: false` only `entries` is counted: a long run does not fill the heap. */
  constructor(url: string, { keep = true } = {}) {
    this.socket = new WebSocket(url);
    this.socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "entry") this.entries++;
      if (keep) this.messages.push(message);
    };
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = () => resolve();
      this.socket.onerror = () => reject(new Error(`WebSocket ${url} failed`));
    });
    this.closed = new Promise((resolve) => this.socket.onclose = resolve);
  }

  /** Waits for `count` messages of `type`; returns them. */
  async take(type: string, count: number): Promise<Json[]> {
    const matching = () => this.messages.filter((message) => message.type === type);
    await waitFor(() => matching().length >= count, {
      message: () => `${count} "${type}" messages; got ${JSON.stringify(this.messages)}`,
    });
    return matching().slice(0, count);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.socket.close();
    await within(this.closed, 10_000, "the WebSocket to close");
  }
}

async function open(url: string, options?: { keep: boolean }): Promise<DenoClient> {
  const client = new DenoClient(url, options);
  await within(client.opened, 10_000, `WebSocket ${url} to open`);
  return client;
}

/** Sends a raw HTTP request and returns the answer: a `101` head, or a head and its body. */
async function rawRequest(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    const buffer = new Uint8Array(4096);
    for (;;) {
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        if (text.startsWith("HTTP/1.1 101")) return text;
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1] ?? 0);
        if (text.length >= end + 4 + length) return text;
      }
      const count = await conn.read(buffer);
      if (count === null) return text;
      text += new TextDecoder().decode(buffer.subarray(0, count));
    }
  } finally {
    conn.close();
  }
}

function handshake(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

Deno.test("websocket: connected first, then typed entries with ids, filtered, with tail; counted in status", async () => {
  await withLogWisp("", async (running) => {
    const url = `ws://127.0.0.1:${running.port}/ws`;
    await using all = await open(url);
    await using errors = await open(`${url}?level=ERROR&grep=disk`);
    const [connected] = await all.take("connected", 1);
    assert.equal(connected.stream, "app");
    assert.equal(connected.stream_path, "/stream");
    assert.equal(typeof connected.client_id, "string");
    assert.equal(all.messages[0].type, "connected");

    await Deno.writeTextFile(
      running.log,
      "INFO one\nERROR disk full\nERROR net down\nWARN disk slow\n",
      { append: true },
    );
    const entries = await all.take("entry", 4);
    assert.deepEqual(entries.map((m) => m.entry.message), [
      "INFO one",
      "ERROR disk full",
      "ERROR net down",
      "WARN disk slow",
    ]);
    const run = entries[0].id.split("-")[0];
    assert.deepEqual(entries.map((m) => m.id), [1, 2, 3, 4].map((n) => `${run}-${n}`));
    const [only] = await errors.take("entry", 1);
    assert.equal(only.entry.message, "ERROR disk full");

    // tail=N through the filter, then live.
    await using tailed = await open(`${url}?level=WARN&tail=2`);
    const replay = await tailed.take("entry", 2);
    assert.deepEqual(replay.map((m) => m.entry.message), ["ERROR net down", "WARN disk slow"]);

    const doc = await status(running);
    assert.equal(doc.delivery.transports.ws.active_clients, 3);
    assert.equal(doc.server.active_clients, 3);
    const described = doc.delivery.clients.map((client: Json) => client.filter).sort();
    assert.deepEqual(described, [undefined, 'level=ERROR grep="disk"', "level=WARN tail=2"].sort());
    assert.ok(doc.delivery.transports.ws.filtered_entries >= 3);
    assert.ok(doc.delivery.transports.ws.entries_sent >= 7);
  });
});

Deno.test("websocket: bad filters and bad handshakes get JSON errors; /ws can be turned off", async () => {
  await withLogWisp("", async (running) => {
    const bad = await rawRequest(running.port, handshake("/ws?level=LOUD"));
    assert.match(bad, /^HTTP\/1\.1 400 /);
    const body = JSON.parse(bad.slice(bad.indexOf("\r\n\r\n") + 4));
    assert.equal(body.parameter, "level");

    const plain = await fetch(`http://127.0.0.1:${running.port}/ws`);
    assert.equal(plain.status, 426);
    assert.equal(plain.headers.get("upgrade"), "websocket");
    assert.match((await plain.json()).error, /Not a WebSocket handshake/);

    const noKey = await rawRequest(
      running.port,
      handshake("/ws").replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
    );
    assert.match(noKey, /^HTTP\/1\.1 400 /);

    const accepted = await rawRequest(running.port, handshake("/ws"));
    assert.match(accepted, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(accepted, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
    assert.match(accepted, /\r\nconnection: Upgrade\r\n/i);
    await waitFor(async () => (await status(running)).delivery.clients.length === 0);
  });
  await withLogWisp(`ws_path = ""`, async (running) => {
    const response = await fetch(`http://127.0.0.1:${running.port}/ws`);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });
});

Deno.test("websocket: npm ws gets pings and heartbeats, resumes with last_event_id and a gap", async () => {
  await withLogWisp(
    `buffer_size = 5
[streams.httpserver.heartbeat]
enabled = true
interval_seconds = 1
include_stats = true`,
    async (running) => {
      const url = `ws://127.0.0.1:${running.port}/ws`;
      const messages: Json[] = [];
      let pings = 0;
      const client = new NodeWebSocket(url);
      const closed = new Promise<number>((resolve) => client.on("close", resolve));
      client.on("message", (data: unknown) => messages.push(JSON.parse(String(data))));
      client.on("ping", () => pings++);
      try {
        await waitFor(() => pings >= 2 && messages.some((m) => m.type === "heartbeat"), {
          message: () => `pings ${pings}, messages ${JSON.stringify(messages)}`,
        });
        const heartbeat = messages.find((m) => m.type === "heartbeat");
        assert.equal(heartbeat.active_clients, 1);
        assert.equal(typeof heartbeat.timestamp, "string");
        await appendNumbered(running.log, "line", 1, 4);
        await waitFor(() => messages.filter((m) => m.type === "entry").length === 3);
      } finally {
        client.close();
        assert.equal(await within(closed, 10_000, "ws to close"), 1005);
      }
      const last = messages.filter((m) => m.type === "entry").at(-1).id;
      const run = last.split("-")[0];

      // Missed 3 while away, all still in the ring of 5.
      await appendNumbered(running.log, "line", 4, 7);
      await waitForSeq(running, 6);
      {
        await using resumed = await open(`${url}?last_event_id=${last}&tail=1`);
        const replay = await resumed.take("entry", 3);
        assert.deepEqual(replay.map((m) => m.entry.message), ["line 4", "line 5", "line 6"]);
        assert.equal(resumed.messages.filter((m) => m.type === "gap").length, 0);
      }
      // 10 more: the ring of 5 lost what followed 6; the gap message comes before them.
      await appendNumbered(running.log, "line", 7, 17);
      await waitForSeq(running, 16);
      await using late = await open(`${url}?last_event_id=${run}-6&grep=line%201`);
      const [gap] = await late.take("gap", 1);
      assert.deepEqual(gap, {
        type: "gap",
        reason: "evicted",
        from: `${run}-7`,
        to: `${run}-11`,
        missed: 5,
      });
      const replay = await late.take("entry", 5);
      assert.deepEqual(replay.map((m) => m.entry.message), [
        "line 12",
        "line 13",
        "line 14",
        "line 15",
        "line 16",
      ]);
      assert.deepEqual(late.messages.map((m) => m.type).slice(0, 2), ["connected", "gap"]);
    },
  );
});

Deno.test("websocket: a client that does not read is evicted; memory stays bounded", async () => {
  await withLogWisp(
    "buffer_bytes = 1048576\nslow_client_timeout_seconds = 5",
    async (running) => {
      // The reader counts what it gets without keeping it: 256 MiB of parsed entries in this
      // process would slow it until it could not keep up.
      await using reader = await open(`ws://127.0.0.1:${running.port}/ws`, { keep: false });
      await using stuck = new ClientProcess("python3", [
        "-c",
        "import socket,time\n" +
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n" +
        `s.connect(("127.0.0.1", ${running.port}))\n` +
        `s.sendall(${JSON.stringify(handshake("/ws"))}.encode())\n` +
        "print(s.recv(12).decode(), flush=True); time.sleep(120)",
      ]);
      await stuck.waitForLines(/^HTTP\/1\.1 1/, 1);
      await waitFor(async () => (await status(running)).delivery.clients.length === 2);
      const rss = async () => {
        const text = await Deno.readTextFile(`/proc/${running.logwisp.pid}/status`);
        return Number(/VmRSS:\s+(\d+)/.exec(text)![1]) * 1024;
      };
      const before = await rss();
      const line = `INFO ${"x".repeat(1000)}\n`;
      // Bursts well under buffer_bytes, each written once the reader has the last one: the
      // reader keeps up by construction, and the stuck client falls behind by every burst.
      const burst = 256;
      let written = 0;
      let stuckQueued = 0;
      const target = 256 * 2 ** 20;
      await waitFor(async () => {
        await Deno.writeTextFile(running.log, line.repeat(burst), { append: true });
        written += burst;
        await waitFor(() => reader.entries === written, {
          timeoutMs: 30_000,
          intervalMs: 1,
          message: () => `reader got ${reader.entries} of ${written}`,
        });
        if (written % (burst * 16) !== 0) return false;
        const doc = await status(running);
        for (const client of doc.delivery.clients) {
          stuckQueued = Math.max(stuckQueued, client.queued_bytes);
        }
        return doc.delivery.transports.ws.slow_clients_disconnected === 1 &&
          written * line.length > target;
      }, { timeoutMs: 120_000, intervalMs: 0, message: "the stuck client to be evicted" });
      const after = await rss();
      const doc = await status(running);
      assert.equal(doc.delivery.transports.ws.active_clients, 1);
      assert.ok(doc.delivery.transports.ws.dropped_entries > 0);
      // The reading client keeps up and drops nothing it was offered.
      const [client] = doc.delivery.clients;
      assert.equal(client.dropped_entries, 0);
      assert.equal(client.sent_entries, written);
      // deno-lint-ignore no-console
      console.log(
        `RSS ${(before / 2 ** 20).toFixed(0)} MiB before, ${(after / 2 ** 20).toFixed(0)} MiB ` +
          `after ${
            ((written * line.length) / 2 ** 20).toFixed(0)
          } MiB written past a client that does not read`,
      );
      // What a client's queue holds is bounded by buffer_bytes; what LogWisp holds for a
      // client that does not read would otherwise grow with every byte written past it.
      assert.ok(stuckQueued <= 1048576 + 4096, `a queue held ${stuckQueued} bytes`);
      assert.ok(after - before < target * 0.75, `RSS grew by ${after - before} bytes`);
    },
  );
});

Deno.test("websocket: router mode /app/ws; shutdown sends disconnect, then close 1001", async () => {
  await withLogWisp("", async (running) => {
    const client = new DenoClient(`ws://127.0.0.1:${running.port}/app/ws?grep=two`);
    await within(client.opened, 10_000, "the WebSocket to open");
    const [connected] = await client.take("connected", 1);
    assert.equal(connected.stream_path, "/app/stream");
    await Deno.writeTextFile(running.log, "one\ntwo\n", { append: true });
    const [entry] = await client.take("entry", 1);
    assert.equal(entry.entry.message, "two");
    const routerStatus = await status(running);
    assert.equal(routerStatus.streams.app.delivery.transports.ws.active_clients, 1);

    const exit = await running.logwisp.stop();
    assert.equal(exit.code, 0);
    const closed = await within(client.closed, 10_000, "the close");
    assert.equal(closed.code, 1001);
    assert.deepEqual(client.messages.at(-1), { type: "disconnect", reason: "server_shutdown" });
  }, { router: true });
});
