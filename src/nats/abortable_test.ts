import assert from "node:assert/strict";
import { sleep } from "./abortable.ts";

Deno.test("sleep() ends when its signal aborts", async () => {
  const controller = new AbortController();
  const started = Date.now();
  const sleeping = sleep(60_000, controller.signal);
  controller.abort();
  await sleeping;
  assert.ok(Date.now() - started < 1_000);
  await sleep(0, controller.signal);
});
