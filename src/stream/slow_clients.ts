import type { Codec } from "./codec.ts";
import type { Hub } from "./hub.ts";

/** What a server's slow-client reaper needs. */
export interface SlowClientOptions {
  /** The hub whose clients are checked. */
  readonly hub: Hub;
  /** The codecs of the server's clients. */
  readonly codecs: readonly Codec[];
  /** A client whose queue has been full this long is disconnected (`slow_client_timeout_seconds`). */
  readonly timeoutSeconds: number;
  /** Stops the checks. */
  readonly signal: AbortSignal;
}

/** How often queues are looked at, at most: eviction happens within this after the timeout. */
const CHECK_EVERY_MS = 1000;

/**
 * Until `signal` aborts, disconnects the server's clients that stopped reading: each holds
 * a full queue of memory and gains nothing from it, since everything new is dropped for it.
 */
export function runSlowClientReaper(options: SlowClientOptions): void {
  const { hub, codecs, signal } = options;
  if (signal.aborted) return;
  const timeoutMs = options.timeoutSeconds * 1000;
  const timer = setInterval(
    () => hub.evictSlow(codecs, timeoutMs),
    Math.min(CHECK_EVERY_MS, timeoutMs / 2),
  );
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
