import assert from "node:assert/strict";
import type { LogEntry } from "../entry/entry.ts";
import { Hub, utf8Length } from "./hub.ts";

const entry = (message: string): LogEntry => ({
  time: "2024-01-01T00:00:00.000000Z",
  source: "a.log",
  message,
});
const decode = (bytes: Uint8Array | null) => bytes ? new TextDecoder().decode(bytes) : "";

/** The sequence numbers in an SSE payload. */
const ids = (sse: string) => [...sse.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));

Deno.test("Hub numbers entries from 1 and encodes each once for all clients of a transport", async () => {
  const hub = new Hub(10);
  const a = hub.subscribe({ transport: "sse", remoteAddr: "a", bufferSize: 10 });
  const b = hub.subscribe({ transport: "sse", remoteAddr: "b", bufferSize: 10 });
  const c = hub.subscribe({ transport: "tcp", remoteAddr: "c", bufferSize: 10 });
  hub.publish(entry("one"));
  const [sseA, sseB, tcp] = await Promise.all([a.queue.take(), b.queue.take(), c.queue.take()]);
  assert.strictEqual(sseA, sseB, "one encoding shared by every SSE client");
  assert.equal(
    decode(sseA),
    'id: 1\ndata: {"time":"2024-01-01T00:00:00.000000Z","source":"a.log","message":"one"}\n\n',
  );
  assert.equal(
    decode(tcp),
    '{"time":"2024-01-01T00:00:00.000000Z","source":"a.log","message":"one"}\n',
  );
  assert.equal(hub.lastSeq, 1);
});

Deno.test("Hub drops for a full client only, and counts it", async () => {
  const hub = new Hub(0);
  const slow = hub.subscribe({ transport: "tcp", remoteAddr: "slow", bufferSize: 2 });
  const fast = hub.subscribe({ transport: "tcp", remoteAddr: "fast", bufferSize: 2 });
  const received: string[] = [];
  for (let i = 1; i <= 5; i++) {
    hub.publish(entry(`e${i}`));
    received.push(decode(await fast.queue.take()));
  }
  assert.deepEqual(received.map((text) => JSON.parse(text).message), [
    "e1",
    "e2",
    "e3",
    "e4",
    "e5",
  ]);
  assert.equal(slow.queue.dropped, 3);
  assert.equal(fast.queue.dropped, 0);
  assert.equal(hub.droppedEntries, 3);
});

Deno.test("Hub resume queues exactly the entries after Last-Event-ID, then live ones", async () => {
  const hub = new Hub(5);
  for (let i = 1; i <= 8; i++) hub.publish(entry(`e${i}`));
  const resumed = hub.subscribe({ transport: "sse", remoteAddr: "r", bufferSize: 5, after: 6 });
  assert.equal(resumed.gap, undefined);
  hub.publish(entry("e9"));
  assert.deepEqual(ids(decode(await resumed.queue.take())), [7, 8, 9]);
});

Deno.test("Hub resume from before the ring reports the gap", async () => {
  const hub = new Hub(3);
  for (let i = 1; i <= 10; i++) hub.publish(entry(`e${i}`));
  const resumed = hub.subscribe({ transport: "sse", remoteAddr: "r", bufferSize: 3, after: 2 });
  assert.deepEqual(resumed.gap, { from: 3, to: 7 });
  assert.deepEqual(ids(decode(await resumed.queue.take())), [8, 9, 10]);
});

Deno.test("Hub resume with an ID from before a restart sends the whole ring", async () => {
  const hub = new Hub(3);
  for (let i = 1; i <= 2; i++) hub.publish(entry(`e${i}`));
  const resumed = hub.subscribe({ transport: "sse", remoteAddr: "r", bufferSize: 3, after: 5000 });
  assert.equal(resumed.gap, undefined);
  assert.deepEqual(ids(decode(await resumed.queue.take())), [1, 2]);
  const caughtUp = hub.subscribe({ transport: "sse", remoteAddr: "r", bufferSize: 3, after: 2 });
  assert.equal(caughtUp.queue.length, 0);
  assert.equal(caughtUp.gap, undefined);
});

Deno.test("Hub without a ring reports everything missed as a gap", () => {
  const hub = new Hub(0);
  for (let i = 1; i <= 4; i++) hub.publish(entry(`e${i}`));
  const resumed = hub.subscribe({ transport: "sse", remoteAddr: "r", bufferSize: 3, after: 1 });
  assert.deepEqual(resumed.gap, { from: 2, to: 4 });
  assert.equal(resumed.queue.length, 0);
});

Deno.test("Hub evicts clients whose queue stayed full, and counts them", () => {
  const hub = new Hub(0);
  const stuck = hub.subscribe({ transport: "tcp", remoteAddr: "stuck", bufferSize: 1 });
  const sse = hub.subscribe({ transport: "sse", remoteAddr: "sse", bufferSize: 1 });
  let terminated = false;
  stuck.onTerminate = () => terminated = true;
  hub.publish(entry("fills"));
  hub.publish(entry("dropped"));
  const since = stuck.queue.fullSince!;
  hub.evictStuck("tcp", 1000, since + 999);
  assert.equal(hub.clients.size, 2);
  hub.evictStuck("tcp", 1000, since + 1000);
  assert.ok(terminated);
  assert.deepEqual([...hub.clients], [sse]);
  assert.equal(hub.evictedClients, 1);
});

Deno.test("Hub.publishAll lets draining clients keep up with a burst larger than their queue", async () => {
  const hub = new Hub(0);
  const client = hub.subscribe({ transport: "tcp", remoteAddr: "fast", bufferSize: 100 });
  let lines = 0;
  const reading = (async () => {
    for (let chunk; (chunk = await client.queue.take()) !== null;) {
      lines += decode(chunk).split("\n").length - 1;
    }
  })();
  await hub.publishAll(Array.from({ length: 10_000 }, (_, i) => entry(`e${i}`)));
  client.close();
  await reading;
  assert.equal(lines, 10_000);
  assert.equal(hub.droppedEntries, 0);
});

Deno.test("Hub.publishAll encodes a batch in one buffer; every frame is its own entry", async () => {
  const hub = new Hub(10);
  const tcp = hub.subscribe({ transport: "tcp", remoteAddr: "t", bufferSize: 10 });
  const messages = ["ascii", "café", "emoji 🎉 done", "lone \ud800 surrogate", "日本語", "end"];
  await hub.publishAll(messages.map(entry));
  // Adjacent views of one buffer reach the writer as one view, not a copy.
  const lines = decode(await tcp.queue.take()).split("\n").slice(0, -1);
  // JSON.stringify escapes the lone surrogate, so it survives as text.
  assert.deepEqual(lines.map((line) => JSON.parse(line).message), messages);
  // A client resuming later gets the ring's frames with the same bytes, one by one.
  const sse = hub.subscribe({ transport: "sse", remoteAddr: "s", bufferSize: 10, after: 2 });
  const events = decode(await sse.queue.take()).split("\n\n").slice(0, -1);
  assert.deepEqual(ids(events.join("\n")), [3, 4, 5, 6]);
  assert.equal(JSON.parse(events[0]!.split("data: ")[1]!).message, "emoji 🎉 done");
});

Deno.test("utf8Length matches TextEncoder", () => {
  const encoder = new TextEncoder();
  for (const text of ["", "abc", "é", "€", "🎉", "\ud800", "\udc00x", "a\ud83c\udf89b", "日本"]) {
    assert.equal(utf8Length(text), encoder.encode(text).length, JSON.stringify(text));
  }
});
