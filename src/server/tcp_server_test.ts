import assert from "node:assert/strict";
import { TcpLines, tcpServerConfig, testHub, waitFor, within } from "../_test_utils.ts";
import type { ServerConfig } from "../config/types.ts";
import type { LogEntry } from "../entry/entry.ts";
import type { Hub } from "../stream/hub.ts";
import { serveTcp, tcpCodec } from "./tcp_server.ts";

const CONFIG: ServerConfig = tcpServerConfig({ bufferSize: 50 });
const entry = (message: string): LogEntry => ({ time: "t", source: "a.log", message });

function start(hub: Hub, shutdown: AbortController, drainMs: number, config = CONFIG) {
  const codec = tcpCodec(config.heartbeat);
  shutdown.signal.addEventListener("abort", () => hub.farewell(codec, "server_shutdown"));
  return serveTcp({
    hub,
    codec,
    config,
    label: "test",
    log: () => {},
    shutdown: shutdown.signal,
    drainMs,
  });
}

Deno.test("TCP server sends NDJSON, ignores client input, and flushes then closes at shutdown", async () => {
  const hub = testHub(0);
  const shutdown = new AbortController();
  const server = start(hub, shutdown, 2000);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await conn.write(new TextEncoder().encode("hello server, this is ignored\n"));
    await waitFor(() => hub.clientCount() === 1);
    hub.publish(entry("one"));
    hub.publish(entry("two"));
    const lines = new TcpLines(conn);
    assert.deepEqual((await lines.take(2)).map((line) => JSON.parse(line).message), [
      "one",
      "two",
    ]);
    hub.publish(entry("queued before shutdown"));
    shutdown.abort();
    const rest = await lines.rest();
    assert.deepEqual(rest.map((line) => JSON.parse(line).message), ["queued before shutdown"]);
    await within(server.finished, 10_000, "the server to finish");
  } finally {
    conn.close();
  }
});

Deno.test("TCP server: a client that never reads drops (counted), others get everything", async () => {
  const hub = testHub(0);
  const shutdown = new AbortController();
  const server = start(hub, shutdown, 100);
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const reader = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await waitFor(() => hub.clientCount() === 2);
    const readerAddr = reader.localAddr as Deno.NetAddr;
    const [fast] = [...hub.clients].filter((client) =>
      client.remoteAddr === `${readerAddr.hostname}:${readerAddr.port}`
    );
    assert.ok(fast);
    const line = "x".repeat(1000);
    const total = 5000;
    const reading = new TcpLines(reader).take(total);
    // Batches as a file read would bring them; the reading client keeps up, the other never.
    for (let i = 0; i < total; i += 25) {
      for (let j = i; j < i + 25; j++) hub.publish(entry(`${j} ${line}`));
      await waitFor(() => fast.queue.length === 0);
    }
    const lines = await reading;
    assert.equal(lines.length, total);
    assert.ok(lines.every((text, i) => JSON.parse(text).message.startsWith(`${i} `)));
    assert.equal(fast.queue.dropped, 0);
    const [slow] = [...hub.clients].filter((client) => client.queue.dropped > 0);
    assert.ok(slow, "the client that never reads dropped entries");
    assert.equal(hub.droppedEntries, slow.queue.dropped);
    // It is still blocked in a write at shutdown: cut off after the drain deadline.
    shutdown.abort();
    await within(server.finished, 10_000, "the server to finish");
  } finally {
    stuck.close();
    reader.close();
  }
});

Deno.test("TCP server: a client that closes its side is forgotten", async () => {
  const hub = testHub(0);
  const shutdown = new AbortController();
  const server = start(hub, shutdown, 100);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await waitFor(() => hub.clientCount() === 1);
  conn.close();
  await waitFor(() => hub.clientCount() === 0);
  shutdown.abort();
  await within(server.finished, 10_000, "the server to finish");
});

Deno.test("TCP server: a port in use throws at once", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const shutdown = new AbortController();
  assert.throws(
    () => start(testHub(0), shutdown, 100, { ...CONFIG, port: (taken.addr as Deno.NetAddr).port }),
    Deno.errors.AddrInUse,
  );
});

Deno.test("TCP server: over max_connections_per_ip a connection is closed before any byte", async () => {
  const hub = testHub(0);
  const shutdown = new AbortController();
  const server = start(hub, shutdown, 100, { ...CONFIG, maxConnectionsPerIp: 1 });
  const first = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const second = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await waitFor(() => hub.clientCount() === 1);
    hub.publish(entry("for the first only"));
    assert.equal(await within(second.read(new Uint8Array(10)), 5000, "the refusal"), null);
    assert.equal(JSON.parse((await new TcpLines(first).take(1))[0]!).message, "for the first only");
    assert.equal(server.refused.get("max_connections_per_ip"), 1);
  } finally {
    first.close();
    second.close();
  }
  shutdown.abort();
  await within(server.finished, 10_000, "the server to finish");
});
