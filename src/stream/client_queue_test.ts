import assert from "node:assert/strict";
import { ClientQueue } from "./client_queue.ts";

const frame = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null) => bytes && new TextDecoder().decode(bytes);

Deno.test("ClientQueue hands every waiting frame to the writer as one buffer", async () => {
  const queue = new ClientQueue(10);
  assert.ok(queue.offer(frame("a")));
  assert.ok(queue.offer(frame("b")));
  queue.force(frame("!"));
  assert.equal(queue.length, 2);
  assert.equal(text(await queue.take()), "ab!");
  assert.equal(queue.length, 0);
  assert.equal(queue.taken, 2);
});

Deno.test("ClientQueue drops and counts entries when full, but lets control frames in", async () => {
  const queue = new ClientQueue(2);
  assert.ok(queue.offer(frame("1"), 1000));
  assert.ok(queue.offer(frame("2"), 1000));
  assert.equal(queue.fullSince, undefined);
  assert.equal(queue.offer(frame("3"), 1000), false);
  assert.equal(queue.offer(frame("4"), 2000), false);
  queue.force(frame("h"));
  assert.equal(queue.dropped, 2);
  assert.equal(queue.fullSince, 1000);
  assert.equal(text(await queue.take()), "12h");
  assert.equal(queue.fullSince, undefined);
  assert.ok(queue.offer(frame("5")));
});

Deno.test("ClientQueue take() waits for a frame, and after close() drains, then ends", async () => {
  const queue = new ClientQueue(4);
  const waiting = queue.take();
  queue.offer(frame("late"));
  assert.equal(text(await waiting), "late");
  queue.offer(frame("x"));
  queue.close();
  assert.equal(queue.offer(frame("after close")), false);
  assert.equal(text(await queue.take()), "x");
  assert.equal(await queue.take(), null);
  const ended = queue.take();
  assert.equal(await ended, null);
});
