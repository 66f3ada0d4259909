/**
 * Per-address state with a hard bound on memory, for the rate limiters.
 *
 * Entries are kept in order of last use. When the table is full the least recently used
 * entry goes: if it has been idle long enough that its state is back at rest (a full bucket,
 * no block) nothing is lost; otherwise the eviction is counted, as a flood of more distinct
 * addresses than the table holds can then forget an address's history early.
 *
 * @module
 */
import type { IpAddress } from "./ip_address.ts";
import { formatIpv4 } from "./ip_address.ts";

/** Default bound of a table, in addresses. */
export const DEFAULT_MAX_TRACKED = 16_384;

/** State an `AddressTable` holds: `at` is when it was last updated, in milliseconds. */
export interface Timed {
  /** Milliseconds, on the limiter's clock. */
  at: number;
}

/**
 * A map from address keys to state, bounded to `capacity` entries, with a doubly linked list
 * through slots in use order: every operation is O(1) (iterating a `Map` from its oldest end
 * would first skip the holes that deleting from it leaves).
 */
export class AddressTable<T extends Timed> {
  readonly #index = new Map<string, number>();
  readonly #capacity: number;
  readonly #restMs: number;
  #keys: string[] = [];
  #values: (T | undefined)[] = [];
  #prev = new Int32Array(0);
  #next = new Int32Array(0);
  /** Least and most recently used slots; -1 when empty. */
  #head = -1;
  #tail = -1;
  #free: number[] = [];
  #evicted = 0;

  /** `restMs`: how long after its last update an entry's state is back at rest. */
  constructor(capacity: number, restMs: number) {
    if (!(capacity >= 1)) throw new RangeError(`Capacity must be at least 1, not ${capacity}`);
    this.#capacity = capacity;
    this.#restMs = restMs;
  }

  /** Entries held now. */
  get size(): number {
    return this.#index.size;
  }

  /** Entries dropped before their state was at rest. */
  get evicted(): number {
    return this.#evicted;
  }

  /** The state of `key`, marked as most recently used; undefined when absent. */
  get(key: string): T | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined) return undefined;
    this.#unlink(slot);
    this.#link(slot);
    return this.#values[slot];
  }

  /**
   * Stores `state` for `key` as most recently used. Drops a few entries at rest, and the
   * least recently used one when the table is full.
   */
  set(key: string, state: T, now: number): void {
    let slot = this.#index.get(key);
    if (slot !== undefined) {
      this.#values[slot] = state;
      this.#unlink(slot);
      this.#link(slot);
    }
    for (let swept = 0; this.#head >= 0 && this.#head !== slot; swept++) {
      const full = slot === undefined && this.#index.size >= this.#capacity;
      const atRest = now - this.#values[this.#head]!.at >= this.#restMs;
      if (!full && (!atRest || swept >= 16)) break;
      if (!atRest) this.#evicted++;
      this.#remove(this.#head);
    }
    if (slot !== undefined) return;
    slot = this.#free.pop() ?? this.#grow();
    this.#keys[slot] = key;
    this.#values[slot] = state;
    this.#index.set(key, slot);
    this.#link(slot);
  }

  #grow(): number {
    const slot = this.#keys.length;
    if (slot >= this.#prev.length) {
      const size = Math.min(this.#capacity, Math.max(64, this.#prev.length * 2));
      const prev = new Int32Array(size);
      const next = new Int32Array(size);
      prev.set(this.#prev);
      next.set(this.#next);
      [this.#prev, this.#next] = [prev, next];
    }
    this.#keys.push("");
    this.#values.push(undefined);
    return slot;
  }

  #remove(slot: number): void {
    this.#unlink(slot);
    this.#index.delete(this.#keys[slot]!);
    this.#keys[slot] = "";
    this.#values[slot] = undefined;
    this.#free.push(slot);
  }

  /** Appends `slot` at the most recently used end. */
  #link(slot: number): void {
    this.#prev[slot] = this.#tail;
    this.#next[slot] = -1;
    if (this.#tail >= 0) this.#next[this.#tail] = slot;
    else this.#head = slot;
    this.#tail = slot;
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot]!;
    const next = this.#next[slot]!;
    if (prev >= 0) this.#next[prev] = next;
    else this.#head = next;
    if (next >= 0) this.#prev[next] = prev;
    else this.#tail = prev;
  }
}

/**
 * The key an address is limited under: the address for IPv4, its /64 network for IPv6 (one
 * host usually has a whole /64, and would otherwise have 2^64 budgets).
 */
export function limiterKey(address: IpAddress): string {
  if (address.family === 4) return formatIpv4(address.value);
  const [a, b] = address.words;
  return `${hex(a >>> 16)}:${hex(a & 0xffff)}:${hex(b >>> 16)}:${hex(b & 0xffff)}::/64`;
}

function hex(group: number): string {
  return group.toString(16);
}
