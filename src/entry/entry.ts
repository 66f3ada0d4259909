/** Levels LogWisp recognizes, in increasing severity (README "Entries"). */
export const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] as const;

/** A normalized log level. */
export type Level = typeof LEVELS[number];

/**
 * The words logs use for each level, lower-case: what JSON lines say in their level key,
 * and what filters and configuration accept.
 */
export const LEVEL_WORDS: ReadonlyMap<string, Level> = new Map([
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
 * One log line as a structured entry (README "Entries").
 *
 * Property order is the wire order: build entries with the keys in this order so
 * `JSON.stringify` gives `time, source, level, message, fields`.
 */
export interface LogEntry {
  /** RFC 3339 UTC with microseconds, e.g. `2024-01-01T12:00:00.123456Z`. */
  time: string;
  /** Base name of the file the line came from. */
  source: string;
  /** Omitted when the line carries no recognizable level. */
  level?: Level;
  /** The line, or a JSON line's message field. */
  message: string;
  /** Extra key/values; omitted when empty. */
  fields?: Record<string, unknown>;
}
