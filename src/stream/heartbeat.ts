import type { Codec, HeartbeatStats } from "./codec.ts";
import type { Hub } from "./hub.ts";

/** What a server's heartbeat ticker needs. */
export interface HeartbeatOptions {
  /** The hub whose clients get heartbeats. */
  readonly hub: Hub;
  /** The codecs of the server's clients; each frames its own heartbeat. */
  readonly codecs: readonly Codec[];
  /** Seconds between heartbeats. */
  readonly intervalSeconds: number;
  /** The numbers a heartbeat may carry. */
  readonly stats: () => HeartbeatStats;
  /** Stops the heartbeats. */
  readonly signal: AbortSignal;
}

/** Every `intervalSeconds` until `signal` aborts, sends each client its codec's heartbeat. */
export function runHeartbeat(options: HeartbeatOptions): void {
  const { hub, codecs, signal } = options;
  if (signal.aborted) return;
  const timer = setInterval(() => {
    const stats = options.stats();
    const now = new Date();
    for (const codec of codecs) hub.heartbeat(codec, stats, now);
  }, options.intervalSeconds * 1000);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
