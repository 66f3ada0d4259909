import assert from "node:assert/strict";
import type { LogEntry } from "../entry/entry.ts";
import type { Batch } from "./client_queue.ts";
import { type Codec, encodeTexts } from "./codec.ts";
import { runEventIds, SEQUENCE_EVENT_IDS } from "./event_ids.ts";
import { type EntryFilter, Hub, type SubscribeOptions } from "./hub.ts";
import { utf8Length } from "./published_entry.ts";

const RUN = 1_700_000_000_000;
const entry = (message: string, level?: LogEntry["level"]): LogEntry => ({
  time: "2024-01-01T00:00:00.000000Z",
  source: "a.log",
  ...(level && { level }),
  message,
});
const decode = (batch: Batch | null) => batch ? new TextDecoder().decode(batch.bytes) : "";
const encoder = new TextEncoder();

/** A codec writing `<id> <message>` lines, with a greeting naming the gap, to read tests easily. */
function lineCodec(transport = "test"): Codec & { encoded: number } {
  const codec = {
    transport,
    encoded: 0,
    encode(entries: readonly { id: string; entry: LogEntry }[]) {
      codec.encoded += entries.length;
      return encodeTexts(entries.map(({ id, entry }) => `${id} ${entry.message}\n`));
    },
    greeting: ({ gap }: { gap: unknown }) =>
      gap ? encoder.encode(`gap ${JSON.stringify(gap)}\n`) : undefined,
    heartbeat: () => encoder.encode("heartbeat\n"),
    farewell: (reason: string) => encoder.encode(`bye ${reason}\n`),
  };
  return codec;
}

function hub(ring = 10, bytes = 1 << 20): Hub {
  return new Hub({ ids: runEventIds(RUN), ring: { entries: ring, bytes } });
}

function client(options: Partial<SubscribeOptions> & { codec: Codec }): SubscribeOptions {
  return { remoteAddr: "127.0.0.1:1", limits: { entries: 10, bytes: 1 << 20 }, ...options };
}

const id = (seq: number) => `${RUN}-${seq}`;

Deno.test("Hub numbers entries from 1 per run and encodes each once per codec", async () => {
  const h = hub();
  const codec = lineCodec();
  const other = lineCodec("other");
  const a = h.subscribe(client({ codec }));
  const b = h.subscribe(client({ codec }));
  const c = h.subscribe(client({ codec: other }));
  h.publish(entry("one"));
  const [batchA, batchB, batchC] = await Promise.all([
    a.queue.take(),
    b.queue.take(),
    c.queue.take(),
  ]);
  assert.strictEqual(
    batchA!.bytes,
    batchB!.bytes,
    "one encoding shared by every client of a codec",
  );
  assert.equal(decode(batchA), `${id(1)} one\n`);
  assert.equal(decode(batchC), `${id(1)} one\n`);
  assert.equal(codec.encoded, 1);
  assert.equal(h.lastSeq, 1);
});

Deno.test("Hub drops for a full client only, counting per client and per transport", async () => {
  const h = hub(0);
  const codec = lineCodec("tcp");
  const slow = h.subscribe(client({ codec, limits: { entries: 2, bytes: 1 << 20 } }));
  const fast = h.subscribe(client({ codec, limits: { entries: 2, bytes: 1 << 20 } }));
  const received: string[] = [];
  for (let i = 1; i <= 5; i++) {
    h.publish(entry(`e${i}`));
    received.push(decode(await fast.queue.take()).trim().split(" ")[1]!);
  }
  assert.deepEqual(received, ["e1", "e2", "e3", "e4", "e5"]);
  assert.equal(slow.queue.dropped, 3);
  assert.equal(fast.queue.dropped, 0);
  assert.equal(h.droppedEntries, 3);
  assert.equal(h.totals("tcp").dropped, 3);
});

Deno.test("Hub bounds a client's queue in bytes as well as entries", () => {
  const h = hub(0);
  const c = h.subscribe(client({ codec: lineCodec(), limits: { entries: 1000, bytes: 1000 } }));
  for (let i = 0; i < 100; i++) h.publish(entry("x".repeat(90)));
  // Each frame is ~105 bytes: 9 fit in 1000.
  assert.equal(c.queue.length, 9);
  assert.ok(c.queue.bytes <= 1000);
  assert.equal(c.queue.dropped, 91);
});

Deno.test("Hub resume queues exactly the entries after Last-Event-ID, then live ones", async () => {
  const h = hub(5);
  for (let i = 1; i <= 8; i++) h.publish(entry(`e${i}`));
  const resumed = h.subscribe(client({ codec: lineCodec(), lastEventId: id(6) }));
  assert.equal(resumed.gap, undefined);
  h.publish(entry("e9"));
  assert.equal(decode(await resumed.queue.take()), `${id(7)} e7\n${id(8)} e8\n${id(9)} e9\n`);
});

Deno.test("Hub afterSeq queues what was published since, through the filter; tail is ignored", async () => {
  const h = hub(5);
  h.publish(entry("before"));
  const mark = h.lastSeq;
  h.publish(entry("meanwhile", "ERROR"));
  h.publish(entry("quiet", "INFO"));
  const late = h.subscribe(client({
    codec: lineCodec(),
    afterSeq: mark,
    tail: 5,
    filter: { matches: (e) => e.level === "ERROR" },
  }));
  h.publish(entry("live", "ERROR"));
  assert.equal(decode(await late.queue.take()), `${id(2)} meanwhile\n${id(4)} live\n`);
});

Deno.test("Hub resume from before the ring starts with a gap naming what was missed", async () => {
  const h = hub(3);
  for (let i = 1; i <= 10; i++) h.publish(entry(`e${i}`));
  const resumed = h.subscribe(client({ codec: lineCodec(), lastEventId: id(2) }));
  assert.deepEqual(resumed.gap, { reason: "evicted", from: id(3), to: id(7), missed: 5 });
  const lines = decode(await resumed.queue.take()).split("\n");
  assert.equal(lines[0], `gap ${JSON.stringify(resumed.gap)}`);
  assert.deepEqual(lines.slice(1, -1), [`${id(8)} e8`, `${id(9)} e9`, `${id(10)} e10`]);
});

Deno.test("Hub resume with an id of an earlier run gets the whole ring and a restart gap", async () => {
  const h = hub(3);
  for (let i = 1; i <= 2; i++) h.publish(entry(`e${i}`));
  const earlier = `${RUN - 60_000}-30`;
  const resumed = h.subscribe(client({ codec: lineCodec(), lastEventId: earlier }));
  assert.deepEqual(resumed.gap, { reason: "restart", missed: 0, lastEventId: earlier });
  assert.match(decode(await resumed.queue.take()), new RegExp(`${id(1)} e1\n${id(2)} e2\n$`));
  for (let i = 3; i <= 6; i++) h.publish(entry(`e${i}`));
  const later = h.subscribe(client({ codec: lineCodec(), lastEventId: earlier }));
  assert.deepEqual(later.gap, {
    reason: "restart",
    from: id(1),
    to: id(3),
    missed: 3,
    lastEventId: earlier,
  });
});

Deno.test("Hub resume from the last id, or a bare sequence number, or garbage", () => {
  const h = hub(3);
  for (let i = 1; i <= 4; i++) h.publish(entry(`e${i}`));
  const caughtUp = h.subscribe(client({ codec: lineCodec(), lastEventId: id(4) }));
  assert.equal(caughtUp.queue.length, 0);
  assert.equal(caughtUp.gap, undefined);
  assert.equal(h.subscribe(client({ codec: lineCodec(), lastEventId: "3" })).queue.length, 1);
  const garbage = h.subscribe(client({ codec: lineCodec(), lastEventId: "x-1", tail: 2 }));
  assert.equal(garbage.queue.length, 2, "an unreadable id is no id: tail applies");
});

Deno.test("Hub without a ring reports everything missed as a gap", () => {
  const h = hub(0);
  for (let i = 1; i <= 4; i++) h.publish(entry(`e${i}`));
  const resumed = h.subscribe(client({ codec: lineCodec(), lastEventId: id(1) }));
  assert.deepEqual(resumed.gap, { reason: "evicted", from: id(2), to: id(4), missed: 3 });
  assert.equal(resumed.queue.length, 0);
});

Deno.test("Hub keeps its ring within its byte bound", () => {
  const h = hub(100, 1000);
  for (let i = 0; i < 50; i++) h.publish(entry("y".repeat(100)));
  assert.ok(h.ring.bytes <= 1000, `${h.ring.bytes} bytes kept`);
  assert.ok(h.ring.entries >= 1 && h.ring.entries < 10);
});

Deno.test("Hub applies a client's filter to live entries, tail and resume, counting what it leaves out", async () => {
  const h = hub(10);
  const codec = lineCodec();
  const errors = { matches: (e: LogEntry) => e.level === "ERROR" };
  for (const [message, level] of [["a", "INFO"], ["b", "ERROR"], ["c", "INFO"], ["d", "ERROR"]]) {
    h.publish(entry(message!, level as LogEntry["level"]));
  }
  const tail = h.subscribe(client({ codec, filter: errors, tail: 1 }));
  assert.equal(decode(await tail.queue.take()), `${id(4)} d\n`);
  const resumed = h.subscribe(client({ codec, filter: errors, lastEventId: id(1) }));
  assert.equal(decode(await resumed.queue.take()), `${id(2)} b\n${id(4)} d\n`);
  assert.equal(resumed.filtered, 1);
  const all = h.subscribe(client({ codec }));
  await h.publishAll([entry("e", "INFO"), entry("f", "ERROR")]);
  assert.equal(decode(await tail.queue.take()), `${id(6)} f\n`);
  assert.equal(decode(await all.queue.take()), `${id(5)} e\n${id(6)} f\n`);
  assert.equal(h.totals("test").filtered, 3);
  assert.equal(h.droppedEntries, 0, "filtered entries are not drops");
});

Deno.test("Hub copies the frames a filtered client keeps out of a large shared buffer", async () => {
  const h = hub(0);
  const codec = lineCodec();
  const rare = h.subscribe(client({ codec, filter: { matches: (e) => e.message === "keep" } }));
  const all = h.subscribe(client({ codec, limits: { entries: 1000, bytes: 1 << 20 } }));
  await h.publishAll([...Array(99).fill(entry("z".repeat(100))), entry("keep")]);
  const kept = (await rare.queue.take())!;
  assert.equal(kept.bytes.buffer.byteLength, kept.bytes.length, "its own small buffer");
  assert.ok((await all.queue.take())!.bytes.buffer.byteLength > 10_000);
});

Deno.test("Hub uses the source's sequence numbers when given", async () => {
  const h = new Hub({ ids: SEQUENCE_EVENT_IDS, ring: { entries: 10, bytes: 1 << 20 } });
  await h.publishAll([entry("x"), entry("y")], [41, 45]);
  assert.equal(h.lastSeq, 45);
  const resumed = h.subscribe(client({ codec: lineCodec(), lastEventId: "41" }));
  assert.equal(decode(await resumed.queue.take()), "45 y\n");
});

Deno.test("Hub skips what a client resumed past while its source fills it after a restart", async () => {
  const h = new Hub({
    ids: SEQUENCE_EVENT_IDS,
    ring: { entries: 10, bytes: 1 << 20 },
    history: memoryHistory([]),
  });
  const codec = lineCodec();
  const resumed = h.subscribe(client({ codec, lastEventId: "42" }));
  const fresh = h.subscribe(client({ codec }));
  await h.publishAll([entry("old"), entry("seen"), entry("new")], [40, 42, 43]);
  await h.publishAll([entry("newer")], [44]);
  assert.equal(decode(await resumed.queue.take()), "43 new\n44 newer\n");
  assert.equal(decode(await fresh.queue.take()), "40 old\n42 seen\n43 new\n44 newer\n");
  assert.equal(resumed.filtered, 0, "not counted as filtered");
});

Deno.test("Hub replaces an entry it cannot serialize by a note, and counts it", async () => {
  const h = hub();
  const c = h.subscribe(client({ codec: lineCodec() }));
  // JSON.stringify throws on a BigInt, as it may on nesting deep enough for the stack.
  h.publish({ ...entry("big"), fields: { n: 1n } });
  assert.equal(h.unserializableEntries, 1);
  assert.equal(decode(await c.queue.take()), `${id(1)} big\n`, "delivered all the same");
});

Deno.test("Hub evicts clients whose queue stayed full, and counts them", () => {
  const h = hub(0);
  const tcp = lineCodec("tcp");
  const sse = lineCodec("sse");
  const stuck = h.subscribe(client({ codec: tcp, limits: { entries: 1, bytes: 1 << 20 } }));
  const other = h.subscribe(client({ codec: sse, limits: { entries: 1, bytes: 1 << 20 } }));
  let terminated = false;
  stuck.onTerminate = () => terminated = true;
  h.publish(entry("fills"));
  h.publish(entry("dropped"));
  const since = stuck.queue.fullSince!;
  assert.equal(h.evictSlow([tcp], 1000, since + 999), 0);
  assert.equal(h.clientCount(), 2);
  assert.equal(h.evictSlow([tcp], 1000, since + 1000), 1);
  assert.ok(terminated);
  assert.deepEqual([...h.clients], [other]);
  assert.equal(h.slowDisconnected, 1);
  assert.equal(h.totals("tcp").slowDisconnected, 1);
});

Deno.test("Hub sends heartbeats and farewells to the clients of one codec only", async () => {
  const h = hub(0);
  const a = lineCodec("a");
  const b = lineCodec("b");
  const ca = h.subscribe(client({ codec: a }));
  const cb = h.subscribe(client({ codec: b }));
  h.heartbeat(a, { activeClients: 2, uptimeSeconds: 1 });
  h.farewell(a, "server_shutdown");
  assert.equal(decode(await ca.queue.take()), "heartbeat\nbye server_shutdown\n");
  assert.equal(await ca.queue.take(), null, "ended after its farewell");
  assert.equal(cb.queue.length, 0);
  assert.equal(h.clientCount([b]), 1);
});

Deno.test("Hub counts what a client's writer sent, and times it", async () => {
  const latencies: number[] = [];
  const h = new Hub({
    ids: runEventIds(RUN),
    ring: { entries: 0, bytes: 0 },
    observeLatency: (seconds) => latencies.push(seconds),
  });
  const c = h.subscribe(client({ codec: lineCodec("tcp") }));
  await h.publishAll([entry("a"), entry("b")]);
  const batch = (await c.queue.take())!;
  c.written(batch, batch.publishedAt[0]! + 2);
  assert.equal(latencies.length, 2);
  for (const seconds of latencies) assert.ok(Math.abs(seconds - 0.002) < 1e-9, String(seconds));
  assert.equal(h.totals("tcp").entriesSent, 2);
  assert.equal(h.totals("tcp").bytesSent, batch.bytes.length);
  assert.equal(h.totals("tcp").connections, 1);
});

Deno.test("Hub.publishAll lets draining clients keep up with a burst larger than their queue", async () => {
  const h = hub(0);
  const c = h.subscribe(client({ codec: lineCodec(), limits: { entries: 100, bytes: 1 << 20 } }));
  let lines = 0;
  const reading = (async () => {
    for (let batch; (batch = await c.queue.take()) !== null;) {
      lines += decode(batch).split("\n").length - 1;
    }
  })();
  await h.publishAll(Array.from({ length: 10_000 }, (_, i) => entry(`e${i}`)));
  c.close();
  await reading;
  assert.equal(lines, 10_000);
  assert.equal(h.droppedEntries, 0);
});

Deno.test("Hub.publishAll encodes a batch in one buffer; every frame is its own entry", async () => {
  const h = hub(10);
  const codec = lineCodec();
  const c = h.subscribe(client({ codec }));
  const messages = ["ascii", "café", "emoji 🎉 done", "lone \ud800 surrogate", "日本語", "end"];
  await h.publishAll(messages.map((message) => entry(message)));
  const lines = decode(await c.queue.take()).split("\n").slice(0, -1);
  assert.deepEqual(lines.map((line) => line.slice(line.indexOf(" ") + 1)), [
    "ascii",
    "café",
    "emoji 🎉 done",
    "lone \ufffd surrogate",
    "日本語",
    "end",
  ]);
});

Deno.test("utf8Length matches TextEncoder", () => {
  for (const text of ["", "abc", "é", "€", "🎉", "\ud800", "\udc00x", "a\ud83c\udf89b", "日本"]) {
    assert.equal(utf8Length(text), encoder.encode(text).length, JSON.stringify(text));
  }
});

/** A history holding `entries` from `firstSeq` on, as JetStream would; `fail` makes it throw. */
function memoryHistory(messages: string[], firstSeq = 1) {
  const stored = messages.map((message, i) => ({ seq: i + 1, entry: entry(message) }))
    .filter((item) => item.seq >= firstSeq);
  const history = {
    fail: false,
    reads: 0,
    range(afterSeq: number, untilSeq: number) {
      history.reads++;
      if (history.fail) return Promise.reject(new Error("NATS is away"));
      const entries = stored.filter((item) => item.seq > afterSeq && item.seq <= untilSeq);
      return Promise.resolve({ entries, firstSeq });
    },
    last(count: number, beforeSeq: number, accept: (e: LogEntry) => boolean) {
      history.reads++;
      if (history.fail) return Promise.reject(new Error("NATS is away"));
      const older = stored.filter((item) => item.seq < beforeSeq && accept(item.entry));
      return Promise.resolve(older.slice(-count));
    },
  };
  return history;
}

/** Reads a client's queue until `lines` lines (greeting included) have arrived. */
async function readLines(
  subscription: { queue: { take(): Promise<Batch | null> } },
  lines: number,
) {
  let text = "";
  while (text.split("\n").length - 1 < lines) {
    const batch = await subscription.queue.take();
    if (!batch) break;
    text += decode(batch);
  }
  return text.split("\n").slice(0, -1);
}

const MESSAGES = Array.from({ length: 12 }, (_, i) => `m${i + 1}`);

/** A sequence hub with a ring of 3 over `history`, entries 1..10 published. */
async function historyHub(history: ReturnType<typeof memoryHistory>) {
  const h = new Hub({ ids: SEQUENCE_EVENT_IDS, ring: { entries: 3, bytes: 1 << 20 }, history });
  await h.publishAll(MESSAGES.slice(0, 10).map((m) => entry(m)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  return h;
}

Deno.test("Hub resumes a client from before its ring out of the history, page by page", async () => {
  const history = memoryHistory(MESSAGES);
  const h = await historyHub(history);
  const limits = { entries: 4, bytes: 1 << 20 };
  const c = h.subscribe(client({ codec: lineCodec(), lastEventId: "2", limits }));
  assert.deepEqual(await readLines(c, 8), [3, 4, 5, 6, 7, 8, 9, 10].map((n) => `${n} m${n}`));
  assert.ok(history.reads >= 2, "in pages no larger than the queue");
  await h.publishAll([entry("m11")], [11]);
  assert.deepEqual(await readLines(c, 1), ["11 m11"]);
  c.close();
});

Deno.test("Hub says what the history no longer holds, or all it cannot read", async () => {
  const h = await historyHub(memoryHistory(MESSAGES, 5));
  const c = h.subscribe(client({ codec: lineCodec(), lastEventId: "2" }));
  const lines = await readLines(c, 7);
  assert.deepEqual(JSON.parse(lines[0]!.slice(4)), {
    reason: "evicted",
    from: "3",
    to: "4",
    missed: 2,
  });
  assert.deepEqual(lines.slice(1), [5, 6, 7, 8, 9, 10].map((n) => `${n} m${n}`));
  c.close();

  const away = memoryHistory(MESSAGES);
  away.fail = true;
  const h2 = await historyHub(away);
  const d = h2.subscribe(client({ codec: lineCodec(), lastEventId: "2" }));
  const fallback = await readLines(d, 4);
  assert.deepEqual(JSON.parse(fallback[0]!.slice(4)), {
    reason: "evicted",
    from: "3",
    to: "7",
    missed: 5,
  });
  assert.deepEqual(fallback.slice(1), ["8 m8", "9 m9", "10 m10"]);
  d.close();
});

Deno.test("Hub reads tail=N beyond its ring from the history, with the client's filter", async () => {
  const h = await historyHub(memoryHistory(MESSAGES));
  const c = h.subscribe(client({ codec: lineCodec(), tail: 5 }));
  assert.deepEqual(await readLines(c, 5), [6, 7, 8, 9, 10].map((n) => `${n} m${n}`));
  c.close();
  const odd = { matches: (e: LogEntry) => Number(e.message.slice(1)) % 2 === 1 };
  const f = h.subscribe(client({ codec: lineCodec(), tail: 4, filter: odd }));
  assert.deepEqual(await readLines(f, 4), ["3 m3", "5 m5", "7 m7", "9 m9"]);
  f.close();
});

Deno.test("Hub reads a tail longer than the client's queue page by page, losing nothing", async () => {
  const history = memoryHistory(MESSAGES);
  const h = await historyHub(history);
  const c = h.subscribe(
    client({ codec: lineCodec(), tail: 8, limits: { entries: 3, bytes: 1 << 20 } }),
  );
  assert.deepEqual(await readLines(c, 8), [3, 4, 5, 6, 7, 8, 9, 10].map((n) => `${n} m${n}`));
  assert.equal(h.droppedEntries, 0);
  c.close();
});

Deno.test("Hub fills the hole between a resume point and where a restarted source starts", async () => {
  const history = memoryHistory(MESSAGES);
  const h = new Hub({ ids: SEQUENCE_EVENT_IDS, ring: { entries: 3, bytes: 1 << 20 }, history });
  // The client comes back before the source has delivered anything; the source starts at 8.
  const c = h.subscribe(client({ codec: lineCodec(), lastEventId: "3" }));
  await h.publishAll(MESSAGES.slice(7, 10).map((m) => entry(m)), [8, 9, 10]);
  assert.deepEqual(await readLines(c, 7), [4, 5, 6, 7, 8, 9, 10].map((n) => `${n} m${n}`));
  await h.publishAll([entry("m11")], [11]);
  assert.deepEqual(await readLines(c, 1), ["11 m11"]);
  c.close();
});

/** A filter that keeps every entry after spinning `ms` on each. */
function spinning(ms: number): EntryFilter {
  return {
    matches: () => {
      const until = performance.now() + ms;
      while (performance.now() < until) { /* spinning */ }
      return true;
    },
  };
}

Deno.test("Hub ends a client whose filter takes more than its share of the thread, and counts it", async () => {
  const h = hub();
  const codec = lineCodec();
  // 30 ms per entry, as a long pattern on long lines would take.
  const slow = spinning(30);
  const costly = h.subscribe(client({ codec, filter: slow }));
  const cheap = h.subscribe(client({ codec, filter: { matches: () => true } }));
  const plain = h.subscribe(client({ codec }));
  await h.publishAll([entry("a"), entry("b"), entry("c"), entry("d")]);
  // What it was offered, then why it ends.
  assert.equal(
    decode(await costly.queue.take()),
    `${id(1)} a\n${id(2)} b\n${id(3)} c\n${id(4)} d\nbye filter_too_expensive\n`,
  );
  assert.equal(await costly.queue.take(), null);
  assert.equal(h.filterDisconnected, 1);
  assert.equal(h.totals("test").filterDisconnected, 1);
  await h.publishAll([entry("e")]);
  assert.equal(h.clientCount(), 2);
  assert.match(decode(await cheap.queue.take()), /e\n$/);
  assert.match(decode(await plain.queue.take()), /e\n$/);
});

Deno.test("Hub replays tail through a costly filter whole: replays are not metered", async () => {
  const h = hub(1000);
  await h.publishAll(Array.from({ length: 1000 }, (_, i) => entry(`m${i}`)));
  // 200 ms for the replay, twice a client's budget for a second.
  const spin = spinning(0.2);
  const replayed = h.subscribe(
    client({
      codec: lineCodec(),
      filter: spin,
      tail: 1000,
      limits: { entries: 2000, bytes: 1 << 20 },
    }),
  );
  const text = decode(await replayed.queue.take());
  assert.equal(text.split("\n").filter(Boolean).length, 1000);
  await h.publishAll([entry("live")]);
  assert.equal(h.filterDisconnected, 0);
  assert.match(decode(await replayed.queue.take()), /live\n$/);
});
