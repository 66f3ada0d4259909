import assert from "node:assert/strict";
import { httpServerConfig, SseReader, testHub, waitFor, within } from "../_test_utils.ts";
import type { ListenerLimits } from "../config/types.ts";
import type { LogLevel } from "../log.ts";
import { type HttpHandler, serveHttp } from "./http_server.ts";
import { sseCodec } from "./sse.ts";
import { streamHandler } from "./stream_handler.ts";

const CONFIG = httpServerConfig({ port: 0, bufferSize: 100 });
const LIMITS: ListenerLimits = {
  maxConnections: 100,
  maxConnectionsPerIp: 100,
  headerTimeoutSeconds: 5,
};
const encoder = new TextEncoder();

function start(
  options: { drainMs?: number; limits?: Partial<ListenerLimits>; handler?: HttpHandler } = {},
) {
  const hub = testHub(CONFIG.bufferSize);
  const shutdown = new AbortController();
  const sse = sseCodec(
    { stream: "app", streamPath: "/stream", statusPath: "/status", bufferSize: 100 },
    CONFIG.heartbeat,
  );
  const logs: [LogLevel, string][] = [];
  const handler = options.handler ?? streamHandler({
    hub,
    stream: "app",
    config: CONFIG,
    sse,
    prefix: "",
    shutdown: shutdown.signal,
    status: () => ({ clients: hub.clientCount() }),
  });
  const server = serveHttp({
    label: "test",
    host: "127.0.0.1",
    port: 0,
    limits: { ...LIMITS, ...options.limits },
    handler,
    writeTimeoutMs: 5000,
    log: (level, message) => logs.push([level, message]),
    shutdown: shutdown.signal,
    drainMs: options.drainMs ?? 2000,
  });
  return {
    hub,
    sse,
    shutdown,
    server,
    logs,
    url: `http://127.0.0.1:${server.port}`,
    async [Symbol.asyncDispose]() {
      shutdown.abort();
      hub.farewell(sse, "server_shutdown");
      await within(server.finished, 10_000, "the server to finish");
    },
  };
}

/** Sends `text` on a new connection and reads until the server closes it (or `until` matches). */
async function raw(port: number, text: string, until?: RegExp): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(text));
    let received = "";
    const buffer = new Uint8Array(65536);
    const decoder = new TextDecoder();
    for (;;) {
      const count = await within(
        conn.read(buffer),
        10_000,
        () => `an answer to ${JSON.stringify(text)}`,
      )
        .catch(() => null);
      if (count === null) return received;
      received += decoder.decode(buffer.subarray(0, count), { stream: true });
      if (until?.test(received)) return received;
    }
  } finally {
    conn.close();
  }
}

const statusLine = (response: string) => response.split("\r\n")[0];

Deno.test("serveHttp at shutdown delivers the disconnect event before closing", async () => {
  const { hub, sse: codec, shutdown, server, url } = start();
  const response = await fetch(`${url}/stream`);
  const sse = new SseReader(response.body!);
  assert.equal((await sse.next())?.event, "connected");
  await waitFor(() => hub.clientCount() === 1);
  shutdown.abort();
  hub.farewell(codec, "server_shutdown");
  assert.equal((await sse.next())?.event, "disconnect");
  assert.equal(await sse.next(), null);
  await within(server.finished, 10_000, "the server to finish");
});

Deno.test("serveHttp cuts a client that never reads once the drain deadline passes", async () => {
  const { hub, shutdown, server } = start({ drainMs: 200 });
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await stuck.write(encoder.encode("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    await waitFor(() => hub.clientCount() === 1);
    const line = { time: "t", source: "a.log", message: "x".repeat(4000) };
    for (let i = 0; i < 2000; i++) hub.publish(line);
    await waitFor(() => [...hub.clients][0]!.queue.dropped > 0);
    shutdown.abort();
    // Bounded by the drain deadline (200 ms), not by the client: a wait for it fails.
    await within(server.finished, 10_000, "the server to cut the client that does not read");
  } finally {
    stuck.close();
  }
});

Deno.test("serveHttp throws at once when the port is in use", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  assert.throws(
    () =>
      serveHttp({
        label: "test",
        host: "127.0.0.1",
        port: (taken.addr as Deno.NetAddr).port,
        limits: LIMITS,
        handler: () => new Response(),
        writeTimeoutMs: 1000,
        shutdown: new AbortController().signal,
        drainMs: 100,
        log: () => {},
      }),
    Deno.errors.AddrInUse,
  );
});

Deno.test("serveHttp keeps a connection alive for the next request, pipelined or not", async () => {
  await using server = start();
  const port = server.server.port;
  const twice = await raw(
    port,
    "GET /status HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  const answers = twice.split(/(?=HTTP\/1\.1 )/);
  assert.deepEqual(answers.map(statusLine), ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"]);
  assert.match(answers[0]!, /\r\ncontent-length: 13\r\n/);
  assert.match(answers[0]!, /\{"clients":0\}$/);
  assert.match(answers[1]!, /\r\nconnection: close\r\n/);
  const old = await raw(port, "GET /status HTTP/1.0\r\n\r\n");
  assert.equal(statusLine(old), "HTTP/1.0 200 OK", "HTTP/1.0 without Host, closed after");
});

Deno.test("serveHttp routes by path only: the Host header never picks the endpoint", async () => {
  await using server = start();
  const port = server.server.port;
  // The tricks that used to pick the other endpoint are malformed hosts: refused.
  for (const [path, host] of [["/stream", "x/status#"], ["/status", "x/stream?"]]) {
    const answer = await raw(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    assert.equal(statusLine(answer), "HTTP/1.1 400 Bad Request");
  }
  const stream = await raw(
    port,
    "GET /stream HTTP/1.1\r\nHost: status:80\r\n\r\n",
    /event: connected/,
  );
  assert.match(stream, /content-type: text\/event-stream/);
  const status = await raw(
    port,
    "GET /status HTTP/1.1\r\nHost: stream\r\nConnection: close\r\n\r\n",
  );
  assert.match(status, /\{"clients":\d\}$/);
  const absolute = await raw(
    port,
    "GET http://stream.example/status HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  assert.match(absolute, /\{"clients":\d\}$/, "absolute-form: its path is what counts");
});

Deno.test("serveHttp answers malformed requests with 400 (TRACE and CONNECT 405) and logs nothing", async () => {
  await using server = start();
  const port = server.server.port;
  for (
    const request of [
      "GET /status HTTP/1.1\r\nHost: %zz\r\n\r\n",
      "GET /status HTTP/1.1\r\nHost: [::\r\n\r\n",
      "GET /status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET /status HTTP/1.1\r\n\r\n",
      "GET /status HTTP/1.1\r\nHost: a\r\n bad: fold\r\n\r\n",
      "GET /status HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n",
      "NOT A REQUEST\r\n\r\n",
      "GET status HTTP/1.1\r\nHost: a\r\n\r\n",
    ]
  ) {
    assert.equal(
      statusLine(await raw(port, request)),
      "HTTP/1.1 400 Bad Request",
      JSON.stringify(request),
    );
  }
  assert.equal(
    statusLine(await raw(port, "GET / HTTP/2.0\r\n\r\n")),
    "HTTP/1.1 505 HTTP Version Not Supported",
  );
  const trace = await raw(port, "TRACE /status HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(statusLine(trace), "HTTP/1.1 405 Method Not Allowed");
  assert.match(trace, /\r\nallow: GET, HEAD, OPTIONS\r\n/);
  assert.match(trace, /\{"error":"Method \\"TRACE\\" is not allowed"\}$/);
  const huge = `GET /status HTTP/1.1\r\nHost: a\r\nX: ${"y".repeat(20_000)}\r\n\r\n`;
  assert.equal(statusLine(await raw(port, huge)), "HTTP/1.1 431 Request Header Fields Too Large");
  assert.deepEqual(server.logs, []);
});

Deno.test("serveHttp closes an idle kept-alive connection without a 408", async () => {
  await using server = start({ limits: { headerTimeoutSeconds: 1 } });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.server.port });
  try {
    await conn.write(encoder.encode("GET /status HTTP/1.1\r\nHost: x\r\n\r\n"));
    const buffer = new Uint8Array(64 * 1024);
    const first = await within(conn.read(buffer), 10_000, "the answer");
    assert.equal(
      statusLine(new TextDecoder().decode(buffer.subarray(0, first ?? 0))),
      "HTTP/1.1 200 OK",
    );
    // Nothing more is sent: after the header timeout the server closes without a word, so
    // that a request sent just then cannot read a 408 as its answer.
    assert.equal(await within(conn.read(buffer), 10_000, "the server to close"), null);
  } finally {
    conn.close();
  }
});

Deno.test("serveHttp closes a client whose request headers do not arrive in time", async () => {
  await using server = start({ limits: { headerTimeoutSeconds: 1 } });
  const port = server.server.port;
  const slow = await Deno.connect({ hostname: "127.0.0.1", port });
  const idle = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const started = Date.now();
    // A slowloris client: a byte every 100 ms never completes its headers in time.
    const dribble = (async () => {
      for (const char of "GET /stream HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa") {
        try {
          await slow.write(encoder.encode(char));
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const answers = await Promise.all([slow, idle].map(async (conn) => {
      const buffer = new Uint8Array(1024);
      const count = await within(conn.read(buffer), 10_000, "the server to give up on the client");
      return count === null ? "" : new TextDecoder().decode(buffer.subarray(0, count));
    }));
    for (const answer of answers) assert.equal(statusLine(answer), "HTTP/1.1 408 Request Timeout");
    assert.ok(Date.now() - started < 9000);
    await dribble;
  } finally {
    slow.close();
    idle.close();
  }
});

Deno.test("serveHttp refuses connections over max_connections and max_connections_per_ip with 503", async () => {
  for (
    const [limits, reason] of [
      [{ maxConnections: 2, maxConnectionsPerIp: 2 }, "max_connections"],
      [{ maxConnections: 10, maxConnectionsPerIp: 2 }, "max_connections_per_ip"],
    ] as const
  ) {
    await using server = start({ limits });
    const port = server.server.port;
    const held = await Promise.all([0, 1].map(() => Deno.connect({ hostname: "127.0.0.1", port })));
    try {
      await waitFor(() => server.server.connections === 2);
      const refused = await raw(port, "GET /status HTTP/1.1\r\nHost: a\r\n\r\n");
      assert.equal(statusLine(refused), "HTTP/1.1 503 Service Unavailable");
      assert.match(refused, /\r\nretry-after: 5\r\n/);
      assert.match(refused, new RegExp(`"reason":"${reason}"`));
      assert.equal(server.server.refused.get(reason), 1);
    } finally {
      for (const conn of held) conn.close();
    }
    await waitFor(() => server.server.connections === 0);
    const again = await raw(port, "GET /status HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert.equal(statusLine(again), "HTTP/1.1 200 OK", "served again once connections closed");
  }
});

Deno.test("serveHttp: HEAD on the event stream has its headers, no body and no Content-Length", async () => {
  await using server = start();
  const head = await raw(
    server.server.port,
    "HEAD /stream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  assert.equal(statusLine(head), "HTTP/1.1 200 OK");
  assert.match(head, /content-type: text\/event-stream/);
  assert.doesNotMatch(head, /content-length/i);
  assert.ok(head.endsWith("\r\n\r\n"));
  const status = await raw(
    server.server.port,
    "HEAD /status HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  );
  assert.ok(status.endsWith("\r\n\r\n"), "no body after HEAD");
});

Deno.test("serveHttp answers a handler that throws with 500 and says so once", async () => {
  await using server = start({
    handler: () => {
      throw new Error("boom");
    },
  });
  for (let i = 0; i < 3; i++) {
    const answer = await raw(
      server.server.port,
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert.equal(statusLine(answer), "HTTP/1.1 500 Internal Server Error");
  }
  assert.deepEqual(server.logs, [["error", "test: request failed: boom"]]);
});
