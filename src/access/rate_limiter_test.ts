import assert from "node:assert/strict";
import { parseIpAddress } from "./ip_address.ts";
import { RateLimiter } from "./rate_limiter.ts";

const a = parseIpAddress("198.51.100.1");
const b = parseIpAddress("198.51.100.2");

function clock(start = 1_000_000) {
  const time = { now: start };
  return { time, now: () => time.now };
}

Deno.test("RateLimiter allows a burst of the figure, then one per 60/figure seconds", () => {
  const { time, now } = clock();
  const limiter = new RateLimiter(6, { now });
  for (let i = 0; i < 6; i++) assert.deepEqual(limiter.take(a), { allowed: true }, `take ${i}`);
  assert.deepEqual(limiter.take(a), { allowed: false, retryAfterSeconds: 10 });
  assert.deepEqual(limiter.take(b), { allowed: true }, "another address has its own bucket");
  time.now += 4_000;
  assert.deepEqual(limiter.take(a), { allowed: false, retryAfterSeconds: 6 });
  time.now += 5_500;
  assert.deepEqual(limiter.take(a), { allowed: false, retryAfterSeconds: 1 });
  time.now += 500;
  assert.deepEqual(limiter.take(a), { allowed: true });
  assert.deepEqual(limiter.take(a), { allowed: false, retryAfterSeconds: 10 });
  time.now += 3_600_000;
  for (let i = 0; i < 6; i++) assert.deepEqual(limiter.take(a), { allowed: true });
  assert.equal(limiter.take(a).allowed, false, "refills to the burst, no more");
});

Deno.test("RateLimiter: Retry-After is whole seconds, at least 1", () => {
  const { time, now } = clock();
  const limiter = new RateLimiter(1, { now });
  assert.equal(limiter.take(a).allowed, true);
  assert.deepEqual(limiter.take(a), { allowed: false, retryAfterSeconds: 60 });
  time.now += 59_999;
  assert.deepEqual(limiter.take(a), { allowed: false, retryAfterSeconds: 1 });
  const fast = new RateLimiter(600, { now });
  for (let i = 0; i < 600; i++) fast.take(b);
  assert.deepEqual(fast.take(b), { allowed: false, retryAfterSeconds: 1 });
});

Deno.test("RateLimiter: 0 is unlimited and tracks nothing", () => {
  const limiter = new RateLimiter(0);
  for (let i = 0; i < 10_000; i++) assert.equal(limiter.take(a).allowed, true);
  assert.deepEqual(limiter.stats, { tracked: 0, evicted: 0 });
});

Deno.test("RateLimiter limits IPv6 per /64", () => {
  const limiter = new RateLimiter(2, { now: () => 0 });
  assert.equal(limiter.take(parseIpAddress("2001:db8:1:2::1")).allowed, true);
  assert.equal(limiter.take(parseIpAddress("2001:db8:1:2:ffff::9")).allowed, true);
  assert.equal(limiter.take(parseIpAddress("2001:db8:1:2::3")).allowed, false);
  assert.equal(limiter.take(parseIpAddress("2001:db8:1:3::1")).allowed, true);
});

Deno.test("RateLimiter memory is bounded under a flood of distinct addresses", () => {
  const { time, now } = clock();
  const limiter = new RateLimiter(2, { now, maxTracked: 1000 });
  for (let i = 0; i < 100_000; i++) {
    limiter.take({ family: 4, value: 0x0a000000 + i });
    time.now += 1;
  }
  assert.equal(limiter.stats.tracked, 1000);
  // Each address was used 1 ms apart: the ones evicted were younger than a minute.
  assert.equal(limiter.stats.evicted, 99_000);

  // Addresses idle for a minute carry nothing: they make room without an eviction.
  const calm = new RateLimiter(2, { now, maxTracked: 1000 });
  for (let i = 0; i < 5000; i++) {
    calm.take({ family: 4, value: 0x0b000000 + i });
    time.now += 60;
  }
  assert.equal(calm.stats.evicted, 0);
  assert.ok(calm.stats.tracked <= 1000);
});
