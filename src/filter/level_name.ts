/**
 * Level names as people type them in filters and configuration.
 *
 * @module
 */
import { type Level, LEVEL_WORDS, LEVELS } from "../entry/entry.ts";

/** Position of each level in increasing severity: TRACE 0 to FATAL 5. */
export const LEVEL_RANK: Readonly<Record<Level, number>> = Object.freeze(
  Object.fromEntries(LEVELS.map((level, rank) => [level, rank])) as Record<Level, number>,
);

/**
 * The level `name` stands for, case-insensitively: one of the six level names or an alias
 * log lines use (`warning`, `err`, `crit`, `critical`, `panic`, `dbg`, `inf`, `notice`,
 * `verbose`...); undefined for anything else.
 */
export function parseLevelName(name: string): Level | undefined {
  return LEVEL_WORDS.get(name.toLowerCase());
}

/** How an unknown level name is reported: the names to use instead. */
export const LEVEL_CHOICES = "TRACE, DEBUG, INFO, WARN, ERROR or FATAL";
