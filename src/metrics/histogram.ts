/**
 * A fixed-bucket histogram cheap enough to observe on every write to a client socket.
 *
 * @module
 */
import type { HistogramSnapshot } from "./exposition.ts";

/**
 * Upper bounds, in seconds, for latencies from 50 µs to 10 s: 1–2.5–5 steps per decade,
 * Prometheus' default buckets (5 ms to 10 s) extended down to 50 µs. LogWisp's in-memory
 * path (parse, hub, queue, socket write) takes tens to hundreds of microseconds, so the
 * four buckets below 1 ms tell a healthy process from one whose event loop is busy; the
 * upper decades cover clients whose buffers fill, up to the slow-client timeout. Within a
 * bucket `histogram_quantile` interpolates linearly, so a quantile is off by at most the
 * bucket's width (a factor of 2.5 at worst), and sharing the default buckets keeps those
 * comparable with other services' latencies. 17 bounds + `+Inf` = 20 series with
 * `_sum` and `_count`.
 */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
]);

/**
 * Counts observations into fixed buckets: one comparison per bucket below the value and
 * two additions, no allocation. {@linkcode Histogram.snapshot} makes the counts cumulative
 * for the exposition.
 */
export class Histogram {
  readonly #bounds: Float64Array;
  /** Per bucket, not cumulative; the last one is `+Inf`. Doubles count exactly to 2^53. */
  readonly #counts: Float64Array;
  #count = 0;
  #sum = 0;

  /** Buckets with these upper bounds, finite and ascending ({@linkcode LATENCY_BUCKETS} by default). */
  constructor(upperBounds: readonly number[] = LATENCY_BUCKETS) {
    if (upperBounds.length === 0) throw new TypeError("A histogram needs at least one bucket");
    upperBounds.forEach((bound, i) => {
      if (!Number.isFinite(bound) || (i > 0 && bound <= upperBounds[i - 1]!)) {
        throw new TypeError(
          `Invalid histogram buckets ${
            JSON.stringify(upperBounds)
          }: bounds must be finite and ascending`,
        );
      }
    });
    this.#bounds = Float64Array.from(upperBounds);
    this.#counts = new Float64Array(upperBounds.length + 1);
  }

  /**
   * Records `count` observations of `value` (one by default; more for a batch written at
   * once). NaN is ignored: it would turn the sum into NaN for the rest of the process.
   */
  observe(value: number, count = 1): void {
    if (Number.isNaN(value)) return;
    const bounds = this.#bounds;
    let i = 0;
    // Most observations are small: scanning up from the lowest bucket stops early.
    while (i < bounds.length && value > bounds[i]!) i++;
    this.#counts[i]! += count;
    this.#count += count;
    this.#sum += value * count;
  }

  /** Observations so far. */
  get count(): number {
    return this.#count;
  }

  /** Sum of the values observed so far. */
  get sum(): number {
    return this.#sum;
  }

  /** The cumulative bucket counts, count and sum now. */
  snapshot(): HistogramSnapshot {
    const buckets = new Array<{ le: number; count: number }>(this.#bounds.length);
    let cumulative = 0;
    for (let i = 0; i < this.#bounds.length; i++) {
      cumulative += this.#counts[i]!;
      buckets[i] = { le: this.#bounds[i]!, count: cumulative };
    }
    return { buckets, count: this.#count, sum: this.#sum };
  }
}
