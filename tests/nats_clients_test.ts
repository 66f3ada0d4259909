/**
 * A NATS gateway's clients of every kind (README "Scaling out with NATS", "WebSocket",
 * "Filters"): real `nats-server` with JetStream, publishing LogWisps following real files,
 * and a gateway whose SSE, WebSocket and TCP clients each get every line once, and whose
 * `tail=N` reaches back past its ring into JetStream.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SseReader, tempDir, waitFor, within } from "../src/_test_utils.ts";
import {
  appendNumbered,
  connectTcp,
  freePort,
  getJson,
  type LogWisp,
  numbered,
} from "./_logwisp.ts";
import {
  createStream,
  gatewayToml,
  natsTest,
  publisherToml,
  startNatsServer,
  startWith,
} from "./_nats.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** One entry a client received. */
interface Received {
  readonly id: string | undefined;
  readonly message: string;
  readonly host: string | undefined;
}

function received(id: string | undefined, entry: Json): Received {
  return { id, message: entry.message, host: entry.fields?.host };
}

/** An SSE client collecting entries and gaps in the background; disposing disconnects. */
class SseClient implements AsyncDisposable {
  readonly entries: Received[] = [];
  readonly others: string[] = [];
  readonly #events: SseReader;
  readonly #reading: Promise<void>;

  private constructor(body: ReadableStream<Uint8Array>) {
    this.#events = new SseReader(body);
    this.#reading = this.#read();
  }

  static async open(url: string): Promise<SseClient> {
    const response = await fetch(url);
    assert.equal(response.status, 200, url);
    return new SseClient(response.body!);
  }

  async #read(): Promise<void> {
    try {
      for (let event = await this.#events.next(); event; event = await this.#events.next()) {
        if (event.event === "message" && event.comments.length === 0) {
          this.entries.push(received(event.id, JSON.parse(event.data)));
        } else if (event.event !== "connected" && event.comments.length === 0) {
          this.others.push(`${event.event}: ${event.data}`);
        }
      }
    } catch {
      // Cancelled by dispose.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#events.cancel().catch(() => {});
    await this.#reading;
  }
}

/** A Deno `WebSocket` collecting entries and other messages; disposing closes it and waits. */
class WsClient implements AsyncDisposable {
  readonly entries: Received[] = [];
  readonly others: Json[] = [];
  readonly #socket: WebSocket;
  readonly #closed: Promise<CloseEvent>;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "entry") this.entries.push(received(message.id, message.entry));
      else if (message.type !== "connected") this.others.push(message);
    };
    this.#closed = new Promise((resolve) => socket.onclose = resolve);
  }

  static async open(url: string): Promise<WsClient> {
    const socket = new WebSocket(url);
    const client = new WsClient(socket);
    await within(
      new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve();
        socket.onerror = () => reject(new Error(`WebSocket ${url} failed`));
      }),
      10_000,
      `WebSocket ${url} to open`,
    );
    return client;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#socket.close();
    await within(this.#closed, 10_000, "the WebSocket to close");
  }
}

async function waitForEntries(
  client: { readonly entries: readonly Received[] },
  what: string,
  done: (entries: readonly Received[]) => boolean,
): Promise<void> {
  await waitFor(() => done(client.entries), {
    timeoutMs: 30_000,
    message: () =>
      `${what}; got ${client.entries.length}, the last: ${
        JSON.stringify(client.entries.slice(-3))
      }`,
  });
}

/** Asserts the ids are JetStream sequences, strictly increasing: in order, none twice. */
function assertIncreasingIds(entries: readonly Received[], what: string): void {
  const ids = entries.map((entry) => Number(entry.id));
  assert.ok(ids.every(Number.isInteger), `${what}: ids are sequences: ${ids.slice(0, 5)}`);
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i]! > ids[i - 1]!, `${what}: ids out of order at ${i}: ${ids[i - 1]}, ${ids[i]}`);
  }
}

natsTest(
  "two hosts through one wildcard subject: the gateway's WebSocket, SSE and TCP clients get every line once",
  async () => {
    await using dir = await tempDir("logwisp_nats_clients_");
    await using nats = await startNatsServer();
    const servers = [nats.url];
    const hosts = ["web1", "web2"];
    const logs = hosts.map((host) => join(dir.path, host, "app.log"));
    for (const log of logs) {
      await Deno.mkdir(join(log, ".."));
      await Deno.writeTextFile(log, "");
    }
    const ports = { http: freePort(), tcp: freePort() };
    const started: LogWisp[] = [];
    // Made before either host publishes: one created while the other's first publishes are
    // in flight and failing could store that host's later entries before its earlier ones.
    await createStream(servers, "LOGWISP", { subjects: ["logwisp.>"] });
    try {
      for (const host of hosts) {
        const toml = publisherToml({ dir: join(dir.path, host), host, servers });
        started.push(await startWith(dir.path, `${host}.toml`, toml));
      }
      started.push(
        await startWith(
          dir.path,
          "gateway.toml",
          gatewayToml({ servers, port: ports.http, tcpPort: ports.tcp }),
        ),
      );

      await using ws = await WsClient.open(`ws://127.0.0.1:${ports.http}/ws`);
      await using sse = await SseClient.open(`http://127.0.0.1:${ports.http}/stream`);
      using tcp = await connectTcp(ports.tcp);
      await waitFor(async () => {
        const status: Json = await getJson(`http://127.0.0.1:${ports.http}/status`);
        return status.delivery.clients.length === 3;
      }, { message: "the three clients in the gateway's status" });

      // Bursts from both hosts in turn: their lines mix in JetStream.
      const expected = new Map(hosts.map((host) => [host, [] as string[]]));
      for (let burst = 0; burst < 3; burst++) {
        for (const [i, host] of hosts.entries()) {
          await appendNumbered(logs[i]!, `${host} burst-${burst}`, 0, 100);
          expected.get(host)!.push(...numbered(`${host} burst-${burst}`, 100));
        }
      }
      // A last line per host: once both are in, a duplicate of anything before would be too.
      for (const [i, host] of hosts.entries()) {
        await appendNumbered(logs[i]!, `${host} end`, 0, 1);
        expected.get(host)!.push(`${host} end 0`);
      }
      const total = [...expected.values()].reduce((sum, lines) => sum + lines.length, 0);
      const ended = (entries: readonly Received[]) =>
        hosts.every((host) => entries.some((entry) => entry.message === `${host} end 0`));

      await waitForEntries(ws, "both hosts' last line over WebSocket", ended);
      await waitForEntries(sse, "both hosts' last line over SSE", ended);
      const overTcp: Received[] = [];
      while (!ended(overTcp)) {
        const [line] = await within(
          tcp.take(1),
          30_000,
          () => `a TCP line after ${overTcp.length}: ${JSON.stringify(overTcp.slice(-3))}`,
        );
        assert.ok(line !== undefined, "the TCP connection stayed open");
        const value = JSON.parse(line);
        if (typeof value.message === "string") overTcp.push(received(undefined, value));
      }

      for (const [name, entries] of [["ws", ws.entries], ["sse", sse.entries], ["tcp", overTcp]]) {
        const list = entries as Received[];
        assert.equal(list.length, total, `${name}: every line once`);
        for (const host of hosts) {
          assert.deepEqual(
            list.filter((entry) => entry.host === host).map((entry) => entry.message),
            expected.get(host),
            `${name}: ${host}'s lines, in order, once each`,
          );
        }
      }
      assertIncreasingIds(ws.entries, "ws");
      assertIncreasingIds(sse.entries, "sse");
      // One JetStream order, one id per entry, whatever the transport.
      assert.deepEqual(ws.entries, sse.entries);
      assert.deepEqual(overTcp.map((entry) => entry.message), sse.entries.map((e) => e.message));
      assert.deepEqual(ws.others, [], "no gap, no disconnect over WebSocket");
      assert.deepEqual(sse.others, [], "no gap over SSE");

      const status: Json = await getJson(`http://127.0.0.1:${ports.http}/status`);
      assert.equal(status.source.state, "connected");
      assert.equal(status.source.last_seq, Number(sse.entries.at(-1)!.id));
      assert.equal(status.delivery.transports.ws.active_clients, 1);
    } finally {
      for (const logwisp of started) await logwisp.stop();
    }
  },
);

natsTest(
  "tail=N beyond the gateway's ring: the last N from JetStream, in order, filtered, then live ones",
  async () => {
    await using dir = await tempDir("logwisp_nats_tail_");
    await using nats = await startNatsServer();
    const servers = [nats.url];
    const log = join(dir.path, "app.log");
    await Deno.writeTextFile(log, "");
    const port = freePort();
    await createStream(servers, "LOGWISP", { subjects: ["logwisp.>"] });
    const started: LogWisp[] = [];
    try {
      started.push(
        await startWith(
          dir.path,
          "publisher.toml",
          publisherToml({ dir: dir.path, host: "web1", servers }),
        ),
      );
      started.push(
        await startWith(dir.path, "gateway.toml", gatewayToml({ servers, port, bufferSize: 10 })),
      );
      // 50 entries, INFO and ERROR in turn: five times the ring of 10.
      const lines = Array.from(
        { length: 50 },
        (_, i) => `${i % 2 === 0 ? "INFO" : "ERROR"} line ${i}`,
      );
      await Deno.writeTextFile(log, lines.join("\n") + "\n", { append: true });
      await waitFor(async () => {
        const status: Json = await getJson(`http://127.0.0.1:${port}/status`);
        return status.source.last_seq === 50;
      }, { timeoutMs: 30_000, message: "the gateway to read sequence 50" });

      const url = `http://127.0.0.1:${port}/stream`;
      await using sse = await SseClient.open(`${url}?tail=30`);
      await using errors = await SseClient.open(`${url}?level=ERROR&tail=20`);
      await using ws = await WsClient.open(`ws://127.0.0.1:${port}/ws?tail=30`);
      const hasAtLeast = (n: number) => (entries: readonly Received[]) => entries.length >= n;
      await waitForEntries(sse, "30 tail entries over SSE", hasAtLeast(30));
      await waitForEntries(errors, "20 ERROR tail entries over SSE", hasAtLeast(20));
      await waitForEntries(ws, "30 tail entries over WebSocket", hasAtLeast(30));

      const last30 = lines.slice(20).map((message, i) => ({
        id: String(21 + i),
        message,
        host: "web1",
      }));
      assert.deepEqual(sse.entries, last30);
      assert.deepEqual(ws.entries, last30);
      // The last 20 ERROR lines reach back 40 entries, 30 of them older than the ring.
      assert.deepEqual(
        errors.entries,
        lines.map((message, i) => ({ id: String(i + 1), message, host: "web1" }))
          .filter((entry) => entry.message.startsWith("ERROR")).slice(-20),
      );
      assert.equal(errors.entries[0]!.message, "ERROR line 11");

      // Then the live ones, once each, after the tail.
      await appendNumbered(log, "ERROR live", 0, 5);
      const live = numbered("ERROR live", 5).map((message, i) => ({
        id: String(51 + i),
        message,
        host: "web1",
      }));
      await waitForEntries(sse, "35 entries over SSE", hasAtLeast(35));
      await waitForEntries(errors, "25 ERROR entries over SSE", hasAtLeast(25));
      await waitForEntries(ws, "35 entries over WebSocket", hasAtLeast(35));
      assert.deepEqual(sse.entries.slice(30), live);
      assert.deepEqual(ws.entries.slice(30), live);
      assert.deepEqual(errors.entries.slice(20), live);
      for (const client of [sse, errors]) assert.deepEqual(client.others, [], "no gap over SSE");
      assert.deepEqual(ws.others, [], "no gap over WebSocket");

      const status: Json = await getJson(`http://127.0.0.1:${port}/status`);
      const filters = status.delivery.clients.map((client: Json) => client.filter).sort();
      assert.deepEqual(filters, ["level=ERROR tail=20", "tail=30", "tail=30"]);
    } finally {
      for (const logwisp of started) await logwisp.stop();
    }
  },
);
