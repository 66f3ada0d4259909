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

Deno.test("suggestKey() finds the key behind a missing or wrong unit", () => {
  const known = ["check_interval_ms", "interval_seconds", "stats_interval_seconds", "buffer_size"];
  assert.equal(suggestKey("check_interval", known), "check_interval_ms");
  assert.equal(suggestKey("interval_ms", known), "interval_seconds");
  assert.equal(suggestKey("stats_interval", known), "stats_interval_seconds");
  assert.equal(suggestKey("buffer", known), "buffer_size");
});

Deno.test("suggestKey() falls back to the one key a prefix starts", () => {
  const known = ["config", "router", "check", "quiet", "version", "help"];
  assert.equal(suggestKey("conf", known), "config");
  assert.equal(suggestKey("ver", known), "version");
  assert.equal(suggestKey("c", known), undefined);
});

Deno.test("suggestKey() stays silent when nothing is close", () => {
  const known = ["enabled", "port", "host"];
  assert.equal(suggestKey("tls", known), undefined);
  assert.equal(suggestKey("authentication", known), undefined);
  assert.equal(suggestKey("x", []), undefined);
});
