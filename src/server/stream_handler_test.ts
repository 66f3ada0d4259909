import assert from "node:assert/strict";
import { httpServerConfig, SseReader } from "../_test_utils.ts";
import type { LogEntry } from "../entry/entry.ts";
import { Hub } from "../stream/hub.ts";
import { runHeartbeat } from "./heartbeat.ts";
import { streamHandler, type StreamHandlerOptions } from "./stream_handler.ts";

const CONFIG = httpServerConfig({ port: 8080, bufferSize: 5 });

const entry = (message: string): LogEntry => ({
  time: "2024-01-01T12:00:00.000000Z",
  source: "app.log",
  level: "INFO",
  message,
});

/** A stream handler with its hub and shutdown controller. */
function setup(options: Partial<StreamHandlerOptions> = {}) {
  const hub = options.hub ?? new Hub(CONFIG.bufferSize);
  const shutdown = new AbortController();
  const handler = streamHandler({
    hub,
    stream: "app",
    config: CONFIG,
    prefix: "",
    shutdown: shutdown.signal,
    status: () => ({ stream: "app", clients: hub.clients.size }),
    ...options,
  });
  const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
    handler(new Request(`http://localhost${path}`, { method, headers }), "10.0.0.1:5555");
  return { hub, shutdown, handler, get };
}

Deno.test("GET stream_path: SSE headers, retry and connected event, then entries with ids", async () => {
  const { hub, get } = setup();
  const response = get("/stream");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  assert.equal(response.headers.get("cache-control"), "no-cache");
  assert.equal(response.headers.get("x-accel-buffering"), "no");
  assert.equal(response.headers.get("access-control-allow-origin"), "*");

  const sse = new SseReader(response.body!);
  const connected = await sse.next();
  assert.equal(connected?.event, "connected");
  assert.equal(connected.retry, "3000");
  const data = JSON.parse(connected.data);
  assert.match(data.client_id, /^[0-9a-f-]{36}$/);
  assert.deepEqual({ ...data, client_id: "" }, {
    client_id: "",
    stream: "app",
    stream_path: "/stream",
    status_path: "/status",
    buffer_size: 5,
  });

  hub.publish(entry("first"));
  hub.publish(entry("second"));
  const events = await sse.take(2);
  assert.deepEqual(events.map((event) => [event.id, JSON.parse(event.data).message]), [
    ["1", "first"],
    ["2", "second"],
  ]);
  assert.deepEqual(JSON.parse(events[0]!.data), entry("first"));
  assert.equal(hub.clients.size, 1);
  await sse.cancel();
  assert.equal(hub.clients.size, 0, "a client that leaves is unsubscribed");
});

Deno.test("Last-Event-ID (header or query) resumes without gap or duplicate", async () => {
  for (
    const [path, headers] of [["/stream", { "Last-Event-ID": "2" }], [
      "/stream?last_event_id=2",
      {},
    ]] as const
  ) {
    const { hub, get } = setup();
    for (let i = 1; i <= 4; i++) hub.publish(entry(`e${i}`));
    const sse = new SseReader(get(path, headers).body!);
    assert.equal((await sse.next())?.event, "connected");
    const backlog = await sse.take(2);
    hub.publish(entry("live"));
    const [live] = await sse.take(1);
    assert.deepEqual([...backlog, live!].map((event) => event.id), ["3", "4", "5"], path);
    await sse.cancel();
  }
});

Deno.test("Last-Event-ID older than the ring gets a gap event first", async () => {
  const { hub, get } = setup();
  for (let i = 1; i <= 9; i++) hub.publish(entry(`e${i}`));
  const sse = new SseReader(get("/stream", { "Last-Event-ID": "1" }).body!);
  assert.equal((await sse.next())?.event, "connected");
  const gap = await sse.next();
  assert.equal(gap?.event, "gap");
  assert.deepEqual(JSON.parse(gap.data), { from: 2, to: 4 });
  assert.deepEqual((await sse.take(5)).map((event) => event.id), ["5", "6", "7", "8", "9"]);
  await sse.cancel();
});

Deno.test("shutdown sends a disconnect event and ends the stream", async () => {
  const { hub, get, shutdown } = setup();
  const sse = new SseReader(get("/stream").body!);
  await sse.next();
  hub.publish(entry("before shutdown"));
  shutdown.abort();
  assert.equal(JSON.parse((await sse.take(1))[0]!.data).message, "before shutdown");
  const disconnect = await sse.next();
  assert.equal(disconnect?.event, "disconnect");
  assert.deepEqual(JSON.parse(disconnect.data), { reason: "server_shutdown" });
  assert.equal(await sse.next(), null);
  assert.equal(get("/stream").status, 503);
});

Deno.test("heartbeats reach SSE clients as comments", async () => {
  const { hub, get } = setup();
  const stop = new AbortController();
  try {
    const sse = new SseReader(get("/stream").body!);
    await sse.next();
    runHeartbeat({
      hub,
      transport: "sse",
      config: { ...CONFIG.heartbeat, enabled: true, intervalSeconds: 1, includeStats: true },
      stats: () => ({ activeClients: hub.clients.size, uptimeSeconds: 42 }),
      signal: stop.signal,
    });
    const [heartbeat] = await sse.take(1, (event) => event.comments.length > 0);
    assert.match(
      heartbeat!.comments[0]!,
      /^heartbeat \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ clients=1 uptime=42s$/,
    );
    await sse.cancel();
  } finally {
    stop.abort();
  }
});

Deno.test("status_path answers JSON; HEAD and OPTIONS as usual; other methods 405", async () => {
  const { get } = setup();
  const status = get("/status");
  assert.equal(status.status, 200);
  assert.equal(status.headers.get("content-type"), "application/json");
  assert.deepEqual(await status.json(), { stream: "app", clients: 0 });

  const head = get("/status", {}, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
  const headStream = get("/stream", {}, "HEAD");
  assert.equal(headStream.headers.get("content-type"), "text/event-stream");
  assert.equal(headStream.body, null);

  const options = get("/stream", {}, "OPTIONS");
  assert.equal(options.status, 204);
  assert.equal(options.headers.get("allow"), "GET, HEAD, OPTIONS");
  assert.match(options.headers.get("access-control-allow-headers") ?? "", /Last-Event-ID/);

  for (const method of ["POST", "PUT", "DELETE"]) {
    const response = get("/stream", {}, method);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "GET, HEAD, OPTIONS");
    assert.deepEqual(await response.json(), {
      error: `Method "${method}" is not allowed`,
      allowed: ["GET", "HEAD", "OPTIONS"],
    });
  }
});

Deno.test("unknown paths get 404 with the list of endpoints", async () => {
  const { get } = setup();
  const response = get("/nope");
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), {
    error: 'No endpoint at "/nope"',
    endpoints: { stream: "/stream", status: "/status" },
  });
});
