/**
 * Regular expressions from clients and from the configuration, compiled so that none can
 * stall the thread that serves everyone.
 *
 * V8 backtracks: `(a+)+$` against a line of `a`s and a `!` takes 2^n steps. Started with
 * {@linkcode REGEX_V8_FLAGS}, V8 switches a match to its linear-time engine once it has
 * backtracked too often, but only for patterns that engine supports (no backreferences, no
 * lookaheads, no `i` or `u` flag, repetition counts up to 16). A client pattern must
 * therefore be one the linear-time engine accepts, which the `l` flag (available under the
 * same flags) checks; `(?i)` and `icase=1` are rewritten into character classes instead of
 * the `i` flag. The match itself runs on the ordinary engine, 30 to 50 times faster than
 * the linear one on ordinary patterns (`regex_bench.ts`).
 *
 * Without those flags (`safety` `"restricted"`), a client pattern may not repeat (`*`, `+`,
 * `?`, `{n,m}`) nor alternate inside a group: such a pattern tries a bounded number of
 * steps at each position of the text.
 *
 * @module
 */
import {
  caseInsensitiveSource,
  parseRegex,
  type RegexFeatures,
  regexFeatures,
} from "./regex_syntax.ts";

/**
 * The V8 flags under which client patterns get the linear-time guarantee; with them,
 * {@linkcode regexSafety} is `"linear"`. Give them to `deno run`, `deno test`,
 * `deno bench` and `deno compile` as `--v8-flags=` followed by this text.
 */
export const REGEX_V8_FLAGS =
  "--enable-experimental-regexp-engine,--enable-experimental-regexp-engine-on-excessive-backtracks,--regexp-backtracks-before-fallback=1000";

/** Longest client pattern, in UTF-16 code units. */
export const MAX_PATTERN_LENGTH = 512;

/**
 * Largest compiled size of a client pattern that repeats or alternates inside a group
 * (terms, each repetition multiplying its body by its count): the linear-time engine's work
 * per character, when V8 falls back to it, grows with it.
 */
export const MAX_PATTERN_SIZE = 256;

/**
 * How client patterns are kept from stalling the process: `"linear"` when V8 runs with
 * {@linkcode REGEX_V8_FLAGS}, `"restricted"` (no repetition, no alternation inside groups)
 * without.
 */
export type RegexSafety = "linear" | "restricted";

let detected: RegexSafety | undefined;

/** The flag that makes a pattern run on the linear-time engine, refused without the flags. */
const LINEAR = "l";

/** The {@linkcode RegexSafety} of this process, found once by trying the `l` flag. */
export function regexSafety(): RegexSafety {
  if (detected === undefined) {
    try {
      new RegExp("", LINEAR);
      detected = "linear";
    } catch {
      detected = "restricted";
    }
  }
  return detected;
}

/** A pattern that cannot be used, with the reason as its message (lower case, for a detail). */
export class PatternError extends Error {
  /** A pattern that cannot be used for `message`, a reason in lower case. */
  constructor(message: string) {
    super(message);
    this.name = "PatternError";
  }
}

/** Options of {@linkcode compileClientPattern}. */
export interface ClientPatternOptions {
  /** Match letters in either case, as the `(?i)` prefix does. */
  readonly ignoreCase?: boolean;
  /** Defaults to {@linkcode regexSafety}; tests use it to check both behaviours. */
  readonly safety?: RegexSafety;
}

const IGNORE_CASE_PREFIX = "(?i)";

/**
 * Compiles an untrusted pattern (JavaScript syntax without flags; a `(?i)` prefix makes it
 * case-insensitive) into a regular expression whose every match takes bounded time.
 *
 * @throws {PatternError} When the pattern is too long, invalid, or could run too long.
 */
export function compileClientPattern(pattern: string, options: ClientPatternOptions = {}): RegExp {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new PatternError(`pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  const { source, ignoreCase } = splitPrefix(pattern, options.ignoreCase ?? false);
  checkSyntax(source);
  const tree = parseRegex(source);
  const features = regexFeatures(tree);
  if (features.backreference) {
    throw new PatternError("backreferences (\\1, \\k<name>) are not supported");
  }
  // Without repetition or alternation inside a group, a pattern tries at most its length in
  // steps at each position and never falls back; only the others need a size bound.
  const backtracks = features.repetition || features.nestedAlternation;
  if (backtracks && features.size > MAX_PATTERN_SIZE) {
    throw new PatternError(
      `pattern is too large: it compiles to ${features.size} terms, at most ${MAX_PATTERN_SIZE}` +
        " (repetition counts multiply the size of what they repeat)",
    );
  }
  const final = ignoreCase ? caseInsensitiveSource(tree) : source;
  if ((options.safety ?? regexSafety()) === "linear") {
    try {
      new RegExp(final, LINEAR);
    } catch {
      throw new PatternError(`cannot run in linear time: ${linearRefusal(features)}`);
    }
  } else if (backtracks) {
    const what = features.repetition ? "repetition (*, +, ?, {n,m})" : "alternation inside a group";
    throw new PatternError(
      `${what} needs the linear-time regular expression engine, which this server runs without`,
    );
  }
  return new RegExp(final);
}

/**
 * Compiles a pattern from the configuration: any JavaScript regular expression the
 * linear-time engine can run with the same `flags` (when the process has
 * {@linkcode REGEX_V8_FLAGS}), with an optional `(?i)` prefix. V8 falls back to that engine
 * only for such patterns: a lookahead, a backreference, or (with `g`) a lookbehind would
 * backtrack without bound on a line written to a followed file, on the thread that serves
 * every client. Case-insensitive patterns are rewritten without the `i` flag for the same
 * reason.
 *
 * @throws {PatternError} When the pattern is invalid or could run too long.
 */
export function compileConfigPattern(
  pattern: string,
  flags = "",
  safety: RegexSafety = regexSafety(),
): RegExp {
  const { source, ignoreCase } = splitPrefix(pattern, false);
  checkSyntax(source);
  const tree = parseRegex(source);
  const features = regexFeatures(tree);
  // Only a backreference needs the i flag, which the linear-time engine refuses.
  const withI = ignoreCase && features.backreference;
  const final = ignoreCase && !withI ? caseInsensitiveSource(tree) : source;
  const used = withI ? `${flags}i` : flags;
  if (safety === "linear") {
    try {
      new RegExp(final, used + LINEAR);
    } catch {
      throw new PatternError(
        `cannot run in linear time: ${linearRefusal(features, flags.includes("g"))}`,
      );
    }
  }
  return new RegExp(final, used);
}

function splitPrefix(
  pattern: string,
  ignoreCase: boolean,
): { source: string; ignoreCase: boolean } {
  return pattern.startsWith(IGNORE_CASE_PREFIX)
    ? { source: pattern.slice(IGNORE_CASE_PREFIX.length), ignoreCase: true }
    : { source: pattern, ignoreCase };
}

function checkSyntax(source: string): void {
  try {
    new RegExp(source);
  } catch (error) {
    // V8 says "Invalid regular expression: /source/flags: reason"; the source is known.
    const reason = (error as Error).message.replace(/^[^]*\/: /, "");
    throw new PatternError(
      `invalid regular expression: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`,
    );
  }
}

/** Why the linear-time engine refused a pattern, as far as its features tell. */
function linearRefusal(features: RegexFeatures, global = false): string {
  if (features.backreference) return "backreferences (\\1, \\k<name>) are not supported";
  if (features.lookahead) return "lookaheads ((?=...), (?!...)) are not supported";
  if (global && features.lookbehind) {
    return "lookbehinds ((?<=...), (?<!...)) are not supported where every match is replaced;" +
      " capture the context instead and put it back with $1";
  }
  if (features.modifiers) {
    return "inline modifiers ((?i:...)) are not supported; a (?i) prefix applies to the whole pattern";
  }
  if (features.replication > 16) {
    return `repetition counts multiply to ${features.replication}, at most 16`;
  }
  return "the linear-time engine does not support this pattern";
}
