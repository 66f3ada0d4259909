/**
 * The known key closest to `key`, for a "did you mean" hint; undefined when none is close.
 * Case, `_` and `-` are ignored (`Check-Interval-MS` finds `check_interval_ms`), and so is a
 * missing or wrong unit (`stats_interval` finds `stats_interval_seconds`); failing that, a
 * unique prefix (`conf` finds `config`).
 */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = normalize(key);
  const threshold = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  let best: string | undefined;
  let bestDistance = threshold + 1;
  for (const candidate of known) {
    const other = normalize(candidate);
    const distance = Math.min(editDistance(wanted, other), editDistance(stem(wanted), stem(other)));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best ?? uniquePrefixOf(wanted, known);
}

/** The one known key that starts with `wanted` (`--conf` for `--config`), if just one does. */
function uniquePrefixOf(wanted: string, known: readonly string[]): string | undefined {
  if (wanted.length < 2) return undefined;
  const matches = known.filter((candidate) => normalize(candidate).startsWith(wanted));
  return matches.length === 1 ? matches[0] : undefined;
}

function normalize(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, "");
}

const UNIT_SUFFIX = /(?<=.)(ms|seconds|secs|sec|bytes|size)$/;

/** A normalized key without its unit, so `interval` and `interval_ms` meet `interval_seconds`. */
function stem(key: string): string {
  return key.replace(UNIT_SUFFIX, "");
}

/** Edit distance where swapping two neighbours counts once (optimal string alignment). */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, before[j - 2]! + 1);
      }
      current[j] = distance;
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}
