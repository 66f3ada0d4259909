/**
 * JetStream publishing and reading figures against a real `nats-server -js` on this
 * machine: acknowledged publish rate, latency from publish() to the source's delivery, and
 * the time to recover from a NATS restart. A script that prints:
 *
 * ```sh
 * deno run -A src/nats/jetstream_bench.ts
 * ```
 *
 * @module
 */
import { settledWithin } from "../async.ts";
import type { LogEntry } from "../entry/entry.ts";
import {
  collectingLog,
  type NatsServer,
  publishConfig,
  sourceConfig,
  startNatsServer,
} from "../../tests/_nats.ts";
import { JetStreamSource, type SourceEntry } from "./jetstream_source.ts";
import { JetStreamPublisher, natsMessageId, type PublishItem } from "./publisher.ts";

/** The one place this script writes to stdout: the results. */
function print(text: string): void {
  // deno-lint-ignore no-console
  console.log(text);
}

const MESSAGE = "GET /api/v1/users/12345 200 12ms user=alice request_id=8f3a2c1e-5b7d-4e9a";

function batch(from: number, count: number): PublishItem[] {
  const items: PublishItem[] = [];
  for (let i = from; i < from + count; i++) {
    const entry: LogEntry = {
      time: new Date().toISOString(),
      source: "app.log",
      level: "INFO",
      message: `${MESSAGE} n=${i}`,
    };
    items.push({
      entry,
      id: natsMessageId({ host: "bench", stream: "app", file: "1:2", offset: i }),
    });
  }
  return items;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function openPublisher(server: NatsServer, window?: number): Promise<JetStreamPublisher> {
  return JetStreamPublisher.open({
    config: publishConfig([server.url]),
    stream: "app",
    host: "bench",
    log: collectingLog(),
    backoff: { minMs: 50, maxMs: 250 },
    ...(window !== undefined && { window }),
  });
}

/**
 * Entries per second from the first publish() to the last acknowledgement, and the time
 * publish() itself takes per entry (what the file reader pays).
 */
async function publishRate(
  window: number | undefined,
  total: number,
): Promise<{ rate: number; callMicros: number }> {
  await using server = await startNatsServer();
  await using publisher = await openPublisher(server, window);
  await publisher.publish(batch(0, 1));
  await publisher.flush();
  const batches: PublishItem[][] = [];
  for (let i = 1; i <= total; i += 1_000) batches.push(batch(i, 1_000));
  let inCalls = 0;
  const start = performance.now();
  for (const items of batches) {
    const before = performance.now();
    const taken = publisher.publish(items);
    inCalls += performance.now() - before;
    await taken;
  }
  await publisher.flush();
  return {
    rate: total / ((performance.now() - start) / 1_000),
    callMicros: inCalls * 1_000 / total,
  };
}

/**
 * Milliseconds from publish() to the source's onEntries, at `rate` entries per second for
 * `seconds`, after a first second left out (compilation, consumer start).
 */
async function latency(rate: number, seconds: number): Promise<number[]> {
  await using server = await startNatsServer();
  await using publisher = await openPublisher(server);
  await publisher.publish(batch(0, 1));
  await publisher.flush();
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  await using _source = await JetStreamSource.open({
    config: sourceConfig([server.url]),
    stream: "fleet",
    log: collectingLog(),
    onEntries: (entries: SourceEntry[]) => {
      const now = performance.now();
      received += entries.length;
      for (const { entry } of entries) {
        const at = sentAt.get(entry.message);
        if (at !== undefined) latencies.push(now - at);
      }
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const perTick = Math.max(1, Math.round(rate / 100));
  let n = 1;
  const start = performance.now();
  const end = start + (seconds + 1) * 1_000;
  while (performance.now() < end) {
    const items = batch(n, perTick);
    n += perTick;
    const now = performance.now();
    if (now - start > 1_000) { for (const item of items) sentAt.set(item.entry.message, now); }
    await publisher.publish(items);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await publisher.flush();
  const deadline = Date.now() + 10_000;
  while (received < n - 1 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return latencies.sort((a, b) => a - b);
}

/**
 * After a kill and restart of nats-server under steady publishing: milliseconds from the
 * server being ready again to the first acknowledgement, and to the first entry the source
 * delivers that was published after the restart began.
 */
async function recovery(): Promise<{ ack: number; delivery: number; lost: number }> {
  await using server = await startNatsServer();
  await using publisher = await openPublisher(server);
  let delivered = 0;
  let firstAfter = 0;
  let restartedAt = Infinity;
  const seen = new Set<string>();
  await using _source = await JetStreamSource.open({
    config: sourceConfig([server.url]),
    stream: "fleet",
    log: collectingLog(),
    afterSeq: 0,
    onEntries: (entries) => {
      delivered += entries.length;
      for (const { entry } of entries) seen.add(entry.message);
      if (firstAfter === 0 && performance.now() > restartedAt) firstAfter = performance.now();
    },
  });
  let n = 0;
  const publishing = (async () => {
    while (n < 6_000) {
      await publisher.publish(batch(n, 10));
      n += 10;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  while (delivered < 1_000) await new Promise((resolve) => setTimeout(resolve, 5));
  await server.kill();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await server.restart();
  restartedAt = performance.now();
  const published = publisher.stats.published;
  while (publisher.stats.published === published) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const ack = performance.now() - restartedAt;
  while (firstAfter === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  await publishing;
  await publisher.flush();
  await settledWithin(new Promise((resolve) => setTimeout(resolve, 2_000)), 2_000);
  let lost = 0;
  for (const item of batch(0, n)) if (!seen.has(item.entry.message)) lost++;
  return { ack, delivery: firstAfter - restartedAt, lost };
}

if (import.meta.main) {
  for (const window of [64, undefined, 512, 2048]) {
    const runs: { rate: number; callMicros: number }[] = [];
    for (let run = 0; run < 3; run++) runs.push(await publishRate(window, 100_000));
    const label = window === undefined ? "256 (default)" : String(window);
    print(
      `acknowledged publish, window ${label}: ${
        runs.map((run) => Math.round(run.rate).toLocaleString("en")).join(", ")
      } entries/s; publish() takes ${
        runs.map((run) => run.callMicros.toFixed(2)).join(", ")
      } µs per entry`,
    );
  }
  for (const rate of [1_000, 10_000]) {
    const sorted = await latency(rate, 10);
    print(
      `publish() → source delivery at ${rate.toLocaleString("en")}/s: p50 ${
        percentile(sorted, 0.5).toFixed(1)
      } ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms (${sorted.length} entries)`,
    );
  }
  for (let run = 0; run < 3; run++) {
    const { ack, delivery, lost } = await recovery();
    print(
      `nats-server restart: first ack ${ack.toFixed(0)} ms, first new entry delivered ${
        delivery.toFixed(0)
      } ms after the server was ready; ${lost} entries lost`,
    );
  }
}
