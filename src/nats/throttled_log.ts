import type { Log } from "../log.ts";

/**
 * `log`, but a message identical to one logged less than `intervalMs` ago (default one
 * minute) is left out: a failure that repeats on every retry is said once a minute.
 */
export function throttledLog(log: Log, intervalMs = 60_000): Log {
  const last = new Map<string, number>();
  return (level, message) => {
    const now = Date.now();
    const at = last.get(message);
    if (at !== undefined && now - at < intervalMs) return;
    if (last.size >= 100) last.clear();
    last.set(message, now);
    log(level, message);
  };
}
