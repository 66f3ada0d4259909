import assert from "node:assert/strict";
import { httpServerConfig, SseReader, waitFor, within } from "../_test_utils.ts";
import { Hub } from "../stream/hub.ts";
import { serveHttp } from "./http_server.ts";
import { streamHandler } from "./stream_handler.ts";

const CONFIG = httpServerConfig({ port: 0, bufferSize: 100 });

function start(drainMs: number) {
  const hub = new Hub(CONFIG.bufferSize);
  const shutdown = new AbortController();
  const handler = streamHandler({
    hub,
    stream: "app",
    config: CONFIG,
    prefix: "",
    shutdown: shutdown.signal,
    status: () => ({}),
  });
  const server = serveHttp({
    host: "127.0.0.1",
    port: 0,
    handler,
    shutdown: shutdown.signal,
    drainMs,
    log: () => {},
    label: "test",
  });
  return { hub, shutdown, server, url: `http://127.0.0.1:${server.port}` };
}

Deno.test("serveHttp at shutdown delivers the disconnect event before closing", async () => {
  const { hub, shutdown, server, url } = start(2000);
  const response = await fetch(`${url}/stream`);
  const sse = new SseReader(response.body!);
  assert.equal((await sse.next())?.event, "connected");
  await waitFor(() => hub.clients.size === 1);
  shutdown.abort();
  assert.equal((await sse.next())?.event, "disconnect");
  assert.equal(await sse.next(), null);
  await within(server.finished, 10_000, "the server to finish");
});

Deno.test("serveHttp cuts a client that never reads once the drain deadline passes", async () => {
  const { hub, shutdown, server } = start(200);
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await stuck.write(new TextEncoder().encode("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    await waitFor(() => hub.clients.size === 1);
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
  const shutdown = new AbortController();
  assert.throws(
    () =>
      serveHttp({
        host: "127.0.0.1",
        port: (taken.addr as Deno.NetAddr).port,
        handler: () => new Response(),
        shutdown: shutdown.signal,
        drainMs: 100,
        log: () => {},
        label: "test",
      }),
    Deno.errors.AddrInUse,
  );
});
