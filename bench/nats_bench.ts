/**
 * Scaling out with NATS, end to end: a publishing LogWisp following a file, a real
 * `nats-server` with JetStream, and a gateway LogWisp serving the subject to one SSE
 * client. Prints acknowledged entries per second from file to gateway client, latency at
 * 1,000 lines/s (p50/p99), and the time from a NATS restart to the first new line at the
 * client. Figures are printed, never asserted.
 *
 *   deno run -A bench/nats_bench.ts
 *
 * @module
 */
import { join } from "node:path";
import { SseReader, waitFor } from "../src/_test_utils.ts";
import { freePort, type LogWisp, startLogWisp } from "../tests/_logwisp.ts";
import { startNatsServer } from "../tests/_nats.ts";
import { note, print, sleep, wallNow } from "./e2e_bench.ts";

const THROUGHPUT_LINES = 100_000;
const LATENCY_RATE = 1000;
const LATENCY_MS = 5000;

/** Receives entries at the gateway: their messages and arrival times. */
class Receiver {
  readonly messages: string[] = [];
  readonly arrivals: number[] = [];
  readonly #events: SseReader;
  readonly #done: Promise<void>;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#events = new SseReader(body);
    this.#done = this.#read();
  }

  async #read(): Promise<void> {
    try {
      for (let event = await this.#events.next(); event; event = await this.#events.next()) {
        if (event.event !== "message") continue;
        this.messages.push(JSON.parse(event.data).message);
        this.arrivals.push(wallNow());
      }
    } catch {
      // Cancelled at the end.
    }
  }

  async close(): Promise<void> {
    await this.#events.cancel().catch(() => {});
    await this.#done;
  }
}

/** Entries the publishing LogWisp has had acknowledged, from its status. */
async function publishedEntries(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/status`);
  return (await response.json()).publish.published_entries;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "logwisp_nats_bench_" });
  await using nats = await startNatsServer();
  const log = join(dir, "app.log");
  await Deno.writeTextFile(log, "");
  const gatewayPort = freePort();
  const start = async (name: string, toml: string): Promise<LogWisp> => {
    const path = join(dir, `${name}.toml`);
    await Deno.writeTextFile(path, toml);
    return await startLogWisp(["--config", path, "--quiet"]);
  };
  const publisherPort = freePort();
  const publisher = await start(
    "publisher",
    `[[streams]]
name = "app"
[streams.monitor]
targets = [{ path = "${log}", is_file = true }]
[streams.publish]
type = "nats"
servers = ["${nats.url}"]
host_name = "bench"
create_stream = true
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${publisherPort}
`,
  );
  const gateway = await start(
    "gateway",
    `[[streams]]
name = "fleet"
[streams.source]
type = "nats"
servers = ["${nats.url}"]
subjects = ["logwisp.*.app"]
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${gatewayPort}
buffer_size = 200000
`,
  );
  const response = await fetch(`http://127.0.0.1:${gatewayPort}/stream`);
  const receiver = new Receiver(response.body!);
  try {
    // Warm-up: the stream is created on the first publish.
    await Deno.writeTextFile(log, "warm-up\n", { append: true });
    await waitFor(() => receiver.messages.length >= 1, { timeoutMs: 30_000 });

    note(`throughput: ${THROUGHPUT_LINES} lines`);
    let text = "";
    for (let i = 0; i < THROUGHPUT_LINES; i++) {
      text += `throughput line ${i} ${"x".repeat(60)}\n`;
    }
    const before = receiver.messages.length;
    const publishedBefore = await publishedEntries(publisherPort);
    const started = wallNow();
    await Deno.writeTextFile(log, text, { append: true });
    let acknowledgedAt = 0;
    await waitFor(async () => {
      if (
        acknowledgedAt === 0 &&
        await publishedEntries(publisherPort) >= publishedBefore + THROUGHPUT_LINES
      ) acknowledgedAt = wallNow();
      return receiver.messages.length >= before + THROUGHPUT_LINES;
    }, { timeoutMs: 300_000, intervalMs: 20 });
    const throughput = THROUGHPUT_LINES / ((wallNow() - started) / 1000);
    const acknowledged = THROUGHPUT_LINES / ((acknowledgedAt - started) / 1000);

    note(`latency: ${LATENCY_RATE} lines/s for ${LATENCY_MS} ms`);
    const latencyFrom = receiver.messages.length;
    const count = (LATENCY_RATE * LATENCY_MS) / 1000;
    const writeStart = wallNow();
    for (let i = 0; i < count; i++) {
      const due = writeStart + (i * 1000) / LATENCY_RATE;
      const wait = due - wallNow();
      if (wait > 0) await sleep(wait);
      await Deno.writeTextFile(log, `latency ${wallNow().toFixed(3)}\n`, { append: true });
    }
    await waitFor(() => receiver.messages.length >= latencyFrom + count, { timeoutMs: 60_000 });
    const latencies = receiver.messages.slice(latencyFrom, latencyFrom + count).map(
      (message, i) => receiver.arrivals[latencyFrom + i]! - Number(message.split(" ")[1]),
    );

    note("recovery: kill and restart nats-server");
    await nats.kill();
    await sleep(500);
    await nats.restart();
    const restarted = wallNow();
    const recoveryFrom = receiver.messages.length;
    await Deno.writeTextFile(log, "after restart\n", { append: true });
    await waitFor(() => receiver.messages.length > recoveryFrom, { timeoutMs: 60_000 });
    const recovery = receiver.arrivals[recoveryFrom]! - restarted;

    print("| figure | value |");
    print("| --- | --- |");
    print(`| file → JetStream, acknowledged | ${Math.round(acknowledged)} entries/s |`);
    print(`| file → JetStream → gateway SSE client | ${Math.round(throughput)} entries/s |`);
    print(
      `| latency at ${LATENCY_RATE} lines/s, file → gateway client (p50 / p99) | ${
        percentile(latencies, 0.5).toFixed(2)
      } / ${percentile(latencies, 0.99).toFixed(2)} ms |`,
    );
    print(
      `| NATS restarted (ready) → next line at the gateway client | ${Math.round(recovery)} ms |`,
    );
  } finally {
    await receiver.close();
    await publisher.stop();
    await gateway.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
