import assert from "node:assert/strict";
import { ClientQueue, MAX_BATCH_BYTES } from "./client_queue.ts";

const frame = (text: string) => new TextEncoder().encode(text);
const text = (batch: { bytes: Uint8Array } | null) =>
  batch && new TextDecoder().decode(batch.bytes);
const queue = (entries: number, bytes = 1 << 20) => new ClientQueue({ entries, bytes });

Deno.test("ClientQueue hands every waiting frame to the writer as one batch", async () => {
  const q = queue(10);
  assert.ok(q.offer(frame("a"), 1));
  assert.ok(q.offer(frame("b"), 2));
  q.force(frame("!"));
  assert.equal(q.length, 2);
  assert.equal(q.bytes, 3);
  const batch = await q.take();
  assert.equal(text(batch), "ab!");
  assert.equal(batch?.entries, 2);
  assert.deepEqual(batch?.publishedAt, [1, 2]);
  assert.equal(q.length, 0);
  assert.equal(q.taken, 2);
  assert.equal(q.takenBytes, 3);
});

Deno.test("ClientQueue drops and counts entries when full, but lets control frames in", async () => {
  const q = queue(2);
  assert.ok(q.offer(frame("1"), 0, 1000));
  assert.ok(q.offer(frame("2"), 0, 1000));
  assert.equal(q.fullSince, undefined);
  assert.equal(q.offer(frame("3"), 0, 1000), false);
  assert.equal(q.offer(frame("4"), 0, 2000), false);
  q.force(frame("h"));
  assert.equal(q.dropped, 2);
  assert.equal(q.fullSince, 1000);
  assert.equal(text(await q.take()), "12h");
  assert.equal(q.fullSince, undefined);
  assert.ok(q.offer(frame("5"), 0));
});

Deno.test("ClientQueue is full at its byte bound; one frame larger than it still passes alone", async () => {
  const q = queue(100, 10);
  assert.ok(q.offer(frame("12345"), 0));
  assert.ok(q.offer(frame("67890"), 0));
  assert.equal(q.offer(frame("x"), 0), false);
  assert.equal(text(await q.take()), "1234567890");
  assert.ok(q.offer(frame("a frame over the whole budget"), 0));
  assert.equal(q.offer(frame("y"), 0), false);
});

Deno.test("ClientQueue take() waits for a frame, and after close() drains, then ends", async () => {
  const q = queue(4);
  const waiting = q.take();
  q.offer(frame("late"), 0);
  assert.equal(text(await waiting), "late");
  q.offer(frame("x"), 0);
  q.close();
  assert.equal(q.offer(frame("after close"), 0), false);
  assert.equal(text(await q.take()), "x");
  assert.equal(await q.take(), null);
  assert.equal(await q.take(), null);
});

Deno.test("ClientQueue hands at most MAX_BATCH_BYTES to the writer at once, a large frame alone", async () => {
  const q = queue(1000, 10 << 20);
  const big = new Uint8Array(MAX_BATCH_BYTES / 2 + 1);
  for (let i = 0; i < 3; i++) q.offer(big, i);
  q.force(frame("control"));
  const first = await q.take();
  assert.equal(first?.entries, 1, "two would be over the limit");
  assert.deepEqual(first?.publishedAt, [0]);
  assert.equal(q.length, 2);
  assert.equal((await q.take())?.entries, 1);
  const last = await q.take();
  assert.equal(last?.entries, 1);
  assert.equal(last?.bytes.length, big.length + "control".length);
  assert.equal(q.bytes, 0);
  q.offer(new Uint8Array(MAX_BATCH_BYTES * 3), 9);
  assert.equal((await q.take())?.bytes.length, MAX_BATCH_BYTES * 3);
});
