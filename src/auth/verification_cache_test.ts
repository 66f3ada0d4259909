import assert from "node:assert/strict";
import { VerificationCache } from "./verification_cache.ts";

Deno.test("VerificationCache keys are keyed digests, never the credential", () => {
  const cache = new VerificationCache<string>();
  const key = cache.key("basic", "YWxpY2U6c2VjcmV0");
  assert.match(key, /^[A-Za-z0-9+/]{43}=$/);
  assert.ok(!key.includes("YWxpY2U6c2VjcmV0"));
  assert.equal(cache.key("basic", "YWxpY2U6c2VjcmV0"), key);
  assert.notEqual(cache.key("jwt", "YWxpY2U6c2VjcmV0"), key);
  assert.notEqual(new VerificationCache<string>().key("basic", "YWxpY2U6c2VjcmV0"), key);
});

Deno.test("VerificationCache entries live for the TTL or until their own end", () => {
  const time = { now: 0 };
  const cache = new VerificationCache<string>({ ttlMs: 1000, now: () => time.now });
  cache.set("a", "alice");
  cache.set("b", "bob", 500);
  assert.equal(cache.get("a"), "alice");
  assert.equal(cache.get("b"), "bob");
  time.now = 500;
  assert.equal(cache.get("b"), undefined);
  time.now = 999;
  assert.equal(cache.get("a"), "alice");
  time.now = 1000;
  assert.equal(cache.get("a"), undefined);
  assert.deepEqual(cache.stats, { entries: 0, hits: 3 });
});

Deno.test("VerificationCache holds at most its bound, dropping the oldest", () => {
  const cache = new VerificationCache<number>({ maxEntries: 100, now: () => 0 });
  for (let i = 0; i < 10_000; i++) cache.set(`k${i}`, i);
  assert.equal(cache.stats.entries, 100);
  assert.equal(cache.get("k9899"), undefined);
  assert.equal(cache.get("k9900"), 9900);
  const off = new VerificationCache<number>({ ttlMs: 0 });
  off.set("k", 1);
  assert.equal(off.get("k"), undefined);
});
