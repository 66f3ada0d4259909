import assert from "node:assert/strict";
import { AuthFailureLimiter } from "./auth_failure_limiter.ts";
import { parseIpAddress } from "./ip_address.ts";

const a = parseIpAddress("198.51.100.1");
const b = parseIpAddress("2001:db8::1");

Deno.test("AuthFailureLimiter blocks for a minute after the figure of failures in a minute", () => {
  const time = { now: 5_000_000 };
  const limiter = new AuthFailureLimiter(3, { now: () => time.now });
  assert.deepEqual(limiter.check(a), { allowed: true });
  assert.deepEqual(limiter.recordFailure(a), { allowed: true });
  time.now += 20_000;
  assert.deepEqual(limiter.recordFailure(a), { allowed: true });
  time.now += 39_000;
  assert.deepEqual(limiter.recordFailure(a), { allowed: false, retryAfterSeconds: 60 });
  assert.deepEqual(limiter.check(a), { allowed: false, retryAfterSeconds: 60 });
  assert.deepEqual(limiter.check(b), { allowed: true });
  time.now += 59_001;
  assert.deepEqual(limiter.check(a), { allowed: false, retryAfterSeconds: 1 });
  time.now += 999;
  assert.deepEqual(limiter.check(a), { allowed: true });
  assert.deepEqual(limiter.recordFailure(a), { allowed: true }, "a new window after the block");
});

Deno.test("AuthFailureLimiter: failures spread over more than a minute do not block", () => {
  const time = { now: 0 };
  const limiter = new AuthFailureLimiter(3, { now: () => time.now });
  for (let i = 0; i < 20; i++) {
    assert.equal(limiter.recordFailure(a).allowed, true, `failure ${i}`);
    time.now += 30_001;
  }
});

Deno.test("AuthFailureLimiter: 1 blocks at the first failure, 0 never", () => {
  const strict = new AuthFailureLimiter(1, { now: () => 0 });
  assert.deepEqual(strict.recordFailure(a), { allowed: false, retryAfterSeconds: 60 });
  const off = new AuthFailureLimiter(0, { now: () => 0 });
  for (let i = 0; i < 1000; i++) assert.equal(off.recordFailure(a).allowed, true);
  assert.equal(off.check(a).allowed, true);
  assert.deepEqual(off.stats, { tracked: 0, evicted: 0 });
});

Deno.test("AuthFailureLimiter memory is bounded", () => {
  const time = { now: 0 };
  const limiter = new AuthFailureLimiter(5, { now: () => time.now, maxTracked: 100 });
  for (let i = 0; i < 10_000; i++) limiter.recordFailure({ family: 4, value: i });
  assert.deepEqual(limiter.stats, { tracked: 100, evicted: 9_900 });
});
