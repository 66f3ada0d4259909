/**
 * A stream's transform (`[streams.transform]`), compiled once and applied to every entry
 * before it reaches the ring, a client, status or any other output.
 *
 * Order: `min_level`, `strip_ansi`, `include`, `exclude` (an entry dropped by one of these
 * costs no more work; patterns see the message without ANSI escapes and before redaction),
 * then `drop_fields`, redaction (`redact_patterns`, then the `redact` detectors) of the
 * message and of the fields, and last `add_fields`, which replace fields of the same name,
 * so that a log line cannot pass for another host.
 *
 * Apply it to the batch of entries a read produced, after parsing all of them, rather than
 * to each line as it is parsed: `redact_bench.ts` finds parsing and redaction together about
 * 15% faster that way, each loop keeping its own code and data in the CPU caches.
 *
 * @module
 */
import type { RedactDetector, TransformConfig } from "../config/types.ts";
import { suggestKey } from "../config/suggest.ts";
import { stripAnsi } from "../entry/ansi.ts";
import type { LogEntry } from "../entry/entry.ts";
import { LEVEL_CHOICES, LEVEL_RANK, parseLevelName } from "./level_name.ts";
import {
  compileRedactor,
  REDACT_DETECTORS,
  redactCardNumber,
  type Redactor,
  type RedactPattern,
} from "./redact.ts";
import { compileConfigPattern, PatternError } from "./safe_regex.ts";

/**
 * The transform of one entry: the entry to pass on (the same object when nothing changed,
 * else a new one), or undefined when the entry is dropped (count it in `filtered_entries`).
 * The argument is never modified.
 */
export type Transform = (entry: LogEntry) => LogEntry | undefined;

/**
 * A transform's settings as the configuration file has them, before they are known to be
 * valid: what {@linkcode checkTransform} reads. A `TransformConfig` is one.
 */
export interface TransformSettings {
  /** `min_level`: a level name. */
  readonly minLevel?: string;
  /** `include`: regular expressions. */
  readonly include?: readonly string[];
  /** `exclude`: regular expressions. */
  readonly exclude?: readonly string[];
  /** `redact`: detector names. */
  readonly redact?: readonly string[];
  /** `redact_patterns`: regular expressions and their `String#replace` replacements. */
  readonly redactPatterns?: readonly { readonly pattern: string; readonly replacement: string }[];
}

/** A problem in a transform's settings; `key` is relative to the transform table. */
export interface TransformProblem {
  /** E.g. `include[1]`, `redact_patterns[0].replacement`. */
  readonly key: string;
  /** What is wrong, in lower case, e.g. `invalid regular expression: unterminated group`. */
  readonly message: string;
}

/**
 * Objects and arrays in fields are redacted down to this depth; a value nested deeper is
 * redacted as its JSON text, which replaces it when something was found in it.
 */
export const MAX_REDACT_DEPTH = 16;

/**
 * Every problem of a transform's settings, for the configuration check: unknown level or
 * detector names (with a "did you mean" when one is close), invalid patterns, a redaction
 * pattern that matches the empty string, and replacements that refer to missing groups.
 */
export function checkTransform(settings: TransformSettings): TransformProblem[] {
  const problems: TransformProblem[] = [];
  if (settings.minLevel !== undefined && parseLevelName(settings.minLevel) === undefined) {
    problems.push({
      key: "min_level",
      message: `unknown level ${JSON.stringify(settings.minLevel)}: expected ${LEVEL_CHOICES}`,
    });
  }
  for (const name of ["include", "exclude"] as const) {
    for (const [i, pattern] of (settings[name] ?? []).entries()) {
      const problem = patternProblem(pattern);
      if (problem !== undefined) problems.push({ key: `${name}[${i}]`, message: problem });
    }
  }
  for (const [i, detector] of (settings.redact ?? []).entries()) {
    if ((REDACT_DETECTORS as readonly string[]).includes(detector)) continue;
    const close = suggestKey(detector, REDACT_DETECTORS);
    problems.push({
      key: `redact[${i}]`,
      message: `unknown detector ${JSON.stringify(detector)}: ` +
        (close === undefined
          ? `expected one of ${REDACT_DETECTORS.join(", ")}`
          : `did you mean ${JSON.stringify(close)}?`),
    });
  }
  for (const [i, { pattern, replacement }] of (settings.redactPatterns ?? []).entries()) {
    const key = `redact_patterns[${i}]`;
    const problem = patternProblem(pattern, "g");
    if (problem !== undefined) {
      problems.push({ key: `${key}.pattern`, message: problem });
      continue;
    }
    const regex = compileConfigPattern(pattern);
    if (regex.test("")) {
      problems.push({
        key: `${key}.pattern`,
        message: "matches the empty string, so the replacement would go between every character",
      });
    }
    const groups = replacementProblem(regex, replacement);
    if (groups !== undefined) problems.push({ key: `${key}.replacement`, message: groups });
  }
  return problems;
}

function patternProblem(pattern: string, flags = ""): string | undefined {
  try {
    compileConfigPattern(pattern, flags);
    return undefined;
  } catch (error) {
    if (error instanceof PatternError) return error.message;
    throw error;
  }
}

/** What is wrong with the group references (`$2`, `$<name>`) of a replacement, if anything. */
function replacementProblem(regex: RegExp, replacement: string): string | undefined {
  const match = new RegExp(`${regex.source}|`, regex.flags).exec("")!;
  const count = match.length - 1;
  const names = Object.keys(match.groups ?? {});
  const groups = count === 1 ? "1 group" : `${count} groups`;
  // As String#replace reads it: "$$", "$&", "$`" and "$'" are not references; "$12" is
  // group 12 when there is one, else group 1 and a "2".
  for (const [reference, digits, name] of replacement.matchAll(/\$(?:[$&`']|(\d\d?)|<([^>]*)>)/g)) {
    if (digits !== undefined) {
      const two = Number(digits);
      const index = digits.length === 2 && two >= 1 && two <= count ? two : Number(digits[0]);
      if (index === 0) return `${reference} is not a group: the whole match is $&`;
      if (index > count) return `refers to group $${index}, but the pattern has ${groups}`;
    } else if (name !== undefined && !names.includes(name)) {
      return names.length === 0
        ? `refers to group ${reference}, but the pattern has no named groups`
        : `refers to group ${reference}, but the pattern's named groups are ${names.join(", ")}`;
    }
  }
  return undefined;
}

/**
 * Compiles a transform; undefined when it changes nothing, so the caller can skip it.
 *
 * @throws {Error} When the settings have a problem {@linkcode checkTransform} reports.
 */
export function compileTransform(config: TransformConfig): Transform | undefined {
  const problems = checkTransform(config);
  if (problems.length > 0) {
    const { key, message } = problems[0]!;
    throw new Error(`Invalid transform: ${key}: ${message}`);
  }
  const minRank = config.minLevel === undefined ? -1 : LEVEL_RANK[config.minLevel];
  const include = config.include.map((pattern) => compileConfigPattern(pattern));
  const exclude = config.exclude.map((pattern) => compileConfigPattern(pattern));
  const patterns: RedactPattern[] = config.redactPatterns.map(({ pattern, replacement }) => ({
    regex: compileConfigPattern(pattern, "g"),
    replacement,
  }));
  const redact = compileRedactor(config.redact, patterns);
  const redactNumbers = config.redact.includes("credit_card" satisfies RedactDetector);
  const dropFields = [...new Set(config.dropFields)];
  const addFields = Object.entries(config.addFields);
  const { stripAnsi: strip } = config;

  if (
    minRank === -1 && !strip && include.length === 0 && exclude.length === 0 &&
    redact === undefined && dropFields.length === 0 && addFields.length === 0
  ) {
    return undefined;
  }

  const hasInclude = include.length > 0;
  const hasExclude = exclude.length > 0;
  return (entry) => {
    if (minRank !== -1 && entry.level !== undefined && LEVEL_RANK[entry.level] < minRank) {
      return undefined;
    }
    let message = strip ? stripAnsi(entry.message) : entry.message;
    if (hasInclude && !include.some((regex) => regex.test(message))) return undefined;
    if (hasExclude && exclude.some((regex) => regex.test(message))) return undefined;
    let fields = entry.fields;
    if (fields !== undefined && dropFields.length > 0) fields = withoutFields(fields, dropFields);
    if (redact !== undefined) {
      message = redact(message);
      if (fields !== undefined) {
        fields = redactValue(fields, redact, redactNumbers, 1) as Record<string, unknown>;
      }
    }
    if (addFields.length > 0) {
      fields = { ...fields };
      for (const [key, value] of addFields) fields[key] = value;
    }
    if (message === entry.message && fields === entry.fields) return entry;

    const result: LogEntry = entry.level === undefined
      ? { time: entry.time, source: entry.source, message }
      : { time: entry.time, source: entry.source, level: entry.level, message };
    if (fields !== undefined && hasKeys(fields)) result.fields = fields;
    return result;
  };
}

function hasKeys(object: Record<string, unknown>): boolean {
  for (const _ in object) return true;
  return false;
}

function withoutFields(
  fields: Record<string, unknown>,
  drop: readonly string[],
): Record<string, unknown> {
  if (!drop.some((key) => Object.hasOwn(fields, key))) return fields;
  const kept: Record<string, unknown> = {};
  for (const key in fields) {
    if (!drop.includes(key)) kept[key] = fields[key];
  }
  return kept;
}

/**
 * `value` with its strings redacted, copied only where something changed: strings
 * anywhere in objects and arrays down to {@linkcode MAX_REDACT_DEPTH}, and card numbers
 * written as numbers when `numbers` is set. Keys are not redacted.
 */
function redactValue(value: unknown, redact: Redactor, numbers: boolean, depth: number): unknown {
  if (typeof value === "string") return redact(value);
  if (typeof value === "number") return numbers ? redactCardNumber(value) ?? value : value;
  if (typeof value !== "object" || value === null) return value;
  if (depth > MAX_REDACT_DEPTH) {
    const json = JSON.stringify(value);
    const redacted = redact(json);
    return redacted === json ? value : redacted;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const redacted = redactValue(item, redact, numbers, depth + 1);
      if (redacted !== item) {
        copy ??= value.slice();
        copy[i] = redacted;
      }
    }
    return copy ?? value;
  }
  const object = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in object) {
    const item = object[key];
    const redacted = redactValue(item, redact, numbers, depth + 1);
    if (redacted !== item) {
      copy ??= { ...object };
      copy[key] = redacted;
    }
  }
  return copy ?? object;
}
