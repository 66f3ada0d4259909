/**
 * Scaling out with NATS (README "Scaling out with NATS"), end to end: real `nats-server`
 * processes with JetStream, publishing LogWisps following real files, gateway LogWisps
 * serving a `[streams.source]`, and SSE clients that resume with `Last-Event-ID`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SseReader, tempDir, waitFor, within } from "../src/_test_utils.ts";
import { ROOT, runCli } from "./_cli.ts";
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
  startNatsCluster,
  startNatsServer,
  startWith,
  storedMessages,
  streamLeader,
} from "./_nats.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** The publisher of the single-host tests: `<dir>/app.log` as host `web1`. */
function startPublisher(
  dir: string,
  servers: string[],
  port: number,
  extra = "",
): Promise<LogWisp> {
  return startWith(
    dir,
    "publisher.toml",
    publisherToml({ dir, name: "app", host: "web1", servers, port }, extra),
  );
}

/** Creates `<dir>/app.log`, empty; returns its path. */
async function emptyLog(dir: string): Promise<string> {
  const log = join(dir, "app.log");
  await Deno.writeTextFile(log, "");
  return log;
}

/** One entry an SSE client received. */
interface Received {
  readonly id: number;
  readonly message: string;
  readonly host: string | undefined;
}

/**
 * An SSE client that reconnects whenever its stream ends or cannot be opened, resuming with
 * the `Last-Event-ID` of the last entry it received, as EventSource does.
 */
class ResumingClient implements AsyncDisposable {
  readonly received: Received[] = [];
  readonly gaps: Json[] = [];
  connections = 0;
  readonly #url: string;
  readonly #stop = new AbortController();
  #lastId: string | undefined;
  readonly #running: Promise<void>;

  constructor(url: string) {
    this.#url = url;
    this.#running = this.#run();
  }

  get lastId(): string | undefined {
    return this.#lastId;
  }

  /** Waits until `count` entries have arrived. */
  async waitFor(count: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(() => this.received.length >= count, {
      timeoutMs,
      message: () => `${count} entries; got ${this.received.length}`,
    });
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        const headers: Record<string, string> = this.#lastId === undefined
          ? {}
          : { "Last-Event-ID": this.#lastId };
        const response = await fetch(this.#url, { headers, signal });
        if (!response.ok || !response.body) {
          await response.body?.cancel();
        } else {
          this.connections++;
          await this.#read(new SseReader(response.body), signal);
        }
      } catch {
        // Refused while the gateway restarts, or cut: connect again.
      }
      if (signal.aborted) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async #read(events: SseReader, signal: AbortSignal): Promise<void> {
    const stop = () => events.cancel().catch(() => {});
    signal.addEventListener("abort", stop, { once: true });
    try {
      for (let event = await events.next(); event; event = await events.next()) {
        if (event.event === "gap") this.gaps.push(JSON.parse(event.data));
        if (event.event !== "message" || event.id === undefined) continue;
        const entry = JSON.parse(event.data);
        this.received.push({
          id: Number(event.id),
          message: entry.message,
          host: entry.fields?.host,
        });
        this.#lastId = event.id;
      }
    } finally {
      signal.removeEventListener("abort", stop);
      await events.cancel().catch(() => {});
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }
}

/** Asserts the ids strictly increase (in order, none twice) and the messages are `expected`. */
function assertExactlyOnce(received: readonly Received[], expected: readonly string[]): void {
  for (let i = 1; i < received.length; i++) {
    assert.ok(
      received[i]!.id > received[i - 1]!.id,
      `ids out of order at ${i}: ${received[i - 1]!.id} then ${received[i]!.id}`,
    );
  }
  assert.deepEqual(received.map((entry) => entry.message), expected);
}

natsTest(
  "every line reaches a gateway's SSE client once, in order, across restarts of NATS and of both LogWisps",
  async () => {
    await using dir = await tempDir("logwisp_nats_e2e_");
    await using nats = await startNatsServer();
    const log = await emptyLog(dir.path);
    const servers = [nats.url];
    const publisherPort = freePort();
    const publisherToml_ = publisherToml({
      dir: dir.path,
      name: "app",
      host: "web1",
      servers,
      port: publisherPort,
    });
    const gatewayPort = freePort();
    const gatewayToml_ = gatewayToml({ servers, subjects: ["logwisp.*.app"], port: gatewayPort });
    const expected: string[] = [];
    const write = async (prefix: string, count: number) => {
      await appendNumbered(log, prefix, 0, count);
      expected.push(...numbered(prefix, count));
    };

    let publisher = await startWith(dir.path, "publisher.toml", publisherToml_);
    let gateway = await startWith(dir.path, "gateway.toml", gatewayToml_);
    try {
      await using client = new ResumingClient(`http://127.0.0.1:${gatewayPort}/stream`);
      await waitFor(() => client.connections > 0);
      await write("first", 500);
      await client.waitFor(expected.length);

      // NATS crashes and comes back: entries pend in the publisher meanwhile.
      await nats.kill();
      await write("during-nats-outage", 300);
      await publisher.waitForLog(/publish: NATS connection to .* lost|Cannot connect to NATS/);
      await nats.restart();
      await write("after-nats-restart", 200);
      await client.waitFor(expected.length);

      // The publisher restarts: it reads its file from the start again, and JetStream drops
      // what it had already stored (same Nats-Msg-Id); what was written meanwhile arrives.
      await publisher.stop();
      await write("publisher-down", 100);
      publisher = await startWith(dir.path, "publisher.toml", publisherToml_);
      await write("publisher-back", 100);
      await client.waitFor(expected.length);
      const published: Json = await getJson(`http://127.0.0.1:${publisherPort}/status`);
      assert.equal(published.publish.state, "connected");
      assert.equal(published.publish.duplicates, 1000, "read again, stored once");

      // The gateway restarts: the client resumes from its last id, from JetStream.
      const connections = client.connections;
      await gateway.stop();
      await write("gateway-down", 100);
      gateway = await startWith(dir.path, "gateway.toml", gatewayToml_);
      await waitFor(() => client.connections > connections, { timeoutMs: 30_000 });
      await write("gateway-back", 100);
      await client.waitFor(expected.length);

      assertExactlyOnce(client.received, expected);
      assert.deepEqual(client.gaps, []);
      assert.ok(client.received.every((entry) => entry.host === "web1"));

      const stored = await storedMessages(servers);
      assert.equal(stored.length, expected.length, "JetStream stored each line once");
      assert.equal(stored[0]!.headers["LogWisp-Source"], "app.log");
      assert.match(stored[0]!.headers["Nats-Msg-Id"]!, /^web1\.app\./);

      const status: Json = await getJson(`http://127.0.0.1:${gatewayPort}/status`);
      assert.equal(status.source.state, "connected");
      assert.equal(status.source.last_seq, stored.at(-1)!.seq);
      assert.equal(status.monitor, undefined);
    } finally {
      await publisher.stop();
      await gateway.stop();
    }
  },
);

natsTest(
  "two hosts through one wildcard subject: gateways' SSE and TCP clients get every line once, and resume on another gateway",
  async () => {
    await using dir = await tempDir("logwisp_nats_fleet_");
    await using nats = await startNatsServer();
    const servers = [nats.url];
    const hosts = ["web1", "web2"];
    const logs = hosts.map((host) => join(dir.path, host, "app.log"));
    for (const log of logs) {
      await Deno.mkdir(join(log, ".."));
      await Deno.writeTextFile(log, "");
    }
    const ports = { a: freePort(), aTcp: freePort(), b: freePort() };
    const started: LogWisp[] = [];
    try {
      for (const [i, host] of hosts.entries()) {
        started.push(
          await startWith(
            dir.path,
            `${host}.toml`,
            publisherToml({
              dir: join(dir.path, host),
              name: "app",
              host,
              servers,
              port: freePort(),
            }),
          ),
        );
        // Both publish to one JetStream stream: the first creates it.
        if (i === 0) await started[0]!.waitForLog(/created JetStream stream|NATS connected/);
      }
      const subjects = ["logwisp.*.app"];
      started.push(
        await startWith(
          dir.path,
          "a.toml",
          gatewayToml({ servers, subjects, port: ports.a, tcpPort: ports.aTcp }),
        ),
      );
      started.push(
        await startWith(dir.path, "b.toml", gatewayToml({ servers, subjects, port: ports.b })),
      );

      await using sse = new ResumingClient(`http://127.0.0.1:${ports.a}/stream`);
      using tcp = await connectTcp(ports.aTcp);
      await waitFor(() => sse.connections > 0);
      await getJson(`http://127.0.0.1:${ports.a}/status`);
      const expected = new Map<string, string[]>();
      for (const [i, host] of hosts.entries()) {
        await appendNumbered(logs[i]!, `${host} line`, 0, 300);
        expected.set(host, numbered(`${host} line`, 300));
      }
      await sse.waitFor(600);
      const perHost = (received: readonly Received[], host: string) =>
        received.filter((entry) => entry.host === host).map((entry) => entry.message);
      for (const host of hosts) assert.deepEqual(perHost(sse.received, host), expected.get(host));
      assertExactlyOnce(sse.received, sse.received.map((entry) => entry.message));

      const tcpEntries: Json[] = [];
      while (tcpEntries.length < 600) {
        const [line] = await tcp.take(1);
        assert.ok(line !== undefined, "the TCP connection stayed open");
        const value = JSON.parse(line);
        if (typeof value.message === "string") tcpEntries.push(value);
      }
      for (const host of hosts) {
        assert.deepEqual(
          tcpEntries.filter((entry) => entry.fields?.host === host).map((entry) => entry.message),
          expected.get(host),
        );
      }

      // A client that read everything from gateway A goes on from gateway B.
      const lastId = sse.lastId!;
      for (const [i, host] of hosts.entries()) {
        await appendNumbered(logs[i]!, `${host} more`, 0, 100);
      }
      await sse.waitFor(800);
      const response = await fetch(`http://127.0.0.1:${ports.b}/stream`, {
        headers: { "Last-Event-ID": lastId },
      });
      const events = new SseReader(response.body!);
      const onB: Received[] = [];
      try {
        while (onB.length < 200) {
          const event = await events.next();
          assert.ok(event, "gateway B's stream stayed open");
          assert.notEqual(event.event, "gap");
          if (event.event !== "message") continue;
          const entry = JSON.parse(event.data);
          onB.push({ id: Number(event.id), message: entry.message, host: entry.fields?.host });
        }
      } finally {
        await events.cancel();
      }
      assert.deepEqual(onB, sse.received.slice(600));
    } finally {
      for (const logwisp of started) await logwisp.stop();
    }
  },
);

natsTest(
  "max_pending_entries reached while NATS is away: reading pauses, then resumes, and every line arrives",
  async () => {
    await using dir = await tempDir("logwisp_nats_pending_");
    await using nats = await startNatsServer();
    const servers = [nats.url];
    const log = await emptyLog(dir.path);
    const ports = { publisher: freePort(), gateway: freePort() };
    const publisher = await startPublisher(
      dir.path,
      servers,
      ports.publisher,
      "max_pending_entries = 100",
    );
    const gateway = await startWith(
      dir.path,
      "gateway.toml",
      gatewayToml({ servers, subjects: ["logwisp.web1.>"], port: ports.gateway }),
    );
    try {
      await using client = new ResumingClient(`http://127.0.0.1:${ports.gateway}/stream`);
      await waitFor(() => client.connections > 0);
      const expected = numbered("before", 50);
      await appendNumbered(log, "before", 0, 50);
      await client.waitFor(50);

      await nats.kill();
      await appendNumbered(log, "outage", 0, 1000);
      expected.push(...numbered("outage", 1000));
      const status = () => getJson(`http://127.0.0.1:${ports.publisher}/status`) as Promise<Json>;
      await waitFor(async () => (await status()).publish.state === "blocked", {
        timeoutMs: 15_000,
      });
      const blocked = await status();
      assert.equal(blocked.publish.pending_entries, 100);
      const position = blocked.monitor.watchers[0].position;
      // Lines written now are not read while publishing is blocked.
      await appendNumbered(log, "blocked", 0, 500);
      expected.push(...numbered("blocked", 500));
      const later = await status();
      assert.equal(later.publish.state, "blocked");
      assert.equal(later.monitor.watchers[0].position, position);
      assert.ok(position < (await Deno.stat(log)).size);

      await nats.restart();
      await client.waitFor(expected.length);
      assertExactlyOnce(client.received, expected);
      await waitFor(async () => (await status()).publish.state === "connected");
    } finally {
      await publisher.stop();
      await gateway.stop();
    }
  },
);

natsTest(
  "a three-node cluster with a replicated stream loses a node while publishing continues",
  async () => {
    await using dir = await tempDir("logwisp_nats_cluster_");
    await using cluster = await startNatsCluster(3);
    const servers = [...cluster.urls];
    await createStream(servers, "LOGWISP", { subjects: ["logwisp.>"], replicas: 3 });
    const log = await emptyLog(dir.path);
    const ports = { publisher: freePort(), gateway: freePort() };
    const publisher = await startPublisher(dir.path, servers, ports.publisher);
    const gateway = await startWith(
      dir.path,
      "gateway.toml",
      gatewayToml({ servers, subjects: ["logwisp.*.app"], port: ports.gateway }),
    );
    try {
      await using client = new ResumingClient(`http://127.0.0.1:${ports.gateway}/stream`);
      await waitFor(() => client.connections > 0);
      const expected: string[] = [];
      const write = async (prefix: string, count: number) => {
        await appendNumbered(log, prefix, 0, count);
        expected.push(...numbered(prefix, count));
      };
      await write("before", 300);
      await client.waitFor(expected.length);

      const leader = await streamLeader(servers, "LOGWISP");
      const killed = cluster.nodes.find((node) => node.name === leader)!;
      await killed.kill();
      for (let round = 0; round < 10; round++) await write(`after-kill-${round}`, 30);
      await client.waitFor(expected.length, 60_000);
      assertExactlyOnce(client.received, expected);
    } finally {
      await publisher.stop();
      await gateway.stop();
    }
  },
);

Deno.test("what would stop publishing at startup is a configuration error, for --check too", async () => {
  await using dir = await tempDir("logwisp_nats_sys_");
  const config = join(dir.path, "logwisp.toml");
  const toml = publisherToml({
    dir: dir.path,
    name: "app",
    host: "",
    servers: ["nats://127.0.0.1:1"],
    port: freePort(),
  });
  await Deno.writeTextFile(
    config,
    toml.replace(/\[streams\.publish\]\n/, (table) => `${table}token_file = "missing.token"\n`),
  );
  for (const args of [["--config", config], ["--check", "--config", config]]) {
    const { code, stderr } = await runCli(args, {
      permissions: [`--allow-read=${dir.path}`, "--allow-net"],
    });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^logwisp: configuration errors \(2\):$/m);
    assert.match(
      stderr,
      /logwisp\.toml: streams\[0\]\.publish\.token_file: .*missing\.token/,
    );
    assert.match(
      stderr,
      /logwisp\.toml: streams\[0\]\.publish\.host_name: \{host\} needs the host name: set host_name, or allow reading it with --allow-sys=hostname/,
    );
  }
});

Deno.test("the fleet example's LogWisp configurations pass --check", async () => {
  for (const name of ["publisher-1.toml", "publisher-2.toml", "gateway.toml"]) {
    const { code, stdout, stderr } = await runCli([
      "--check",
      "--config",
      `${ROOT}deploy/nats/${name}`,
    ]);
    assert.equal(code, 0, `${name}: ${stderr}`);
    assert.match(stdout, /^ {2}(publish|source) {2,3}nats nats:\/\/nats-1:4222/m);
  }
});

natsTest("the fleet example's nats-server configuration is valid", async () => {
  const { code, stderr } = await new Deno.Command("nats-server", {
    args: ["-t", "-c", `${ROOT}deploy/nats/nats.conf`],
    env: { NATS_NAME: "nats-1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
});

natsTest(
  "a client resumes from far before a gateway's ring: the rest is read from JetStream",
  async () => {
    await using dir = await tempDir("logwisp_nats_history_");
    await using nats = await startNatsServer();
    const servers = [nats.url];
    const log = await emptyLog(dir.path);
    const ports = { publisher: freePort(), gateway: freePort() };
    const publisher = await startPublisher(dir.path, servers, ports.publisher);
    const gateway = await startWith(
      dir.path,
      "gateway.toml",
      gatewayToml({ servers, subjects: ["logwisp.*.app"], port: ports.gateway, bufferSize: 20 }),
    );
    try {
      const url = `http://127.0.0.1:${ports.gateway}/stream`;
      await using first = new ResumingClient(url);
      await waitFor(() => first.connections > 0);
      // In bursts the first client's queue of 20 takes whole.
      for (let i = 0; i < 300; i += 10) {
        await appendNumbered(log, "line", i, i + 10);
        await first.waitFor(i + 10);
      }

      // From the 10th entry: 270 of the 290 missed are older than the ring of 20.
      const from = first.received[9]!;
      const response = await fetch(url, { headers: { "Last-Event-ID": String(from.id) } });
      const events = new SseReader(response.body!);
      const resumed: Received[] = [];
      try {
        while (resumed.length < 290) {
          const event = await within(
            events.next(),
            10_000,
            () => `entry ${resumed.length + 1} of 290; got ${JSON.stringify(resumed.slice(-3))}`,
          );
          assert.ok(event, "the stream stayed open");
          assert.notEqual(event.event, "gap", event.data);
          if (event.event !== "message") continue;
          const entry = JSON.parse(event.data);
          resumed.push({ id: Number(event.id), message: entry.message, host: entry.fields?.host });
        }
      } finally {
        await events.cancel();
      }
      assert.deepEqual(resumed, first.received.slice(10));
    } finally {
      await publisher.stop();
      await gateway.stop();
    }
  },
);

natsTest(
  "a gateway restarted after more entries than its ring holds: its clients resume with no hole",
  async () => {
    await using dir = await tempDir("logwisp_nats_gateway_restart_");
    await using nats = await startNatsServer();
    const servers = [nats.url];
    const log = await emptyLog(dir.path);
    const ports = { publisher: freePort(), gateway: freePort() };
    const publisher = await startPublisher(dir.path, servers, ports.publisher);
    const gatewayConfig = gatewayToml({
      servers,
      subjects: ["logwisp.*.app"],
      port: ports.gateway,
      bufferSize: 20,
    });
    let gateway = await startWith(dir.path, "gateway.toml", gatewayConfig);
    try {
      await using client = new ResumingClient(`http://127.0.0.1:${ports.gateway}/stream`);
      await waitFor(() => client.connections > 0);
      const expected = numbered("before", 10);
      await appendNumbered(log, "before", 0, 10);
      await client.waitFor(10);

      const connections = client.connections;
      await gateway.stop();
      // Five rings' worth while the gateway is away.
      for (let i = 0; i < 100; i += 10) await appendNumbered(log, "away", i, i + 10);
      expected.push(...numbered("away", 100));
      await waitFor(async () => (await storedMessages(servers)).length === 110);
      gateway = await startWith(dir.path, "gateway.toml", gatewayConfig);
      await waitFor(() => client.connections > connections, { timeoutMs: 30_000 });
      await client.waitFor(expected.length);
      assertExactlyOnce(client.received, expected);
      assert.deepEqual(client.gaps, []);
    } finally {
      await publisher.stop();
      await gateway.stop();
    }
  },
);
