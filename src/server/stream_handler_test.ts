import assert from "node:assert/strict";
import { httpServerConfig, SseReader, TEST_CLIENT, TEST_RUN, testHub } from "../_test_utils.ts";
import type { LogEntry } from "../entry/entry.ts";
import { runHeartbeat } from "../stream/heartbeat.ts";
import { sseCodec } from "./sse.ts";
import { streamHandler, type StreamHandlerOptions } from "./stream_handler.ts";

const CONFIG = httpServerConfig({ port: 8080, bufferSize: 5 });
const INFO = { stream: "app", streamPath: "/stream", statusPath: "/status", bufferSize: 5 };

const entry = (message: string): LogEntry => ({
  time: "2024-01-01T12:00:00.000000Z",
  source: "app.log",
  level: "INFO",
  message,
});
const id = (seq: number) => `${TEST_RUN}-${seq}`;

/** A stream handler with its hub and shutdown controller. */
function setup(options: Partial<StreamHandlerOptions> = {}) {
  const hub = options.hub ?? testHub(CONFIG.bufferSize);
  const shutdown = new AbortController();
  const sse = sseCodec(INFO, { ...CONFIG.heartbeat, enabled: true, intervalSeconds: 1 });
  const handler = streamHandler({
    hub,
    stream: "app",
    config: CONFIG,
    sse,
    prefix: "",
    shutdown: shutdown.signal,
    status: () => ({ stream: "app", clients: hub.clientCount() }),
    ...options,
  });
  const get = async (path: string, headers: Record<string, string> = {}, method = "GET") =>
    await handler(new Request(`http://localhost${path}`, { method, headers }), TEST_CLIENT);
  return { hub, shutdown, sse, get };
}

Deno.test("GET stream_path: SSE headers, retry and connected event, then entries with ids", async () => {
  const { hub, get } = setup();
  const response = await get("/stream");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  assert.equal(response.headers.get("cache-control"), "no-cache");
  assert.equal(response.headers.get("x-accel-buffering"), "no");
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  const sse = new SseReader(response.body!);
  const connected = await sse.next();
  assert.equal(connected?.retry, "3000");
  assert.equal(connected?.event, "connected");
  const data = JSON.parse(connected!.data);
  assert.deepEqual(data, {
    client_id: data.client_id,
    stream: "app",
    stream_path: "/stream",
    status_path: "/status",
    buffer_size: 5,
  });
  assert.match(data.client_id, /^[0-9a-f-]{36}$/);
  hub.publish(entry("one"));
  hub.publish(entry("two"));
  const events = await sse.take(2);
  assert.deepEqual(events.map((event) => event.id), [id(1), id(2)]);
  assert.equal(JSON.parse(events[1]!.data).message, "two");
  assert.deepEqual([...hub.clients].map((client) => client.remoteAddr), ["10.0.0.1:5555"]);
  await sse.cancel();
  assert.equal(hub.clientCount(), 0, "a client that leaves is unsubscribed");
});

Deno.test("Last-Event-ID (header or query) resumes without gap or duplicate", async () => {
  const { hub, get } = setup();
  for (let i = 1; i <= 4; i++) hub.publish(entry(`e${i}`));
  for (
    const request of [["/stream", { "Last-Event-ID": id(2) }], [
      `/stream?last_event_id=${id(2)}`,
      {},
    ]] as const
  ) {
    const sse = new SseReader((await get(request[0], request[1])).body!);
    await sse.next();
    const events = await sse.take(2);
    assert.deepEqual(events.map((event) => event.id), [id(3), id(4)]);
    await sse.cancel();
  }
});

Deno.test("Last-Event-ID older than the ring, or of an earlier run, gets a gap event first", async () => {
  const { hub, get } = setup();
  for (let i = 1; i <= 9; i++) hub.publish(entry(`e${i}`));
  const sse = new SseReader((await get("/stream", { "Last-Event-ID": id(1) })).body!);
  await sse.next();
  const gap = await sse.next();
  assert.equal(gap?.event, "gap");
  assert.deepEqual(JSON.parse(gap!.data), { reason: "evicted", from: id(2), to: id(4), missed: 3 });
  assert.deepEqual((await sse.take(5)).map((event) => event.id), [5, 6, 7, 8, 9].map(id));
  await sse.cancel();

  const restarted = new SseReader(
    (await get("/stream", { "Last-Event-ID": "1600000000000-30" })).body!,
  );
  await restarted.next();
  assert.deepEqual(JSON.parse((await restarted.next())!.data), {
    reason: "restart",
    from: id(1),
    to: id(4),
    missed: 4,
    last_event_id: "1600000000000-30",
  });
  await restarted.cancel();
});

Deno.test("a farewell sends a disconnect event and ends the stream; then 503", async () => {
  const { hub, get, shutdown, sse: codec } = setup();
  const sse = new SseReader((await get("/stream")).body!);
  await sse.next();
  hub.publish(entry("before shutdown"));
  shutdown.abort();
  hub.farewell(codec, "server_shutdown");
  assert.equal(JSON.parse((await sse.take(1))[0]!.data).message, "before shutdown");
  const disconnect = await sse.next();
  assert.equal(disconnect?.event, "disconnect");
  assert.deepEqual(JSON.parse(disconnect!.data), { reason: "server_shutdown" });
  assert.equal(await sse.next(), null);
  assert.equal((await get("/stream")).status, 503);
});

Deno.test("heartbeats reach SSE clients as comments", async () => {
  const { hub, get, sse: codec } = setup();
  const stop = new AbortController();
  try {
    const sse = new SseReader((await get("/stream")).body!);
    await sse.next();
    runHeartbeat({
      hub,
      codecs: [codec],
      intervalSeconds: 1,
      stats: () => ({ activeClients: hub.clientCount([codec]), uptimeSeconds: 42 }),
      signal: stop.signal,
    });
    const [heartbeat] = await sse.take(1, (event) => event.comments.length > 0);
    assert.match(heartbeat!.comments[0]!, /^heartbeat \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await sse.cancel();
  } finally {
    stop.abort();
  }
});

Deno.test("status_path answers JSON; HEAD and OPTIONS as usual; other methods 405", async () => {
  const { get } = setup();
  const status = await get("/status");
  assert.equal(status.status, 200);
  assert.equal(status.headers.get("content-type"), "application/json");
  assert.deepEqual(await status.json(), { stream: "app", clients: 0 });

  const head = await get("/status", {}, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
  const headStream = await get("/stream", {}, "HEAD");
  assert.equal(headStream.headers.get("content-type"), "text/event-stream");
  assert.equal(headStream.body, null);

  const options = await get("/stream", {}, "OPTIONS");
  assert.equal(options.status, 204);
  assert.equal(options.headers.get("allow"), "GET, HEAD, OPTIONS");
  assert.match(options.headers.get("access-control-allow-headers") ?? "", /Last-Event-ID/);

  for (const method of ["POST", "PUT", "DELETE"]) {
    const response = await get("/stream", {}, method);
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
  const response = await get("/nope");
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), {
    error: 'No endpoint at "/nope"',
    endpoints: { stream: "/stream", status: "/status", viewer: "/" },
  });
});

Deno.test("viewer_path serves the viewer page, pointed at the prefixed endpoints", async () => {
  const page = async (response: Response) => {
    const html = await response.text();
    const island = /<script type="application\/json" id="logwisp-config">(.*?)<\/script>/s
      .exec(html);
    return JSON.parse(island![1]!);
  };
  const standalone = await setup().get("/");
  assert.equal(standalone.status, 200);
  assert.equal(standalone.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(standalone.headers.get("content-security-policy")!, /frame-ancestors 'none'/);
  assert.equal(standalone.headers.get("x-content-type-options"), "nosniff");
  assert.equal(standalone.headers.get("access-control-allow-origin"), null);
  assert.deepEqual(await page(standalone), {
    stream: "app",
    streamPath: "/stream",
    statusPath: "/status",
    lineCap: 5000,
  });

  const routed = setup({ prefix: "/app", config: { ...CONFIG, viewerPath: "/view" } });
  assert.deepEqual(await page(await routed.get("/view")), {
    stream: "app",
    streamPath: "/app/stream",
    statusPath: "/app/status",
    lineCap: 5000,
  });
  assert.equal((await routed.get("/")).status, 404);
  const head = await routed.get("/view", {}, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  assert.equal((await routed.get("/view", {}, "POST")).status, 405);
});

Deno.test('viewer_path "" turns the viewer off', async () => {
  const { get } = setup({ config: { ...CONFIG, viewerPath: "" } });
  const response = await get("/");
  assert.equal(response.status, 404);
  assert.deepEqual((await response.json()).endpoints, { stream: "/stream", status: "/status" });
});
