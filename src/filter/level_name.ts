/**
 * Level names as people type them in filters and configuration.
 *
 * @module
 */
import { type Level, LEVELS } from "../entry/entry.ts";

/** Position of each level in increasing severity: TRACE 0 to FATAL 5. */
export const LEVEL_RANK: Readonly<Record<Level, number>> = Object.freeze(
  Object.fromEntries(LEVELS.map((level, rank) => [level, rank])) as Record<Level, number>,
);

// The words the line parser reads as levels, so that whatever a log says can be asked for.
const NAMES: ReadonlyMap<string, Level> = new Map([
  ["trace", "TRACE"],
  ["verbose", "TRACE"],
  ["debug", "DEBUG"],
  ["dbg", "DEBUG"],
  ["info", "INFO"],
  ["inf", "INFO"],
  ["information", "INFO"],
  ["notice", "INFO"],
  ["warn", "WARN"],
  ["warning", "WARN"],
  ["error", "ERROR"],
  ["err", "ERROR"],
  ["fatal", "FATAL"],
  ["critical", "FATAL"],
  ["crit", "FATAL"],
  ["panic", "FATAL"],
  ["emerg", "FATAL"],
  ["emergency", "FATAL"],
  ["alert", "FATAL"],
]);

/**
 * The level `name` stands for, case-insensitively: one of the six level names or an alias
 * log lines use (`warning`, `err`, `crit`, `critical`, `panic`, `dbg`, `inf`, `notice`,
 * `verbose`...); undefined for anything else.
 */
export function parseLevelName(name: string): Level | undefined {
  return NAMES.get(name.toLowerCase());
}

/** How an unknown level name is reported: the names to use instead. */
export const LEVEL_CHOICES = "TRACE, DEBUG, INFO, WARN, ERROR or FATAL";
