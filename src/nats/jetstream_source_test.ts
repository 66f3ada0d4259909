import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { waitFor, within } from "../_test_utils.ts";
import type { LogEntry } from "../entry/entry.ts";
import {
  collectingLog,
  createStream,
  type NatsServer,
  publishConfig,
  sourceConfig,
  startNatsServer,
} from "../../tests/_nats.ts";
import { checkSourceConfig, JetStreamSource, type SourceEntry } from "./jetstream_source.ts";
import { JetStreamPublisher, natsMessageId, type PublishItem } from "./publisher.ts";

const FAST = { minMs: 50, maxMs: 250 };

function items(from: number, to: number, host = "web-1", stream = "app"): PublishItem[] {
  const batch: PublishItem[] = [];
  for (let i = from; i < to; i++) {
    const entry: LogEntry = {
      time: "2024-01-01T12:00:00.000000Z",
      source: `${stream}.log`,
      level: i % 2 ? "INFO" : "WARN",
      message: `line ${i}`,
    };
    batch.push({ entry, id: natsMessageId({ host, stream, file: "1:2", offset: i * 100 }) });
  }
  return batch;
}

function lines(entries: readonly SourceEntry[]): number[] {
  return entries.map((entry) => Number(entry.entry.message.split(" ")[1]));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** A publisher for `host` and `stream` on `server`, and a way to publish and wait. */
async function publisher(server: NatsServer, host = "web-1", stream = "app") {
  const opened = await JetStreamPublisher.open({
    config: publishConfig([server.url]),
    stream,
    host,
    log: collectingLog(),
    backoff: FAST,
  });
  return Object.assign(opened, {
    async send(batch: PublishItem[]) {
      await opened.publish(batch);
      await within(opened.flush(), 15_000, "acknowledgements");
    },
  });
}

/** A source collecting what it delivers. */
async function source(
  server: NatsServer,
  options: { subjects?: string[]; afterSeq?: number; maxBatch?: number; backfill?: number } = {},
) {
  const received: SourceEntry[] = [];
  const batches: number[] = [];
  const log = collectingLog();
  const opened = await JetStreamSource.open({
    config: sourceConfig([server.url], options.subjects),
    stream: "fleet",
    log,
    backoff: FAST,
    onEntries: (batch) => {
      batches.push(batch.length);
      received.push(...batch);
    },
    ...(options.afterSeq !== undefined && { afterSeq: options.afterSeq }),
    ...(options.maxBatch !== undefined && { maxBatch: options.maxBatch }),
    ...(options.backfill !== undefined && { backfill: options.backfill }),
  });
  return Object.assign(opened, { received, batches, log });
}

Deno.test("source: thousands of entries arrive in order, once, with their sequence and host", async () => {
  await using server = await startNatsServer();
  await using pub = await publisher(server, "web-1.example.com");
  await using src = await source(server, { afterSeq: 0, maxBatch: 500 });
  const total = 5_000;
  for (let i = 0; i < total; i += 250) await pub.publish(items(i, i + 250));
  await waitFor(() => src.received.length >= total, {
    timeoutMs: 20_000,
    message: () => `${src.received.length} of ${total}; ${src.log.lines.join("\n")}`,
  });
  assert.equal(src.received.length, total);
  assert.deepEqual(lines(src.received), range(0, total));
  assert.deepEqual(src.received.map((entry) => entry.seq), range(1, total + 1));
  assert.ok(Math.max(...src.batches) <= 500);
  assert.deepEqual(src.received[7], {
    seq: 8,
    subject: "logwisp.web-1_example_com.app",
    entry: {
      time: "2024-01-01T12:00:00.000000Z",
      source: "app.log",
      level: "INFO",
      message: "line 7",
      fields: { host: "web-1.example.com" },
    },
  });
  assert.deepEqual(src.stats, { state: "connected", delivered: total, invalid: 0, lastSeq: total });
});

Deno.test("source: a NATS restart mid-publish loses no entry and repeats none", async () => {
  await using server = await startNatsServer();
  await using pub = await publisher(server);
  await using src = await source(server, { afterSeq: 0 });
  const total = 20_000;
  let restarted: Promise<void> | undefined;
  for (let i = 0; i < total; i += 100) {
    await pub.publish(items(i, i + 100));
    if (!restarted && src.received.length >= 5_000) {
      await server.kill();
      restarted = server.restart();
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await restarted;
  await waitFor(() => src.received.length >= total, {
    timeoutMs: 30_000,
    message: () => `${src.received.length} of ${total}; ${src.log.lines.join("\n")}`,
  });
  assert.ok(src.log.lines.some((line) => /lost; reconnecting/.test(line)), "the source saw it");
  assert.deepEqual(lines(src.received), range(0, total));
  assert.deepEqual(src.received.map((entry) => entry.seq), range(1, total + 1));
});

Deno.test("source: one wildcard subject reads the same stream of two hosts, and nothing else", async () => {
  await using server = await startNatsServer();
  await using web1 = await publisher(server, "web-1");
  await using web2 = await publisher(server, "web-2");
  await using sys = await publisher(server, "web-1", "sys");
  await using src = await source(server, { subjects: ["logwisp.*.app"], afterSeq: 0 });
  for (let i = 0; i < 1_000; i += 100) {
    await Promise.all([
      web1.publish(items(i, i + 100, "web-1")),
      web2.publish(items(i, i + 100, "web-2")),
      sys.publish(items(i, i + 100, "web-1", "sys")),
    ]);
  }
  await Promise.all([web1.flush(), web2.flush(), sys.flush()]);
  await waitFor(() => src.received.length >= 2_000, {
    message: () => `${src.received.length} of 2000; ${src.log.lines.join("\n")}`,
  });
  const of = (host: string) => src.received.filter((entry) => entry.entry.fields?.host === host);
  assert.deepEqual(lines(of("web-1")), range(0, 1_000));
  assert.deepEqual(lines(of("web-2")), range(0, 1_000));
  assert.equal(src.received.length, 2_000);
  assert.ok(src.received.every((entry) => entry.entry.source === "app.log"));
  const seqs = src.received.map((entry) => entry.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
});

Deno.test("source: several subjects are read exactly, through one filter that covers them", async () => {
  await using server = await startNatsServer();
  await using app1 = await publisher(server, "web-1", "app");
  await using sys2 = await publisher(server, "web-2", "sys");
  await using other = await publisher(server, "web-3", "app");
  await using src = await source(server, {
    subjects: ["logwisp.web-1.app", "logwisp.web-2.sys"],
    afterSeq: 0,
  });
  await app1.send(items(0, 50, "web-1"));
  await other.send(items(0, 50, "web-3"));
  await sys2.send(items(0, 50, "web-2", "sys"));
  await waitFor(() => src.received.length >= 100);
  const subjects = new Set(src.received.map((entry) => entry.subject));
  assert.deepEqual([...subjects].sort(), ["logwisp.web-1.app", "logwisp.web-2.sys"]);
  assert.equal(src.received.length, 100);
});

Deno.test("source: history() and last() read JetStream beyond what was delivered", async () => {
  await using server = await startNatsServer();
  await using web1 = await publisher(server, "web-1");
  await using web2 = await publisher(server, "web-2");
  await using sys = await publisher(server, "web-1", "sys");
  for (let i = 0; i < 1_000; i += 100) {
    await web1.send(items(i, i + 100, "web-1"));
    await sys.send(items(i, i + 100, "web-1", "sys"));
    await web2.send(items(i, i + 100, "web-2"));
  }
  // Round r of 300 sequences: web-1 app lines 100r… at 300r+1…, web-1 sys at 300r+101…,
  // web-2 app lines 100r… at 300r+201….
  await using src = await source(server, { subjects: ["logwisp.*.app"] });
  await waitFor(() => src.state === "connected");

  const page = await src.history(100, 50);
  assert.deepEqual(page.entries.map((entry) => entry.seq), range(201, 251));
  assert.deepEqual(lines(page.entries), range(0, 50));
  assert.deepEqual({ firstSeq: page.firstSeq, lastSeq: page.lastSeq }, {
    firstSeq: 1,
    lastSeq: 3_000,
  });
  const skipping = await src.history(50, 100);
  assert.deepEqual(skipping.entries.map((entry) => entry.seq), [
    ...range(51, 101),
    ...range(201, 251),
  ]);
  const until = await src.history(2_950, 100, { untilSeq: 2_960 });
  assert.deepEqual(until.entries.map((entry) => entry.seq), range(2_951, 2_961));
  assert.deepEqual((await src.history(3_000, 10)).entries, []);

  const tail = await src.last(20);
  assert.deepEqual(tail.map((entry) => entry.seq), range(2_981, 3_001));
  assert.deepEqual(lines(tail), range(980, 1_000));
  const web1Tail = await src.last(150, { match: (entry) => entry.entry.fields?.host === "web-1" });
  assert.deepEqual(lines(web1Tail), range(850, 1_000));
  assert.ok(web1Tail.every((entry) => entry.subject === "logwisp.web-1.app"));
  const before = await src.last(3, { beforeSeq: 202 });
  assert.deepEqual(before.map((entry) => entry.seq), [99, 100, 201]);
  const everything = await src.last(5_000);
  assert.equal(everything.length, 2_000);
  const bounded = await src.last(5_000, { maxScan: 500 });
  assert.equal(bounded.length, 500);
  assert.equal(bounded.at(-1)!.seq, 3_000);
  assert.equal(src.received.length, 0, "a source without afterSeq delivers only new entries");

  await web2.send(items(1_000, 1_001, "web-2"));
  await waitFor(() => src.received.length === 1);
  assert.equal(src.received[0]!.seq, 3_001);
});

Deno.test("source: history() says what retention removed", async () => {
  await using server = await startNatsServer();
  await createStream([server.url], "LOGWISP", { subjects: ["logwisp.>"], maxMessages: 100 });
  await using pub = await publisher(server);
  await pub.send(items(0, 250));
  await using src = await source(server);
  const page = await src.history(10, 20);
  assert.equal(page.firstSeq, 151);
  assert.deepEqual(page.entries.map((entry) => entry.seq), range(151, 171));
});

Deno.test("source: a message that is not an entry is counted and skipped", async () => {
  await using server = await startNatsServer();
  await using pub = await publisher(server);
  await pub.send(items(0, 1));
  await using src = await source(server, { afterSeq: 0 });
  await using nc = await connect({ servers: server.url });
  for (const body of ["not json", '{"message":"no time"}', "[1,2]"]) {
    nc.publish("logwisp.web-1.app", body);
  }
  await nc.flush();
  await pub.send(items(1, 2));
  await waitFor(() => src.received.length >= 2, { message: () => src.log.lines.join("\n") });
  assert.deepEqual(lines(src.received), [0, 1]);
  assert.deepEqual(src.received.map((entry) => entry.seq), [1, 5]);
  assert.equal(src.stats.invalid, 3);
  assert.equal(
    src.log.lines.filter((line) =>
      /skipped messages on "logwisp\.web-1\.app" that are not/.test(line)
    )
      .length,
    1,
  );
});

Deno.test("source: starts while NATS is down and delivers once it is up", async () => {
  await using server = await startNatsServer();
  await using pub = await publisher(server);
  await pub.send(items(0, 10));
  await server.kill();
  await using src = await source(server, { afterSeq: 5 });
  assert.equal(src.state, "reconnecting");
  await assert.rejects(
    src.history(0, 10, { timeoutMs: 200 }),
    /Cannot read from JetStream: NATS is not reachable/,
  );
  await server.restart();
  await waitFor(() => src.received.length >= 5, {
    timeoutMs: 15_000,
    message: () => src.log.lines.join("\n"),
  });
  assert.deepEqual(lines(src.received), range(5, 10));
  assert.equal(src.state, "connected");
});

Deno.test("source: a position beyond the stream's end (a stream created again) reads on from its end", async () => {
  await using server = await startNatsServer();
  await using pub = await publisher(server);
  await pub.send(items(0, 10));
  await using src = await source(server, { afterSeq: 500 });
  await waitFor(() => src.log.lines.some((line) => /ends at sequence 10, before 500/.test(line)), {
    message: () => src.log.lines.join("\n"),
  });
  await pub.send(items(10, 12));
  await waitFor(() => src.received.length >= 2);
  assert.deepEqual(src.received.map((entry) => entry.seq), [11, 12]);
});

Deno.test("checkSourceConfig() reports subjects and stream name by key", async () => {
  const issues = await checkSourceConfig(
    sourceConfig(["nats://n:4222"], ["logwisp.>.app", "ok.*"], { jetstreamStream: "" }),
    "streams[1].source",
  );
  assert.deepEqual(issues.map((issue) => issue.key), [
    "streams[1].source.jetstream_stream",
    "streams[1].source.subjects[0]",
  ]);
  const none = await checkSourceConfig(sourceConfig(["nats://n:4222"], []), "s");
  assert.deepEqual(none, [{ key: "s.subjects", message: "required: at least one subject" }]);
});

Deno.test("source: a backfill starts that many sequences before the end, then follows", async () => {
  await using server = await startNatsServer();
  await using pub = await publisher(server);
  await pub.send(items(0, 10));
  await using src = await source(server, { backfill: 3 });
  await waitFor(() => src.received.length >= 3);
  await pub.send(items(10, 12));
  await waitFor(() => src.received.length >= 5);
  assert.deepEqual(lines(src.received), [7, 8, 9, 10, 11]);
  assert.deepEqual(src.received.map((entry) => entry.seq), [8, 9, 10, 11, 12]);
});
