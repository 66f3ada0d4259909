/**
 * `connections_per_minute_per_ip`: a token bucket per client address.
 *
 * Each address has a bucket of `perMinute` tokens, refilled continuously at `perMinute` a
 * minute; a connection takes one. A client can so open `perMinute` connections at once, then
 * one every `60 / perMinute` seconds. An empty bucket answers with the whole seconds until a
 * token is back (`Retry-After`).
 *
 * @module
 */
import { AddressTable, DEFAULT_MAX_TRACKED, limiterKey } from "./address_table.ts";
import type { IpAddress } from "./ip_address.ts";

/** Allowed, or refused until `retryAfterSeconds` (at least 1) have passed. */
export type RateDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

/** Options of the limiters. */
export interface LimiterOptions {
  /** Most addresses tracked at once (default 16,384, about 2.5 MiB); see `AddressTable`. */
  readonly maxTracked?: number;
  /** The clock, in milliseconds. */
  readonly now?: () => number;
}

/** The answer when a limit allows. */
export const ALLOWED: RateDecision = Object.freeze({ allowed: true });

const MINUTE_MS = 60_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per address (IPv6: per /64). `perMinute` 0 allows everything. */
export class RateLimiter {
  readonly #perMinute: number;
  readonly #now: () => number;
  readonly #buckets: AddressTable<Bucket>;

  /** Throws a `RangeError` for a negative `perMinute`. */
  constructor(perMinute: number, options: LimiterOptions = {}) {
    if (!(perMinute >= 0)) throw new RangeError(`Rate must be 0 or more, not ${perMinute}`);
    this.#perMinute = perMinute;
    this.#now = options.now ?? Date.now;
    // An untouched bucket is full again after a minute at most.
    this.#buckets = new AddressTable(options.maxTracked ?? DEFAULT_MAX_TRACKED, MINUTE_MS);
  }

  /** Addresses tracked now, and those forgotten early because the table was full. */
  get stats(): { readonly tracked: number; readonly evicted: number } {
    return { tracked: this.#buckets.size, evicted: this.#buckets.evicted };
  }

  /** Takes a token for a connection from `address`. */
  take(address: IpAddress): RateDecision {
    if (this.#perMinute === 0) return ALLOWED;
    const now = this.#now();
    const key = limiterKey(address);
    const bucket = this.#buckets.get(key) ?? { tokens: this.#perMinute, at: now };
    const perMs = this.#perMinute / MINUTE_MS;
    bucket.tokens = Math.min(this.#perMinute, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    bucket.at = now;
    let decision = ALLOWED;
    if (bucket.tokens >= 1) bucket.tokens -= 1;
    else {
      decision = {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
      };
    }
    this.#buckets.set(key, bucket, now);
    return decision;
  }
}
