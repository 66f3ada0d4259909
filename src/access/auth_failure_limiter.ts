/**
 * `auth_failures_per_minute_per_ip`: after that many failed authentications in a minute, an
 * address is refused for a minute, so guessing passwords or tokens costs an attacker a minute
 * per few guesses and LogWisp few bcrypt runs.
 *
 * An address's failures are counted in a window of a minute from its first failure; the
 * failure that brings the count to `perMinute` starts the block. A success does not clear
 * earlier failures.
 *
 * @module
 */
import { AddressTable, DEFAULT_MAX_TRACKED, limiterKey } from "./address_table.ts";
import type { IpAddress } from "./ip_address.ts";
import { ALLOWED, type LimiterOptions, type RateDecision } from "./rate_limiter.ts";

const MINUTE_MS = 60_000;

interface Failures {
  windowStart: number;
  count: number;
  /** The last failure. */
  at: number;
  blockedUntil: number;
}

/** Blocks an address (IPv6: a /64) for a minute after `perMinute` failures; 0 never blocks. */
export class AuthFailureLimiter {
  readonly #perMinute: number;
  readonly #now: () => number;
  readonly #table: AddressTable<Failures>;

  /** Throws a `RangeError` for a negative `perMinute`. */
  constructor(perMinute: number, options: LimiterOptions = {}) {
    if (!(perMinute >= 0)) throw new RangeError(`Limit must be 0 or more, not ${perMinute}`);
    this.#perMinute = perMinute;
    this.#now = options.now ?? Date.now;
    // Windows and blocks end a minute after the last failure at most: an entry untouched
    // for a minute holds nothing.
    this.#table = new AddressTable(options.maxTracked ?? DEFAULT_MAX_TRACKED, MINUTE_MS);
  }

  /** Addresses tracked now, and those forgotten early because the table was full. */
  get stats(): { readonly tracked: number; readonly evicted: number } {
    return { tracked: this.#table.size, evicted: this.#table.evicted };
  }

  /** Whether `address` may try to authenticate now. */
  check(address: IpAddress): RateDecision {
    if (this.#perMinute === 0) return ALLOWED;
    const state = this.#table.get(limiterKey(address));
    return state === undefined ? ALLOWED : this.#decision(state, this.#now());
  }

  /** Counts a failed authentication; refused when this failure starts (or is in) a block. */
  recordFailure(address: IpAddress): RateDecision {
    if (this.#perMinute === 0) return ALLOWED;
    const now = this.#now();
    const key = limiterKey(address);
    const state = this.#table.get(key) ?? { windowStart: now, count: 0, at: now, blockedUntil: 0 };
    if (now - state.windowStart >= MINUTE_MS) {
      state.windowStart = now;
      state.count = 0;
    }
    state.count++;
    state.at = now;
    if (state.count >= this.#perMinute && state.blockedUntil <= now) {
      state.blockedUntil = now + MINUTE_MS;
      state.windowStart = now;
      state.count = 0;
    }
    this.#table.set(key, state, now);
    return this.#decision(state, now);
  }

  #decision(state: Failures, now: number): RateDecision {
    if (state.blockedUntil <= now) return ALLOWED;
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((state.blockedUntil - now) / 1000)),
    };
  }
}
