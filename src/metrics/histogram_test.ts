import assert from "node:assert/strict";
import { Histogram, LATENCY_BUCKETS } from "./histogram.ts";

const cumulative = (histogram: Histogram) =>
  histogram.snapshot().buckets.map((bucket) => [bucket.le, bucket.count]);

Deno.test("Histogram counts a value equal to a bound in that bound's bucket (le is inclusive)", () => {
  const histogram = new Histogram([1, 2, 5]);
  histogram.observe(1);
  histogram.observe(2);
  histogram.observe(5);
  assert.deepEqual(cumulative(histogram), [[1, 1], [2, 2], [5, 3]]);
  assert.equal(histogram.count, 3);
});

Deno.test("Histogram counts just above a bound in the next bucket, above the last in +Inf only", () => {
  const histogram = new Histogram([1, 2, 5]);
  histogram.observe(1.0000001);
  histogram.observe(5.5);
  histogram.observe(Infinity);
  assert.deepEqual(cumulative(histogram), [[1, 0], [2, 1], [5, 1]]);
  const snapshot = histogram.snapshot();
  assert.equal(snapshot.count, 3);
  assert.equal(snapshot.sum, Infinity);
});

Deno.test("Histogram buckets are cumulative, and count and sum cover every observation", () => {
  const histogram = new Histogram([0.001, 0.01, 0.1, 1]);
  const values = [0.0002, 0.0009, 0.003, 0.004, 0.05, 0.5, 0.7, 2, 30];
  for (const value of values) histogram.observe(value);
  assert.deepEqual(cumulative(histogram), [[0.001, 2], [0.01, 4], [0.1, 5], [1, 7]]);
  const snapshot = histogram.snapshot();
  assert.equal(snapshot.count, values.length);
  assert.equal(snapshot.sum, values.reduce((a, b) => a + b));
});

Deno.test("Histogram takes a batch of equal observations at once", () => {
  const batch = new Histogram([1, 2]);
  const oneByOne = new Histogram([1, 2]);
  batch.observe(1.5, 4);
  batch.observe(0.5);
  for (let i = 0; i < 4; i++) oneByOne.observe(1.5);
  oneByOne.observe(0.5);
  assert.deepEqual(batch.snapshot(), oneByOne.snapshot());
  assert.equal(batch.sum, 6.5);
});

Deno.test("Histogram ignores NaN and counts negative values in the first bucket", () => {
  const histogram = new Histogram([1]);
  histogram.observe(NaN);
  histogram.observe(-3);
  assert.deepEqual(histogram.snapshot(), { buckets: [{ le: 1, count: 1 }], count: 1, sum: -3 });
});

Deno.test("Histogram snapshots are copies: later observations do not change them", () => {
  const histogram = new Histogram([1]);
  histogram.observe(0.5);
  const before = histogram.snapshot();
  histogram.observe(0.5);
  assert.deepEqual(before, { buckets: [{ le: 1, count: 1 }], count: 1, sum: 0.5 });
  assert.equal(histogram.snapshot().count, 2);
});

Deno.test("Histogram refuses bounds that are empty, unordered, repeated or infinite", () => {
  for (const bounds of [[], [2, 1], [1, 1], [1, Infinity], [NaN]]) {
    assert.throws(() => new Histogram(bounds), { name: "TypeError" });
  }
  assert.throws(() => new Histogram([2, 1]), {
    message: "Invalid histogram buckets [2,1]: bounds must be finite and ascending",
  });
});

Deno.test("LATENCY_BUCKETS span 50 µs to 10 s in 1-2.5-5 steps and hold Prometheus' defaults", () => {
  assert.equal(LATENCY_BUCKETS[0], 0.00005);
  assert.equal(LATENCY_BUCKETS.at(-1), 10);
  assert.ok(LATENCY_BUCKETS.every((bound, i) => i === 0 || bound > LATENCY_BUCKETS[i - 1]!));
  for (let i = 1; i < LATENCY_BUCKETS.length; i++) {
    const ratio = LATENCY_BUCKETS[i]! / LATENCY_BUCKETS[i - 1]!;
    assert.ok(ratio >= 2 - 1e-9 && ratio <= 2.5 + 1e-9, `ratio ${ratio} at ${LATENCY_BUCKETS[i]}`);
  }
  const prometheusDefaults = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  for (const bound of prometheusDefaults) assert.ok(LATENCY_BUCKETS.includes(bound), `${bound}`);
  assert.ok(Object.isFrozen(LATENCY_BUCKETS));
  assert.equal(new Histogram().snapshot().buckets.length, 17);
});

Deno.test("Histogram counts exactly past 2^32 observations", () => {
  const histogram = new Histogram([1]);
  histogram.observe(0.5, 2 ** 32);
  histogram.observe(0.5);
  assert.equal(histogram.snapshot().buckets[0]!.count, 2 ** 32 + 1);
});
