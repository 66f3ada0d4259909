import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { waitFor, within } from "../_test_utils.ts";
import type { LogEntry } from "../entry/entry.ts";
import {
  collectingLog,
  createStream,
  publishConfig,
  sourceConfig,
  startNatsCluster,
  startNatsServer,
  storedMessages,
  streamLeader,
} from "../../tests/_nats.ts";
import { JetStreamSource, type SourceEntry } from "./jetstream_source.ts";
import {
  checkPublishConfig,
  JetStreamPublisher,
  natsMessageId,
  publishHost,
  type PublishItem,
} from "./publisher.ts";

const FAST = { minMs: 50, maxMs: 250 };

/** Entries `line <from>` … `line <to - 1>` of host `host`, with their message ids. */
function items(from: number, to: number, host = "web-1"): PublishItem[] {
  const batch: PublishItem[] = [];
  for (let i = from; i < to; i++) {
    const entry: LogEntry = {
      time: "2024-01-01T12:00:00.000000Z",
      source: "app.log",
      level: "INFO",
      message: `line ${i}`,
    };
    batch.push({ entry, id: natsMessageId({ host, stream: "app", file: "1:2", offset: i * 100 }) });
  }
  return batch;
}

/** The line numbers of stored messages, in stream order. */
function lineNumbers(messages: readonly { body: string }[]): number[] {
  return messages.map((message) => Number(JSON.parse(message.body).message.split(" ")[1]));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

Deno.test("publisher: one message per entry, with its JSON, headers and subject", async () => {
  await using server = await startNatsServer();
  const log = collectingLog();
  await using publisher = await JetStreamPublisher.open({
    config: publishConfig([server.url]),
    stream: "app",
    host: "web-1.example.com",
    log,
    backoff: FAST,
  });
  assert.equal(publisher.subject, "logwisp.web-1_example_com.app");
  const entry: LogEntry = {
    time: "2024-01-01T12:00:00.123456Z",
    source: "app\nlog",
    level: "ERROR",
    message: "Connection timeout",
    fields: { user_id: "12345" },
  };
  await publisher.publish([{ entry, id: "id-1" }, ...items(1, 3)]);
  await within(publisher.flush(), 10_000, "acknowledgements");
  const [first, ...rest] = await storedMessages([server.url]);
  assert.equal(first!.subject, "logwisp.web-1_example_com.app");
  assert.equal(first!.body, JSON.stringify(entry));
  assert.deepEqual(first!.headers, {
    "Nats-Msg-Id": "id-1",
    "LogWisp-Level": "ERROR",
    "LogWisp-Source": "app\ufffdlog",
    "LogWisp-Host": "web-1.example.com",
  });
  assert.deepEqual(lineNumbers(rest), [1, 2]);
  assert.equal(publisher.stats.published, 3);
  assert.equal(publisher.stats.pending, 0);
  assert.match(
    log.lines.join("\n"),
    /created JetStream stream "LOGWISP" for subjects "logwisp\.>"/,
  );
});

Deno.test("publisher: an entry published again with its id is stored once", async () => {
  await using server = await startNatsServer();
  await using publisher = await JetStreamPublisher.open({
    config: publishConfig([server.url]),
    stream: "app",
    host: "web-1",
    log: collectingLog(),
    backoff: FAST,
  });
  await publisher.publish(items(0, 10));
  await within(publisher.flush(), 10_000, "first acknowledgements");
  await publisher.publish(items(5, 15));
  await within(publisher.flush(), 10_000, "second acknowledgements");
  assert.deepEqual(lineNumbers(await storedMessages([server.url])), range(0, 15));
  assert.equal(publisher.stats.published, 20);
  assert.equal(publisher.stats.duplicates, 5);
});

Deno.test("publisher: max_pending_entries reached while NATS is down blocks publish() until it is back", async () => {
  await using server = await startNatsServer();
  await server.kill();
  const log = collectingLog();
  await using publisher = await JetStreamPublisher.open({
    config: publishConfig([server.url], { maxPendingEntries: 100 }),
    stream: "app",
    host: "web-1",
    log,
    backoff: FAST,
  });
  assert.equal(publisher.state, "reconnecting");
  // Taken at once: the reader is not slowed while there is room.
  await within(publisher.publish(items(0, 60)), 1_000, "publish with room");
  let returned = false;
  const blocked = publisher.publish(items(60, 150)).then(() => returned = true);
  assert.equal(publisher.state, "blocked");
  assert.equal(publisher.stats.pending, 100);
  await within(publisher.flush(AbortSignal.timeout(300)), 1_000, "flush with a deadline");
  assert.equal(returned, false);
  assert.match(log.lines.join("\n"), /blocked: 100 entries wait for JetStream/);

  await server.restart();
  await within(blocked, 15_000, () => `publish() to return; log:\n${log.lines.join("\n")}`);
  await within(publisher.flush(), 15_000, "acknowledgements");
  assert.equal(publisher.state, "connected");
  assert.deepEqual(lineNumbers(await storedMessages([server.url])), range(0, 150));
  assert.match(log.lines.join("\n"), /unblocked after [\d.]+ s; reading resumed/);
});

Deno.test("publisher: NATS killed and restarted mid-publish loses nothing and stores nothing twice", async () => {
  await using server = await startNatsServer();
  const log = collectingLog();
  await using publisher = await JetStreamPublisher.open({
    config: publishConfig([server.url]),
    stream: "app",
    host: "web-1",
    log,
    backoff: FAST,
  });
  const total = 20_000;
  let restarted: Promise<void> | undefined;
  for (let i = 0; i < total; i += 100) {
    await publisher.publish(items(i, i + 100));
    if (!restarted && publisher.stats.published >= 5_000) {
      await server.kill();
      restarted = server.restart();
    }
    // Gives the acknowledgements a turn, as a file reader does between reads.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await restarted;
  await within(publisher.flush(), 20_000, () => `acknowledgements; log:\n${log.lines.join("\n")}`);
  assert.deepEqual(lineNumbers(await storedMessages([server.url])), range(0, total));
  assert.ok(publisher.stats.retries > 0, "some entries were in flight when NATS died");
});

Deno.test("publisher: a missing stream is reported and retried until it exists, in order", async () => {
  await using server = await startNatsServer();
  const log = collectingLog();
  await using publisher = await JetStreamPublisher.open({
    config: publishConfig([server.url], { createStream: false }),
    stream: "app",
    host: "web-1",
    log,
    backoff: FAST,
  });
  // More than a window: retried while the stream appears, none may be stored before another.
  await publisher.publish(items(0, 2000));
  await waitFor(() => log.lines.some((line) => /not found/.test(line)), {
    message: () => log.lines.join("\n"),
  });
  assert.match(
    log.lines.join("\n"),
    /error stream "app": publish: JetStream stream "LOGWISP" not found: create it, or set create_stream = true/,
  );
  await using nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "LOGWISP", subjects: ["other.>"] });
  await waitFor(() => log.lines.some((line) => /does not take subject/.test(line)), {
    timeoutMs: 15_000,
    message: () => log.lines.join("\n"),
  });
  assert.match(
    log.lines.join("\n"),
    /JetStream stream "LOGWISP" does not take subject "logwisp\.web-1\.app": its subjects are \["other\.>"\]/,
  );
  await jsm.streams.update("LOGWISP", { subjects: ["other.>", "logwisp.>"] });
  await within(publisher.flush(), 15_000, "acknowledgements");
  assert.deepEqual(lineNumbers(await storedMessages([server.url])), range(0, 2000));
});

Deno.test("publisher: an entry larger than the server's payload limit arrives shortened", async () => {
  await using server = await startNatsServer({ extraConfig: "max_payload: 8192" });
  await using publisher = await JetStreamPublisher.open({
    config: publishConfig([server.url]),
    stream: "app",
    host: "web-1",
    log: collectingLog(),
    backoff: FAST,
  });
  const big: LogEntry = {
    time: "2024-01-01T12:00:00.000000Z",
    source: "app.log",
    message: "x".repeat(20_000),
  };
  await publisher.publish([{ entry: big, id: "big" }, ...items(1, 2)]);
  await within(publisher.flush(), 10_000, "acknowledgements");
  const [stored, next] = await storedMessages([server.url]);
  const entry = JSON.parse(stored!.body);
  assert.ok(entry.message.length > 1_000 && entry.message.length < 8_192);
  assert.deepEqual(entry.fields, { truncated: true });
  assert.equal(JSON.parse(next!.body).message, "line 1");
  assert.equal(publisher.stats.shortened, 1);
});

Deno.test("publisher and source: a 3-node cluster loses nothing when the stream leader dies mid-publish", async () => {
  await using cluster = await startNatsCluster(3);
  await createStream(cluster.urls, "LOGWISP", { subjects: ["logwisp.>"], replicas: 3 });
  const log = collectingLog();
  await using publisher = await JetStreamPublisher.open({
    config: publishConfig(cluster.urls, { createStream: false }),
    stream: "app",
    host: "web-1",
    log,
    backoff: FAST,
  });
  const received: SourceEntry[] = [];
  await using _source = await JetStreamSource.open({
    config: sourceConfig(cluster.urls),
    stream: "fleet",
    log,
    afterSeq: 0,
    backoff: FAST,
    onEntries: (batch) => {
      received.push(...batch);
    },
  });
  const total = 10_000;
  let killed: string | undefined;
  for (let i = 0; i < total; i += 100) {
    await publisher.publish(items(i, i + 100));
    if (!killed && publisher.stats.published >= 3_000) {
      killed = await streamLeader(cluster.urls, "LOGWISP");
      await cluster.nodes.find((node) => node.name === killed)!.kill();
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await within(publisher.flush(), 30_000, () => `acknowledgements; log:\n${log.lines.join("\n")}`);
  const alive = cluster.nodes.filter((node) => node.running).map((node) => node.url);
  const stored = await storedMessages(alive);
  // A leader that dies may take entries in flight with it while its successor stores later
  // ones: those come again, after them, never more than the publish window (256) late.
  assert.equal(describeLines(lineNumbers(stored), total, 256), "complete", log.lines.join("\n"));
  await waitFor(() => received.length >= total, {
    timeoutMs: 30_000,
    message: () => `${received.length} of ${total} read; log:\n${log.lines.join("\n")}`,
  });
  assert.deepEqual(received.map((entry) => entry.seq), stored.map((message) => message.seq));
});

/**
 * `complete` when `lines` holds 0 … total - 1 once each, each at most `slack` places from
 * its own; else what is missing, repeated or out of place.
 */
function describeLines(lines: readonly number[], total: number, slack: number): string {
  const seen = new Set(lines);
  const missing = range(0, total).filter((line) => !seen.has(line));
  const misplaced = lines.filter((line, i) => Math.abs(i - line) > slack);
  if (missing.length === 0 && seen.size === lines.length && misplaced.length === 0) {
    return "complete";
  }
  return `${lines.length} lines; missing ${JSON.stringify(missing.slice(0, 20))} ` +
    `(${missing.length}); ${lines.length - seen.size} repeated; more than ${slack} places ` +
    `away: ${JSON.stringify(misplaced.slice(0, 20))}`;
}

Deno.test("publishHost() prefers host_name, then the system's host name", () => {
  assert.equal(publishHost(publishConfig([], { hostName: "web-1" })), "web-1");
  assert.equal(publishHost(publishConfig([])), Deno.hostname());
});

Deno.test("checkPublishConfig() reports the subject template and stream name by key", async () => {
  const issues = await checkPublishConfig(
    publishConfig(["nats://n:4222"], { subject: "logs.{hostname}", jetstreamStream: "a.b" }),
    "streams[0].publish",
  );
  assert.deepEqual(issues.map((issue) => issue.key), [
    "streams[0].publish.subject",
    "streams[0].publish.jetstream_stream",
  ]);
  assert.match(issues[0]!.message, /unknown placeholder "\{hostname\}"/);
});
