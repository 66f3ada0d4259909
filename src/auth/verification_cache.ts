/**
 * A short-lived cache of successful verifications, so a browser that reconnects every few
 * seconds does not cost a bcrypt run each time.
 *
 * Entries are keyed by an HMAC of the credential under a key drawn at random per cache: the
 * secret itself is never stored, and the keys mean nothing outside this process. Failures
 * are never cached, so a wrong password always costs its bcrypt run.
 *
 * @module
 */
import { createHmac, randomBytes } from "node:crypto";

/** How long a success is remembered by default. */
export const DEFAULT_CACHE_TTL_MS = 60_000;

/** How many successes are remembered at most by default. */
export const DEFAULT_CACHE_ENTRIES = 1024;

/** Options of a `VerificationCache`. */
export interface VerificationCacheOptions {
  /** How long an entry lives; 0 disables the cache. */
  readonly ttlMs?: number;
  /** Most entries held; the oldest goes first. */
  readonly maxEntries?: number;
  /** The clock, in milliseconds. */
  readonly now?: () => number;
}

/** Successful verifications by credential digest, bounded in count and age. */
export class VerificationCache<T> {
  readonly #secret = randomBytes(32);
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #hits = 0;

  /** An empty cache with its own random key. */
  constructor(options: VerificationCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_CACHE_TTL_MS;
    this.#maxEntries = options.maxEntries ?? DEFAULT_CACHE_ENTRIES;
    this.#now = options.now ?? Date.now;
  }

  /** Entries held, and answers given from the cache. */
  get stats(): { readonly entries: number; readonly hits: number } {
    return { entries: this.#entries.size, hits: this.#hits };
  }

  /** The cache key of `credential` of kind `kind` (`basic`, `jwt`): a keyed digest. */
  key(kind: string, credential: string): string {
    return createHmac("sha256", this.#secret).update(`${kind}\0${credential}`).digest("base64");
  }

  /** The value cached under `key`, while it lives. */
  get(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#hits++;
    return entry.value;
  }

  /** Remembers `value` under `key` for the TTL, or until `notAfter` (ms) if that is sooner. */
  set(key: string, value: T, notAfter = Infinity): void {
    if (this.#ttlMs <= 0) return;
    const expiresAt = Math.min(this.#now() + this.#ttlMs, notAfter);
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt });
  }
}
