import assert from "node:assert/strict";
import { suggestKey } from "./suggest.ts";

Deno.test("suggestKey() finds the close key", () => {
  const known = ["enabled", "port", "host", "buffer_size", "heartbeat", "check_interval_ms"];
  assert.equal(suggestKey("enable", known), "enabled");
  assert.equal(suggestKey("prot", known), "port");
  assert.equal(suggestKey("bufer_size", known), "buffer_size");
  assert.equal(suggestKey("Check-Interval-MS", known), "check_interval_ms");
  assert.equal(suggestKey("heartbeats", known), "heartbeat");
});

Deno.test("suggestKey() stays silent when nothing is close", () => {
  const known = ["enabled", "port", "host"];
  assert.equal(suggestKey("tls", known), undefined);
  assert.equal(suggestKey("authentication", known), undefined);
  assert.equal(suggestKey("x", []), undefined);
});
