/**
 * A client's own filter, from the query of an SSE or WebSocket request or from the keys of
 * a TCP hello line, compiled once into one matcher that the hub runs for every entry.
 *
 * | parameter | keeps |
 * |---|---|
 * | `level=WARN` | entries at this level or above (entries without a level are left out) |
 * | `source=GLOB` | entries whose `source` matches one of the globs (repeatable) |
 * | `grep=REGEX` | entries whose `message` matches |
 * | `exclude=REGEX` | entries whose `message` does not match |
 * | `icase=1` | makes `grep` and `exclude` case-insensitive, as a `(?i)` prefix does |
 * | `field.NAME=VALUE` | entries whose `fields.NAME`, as text, equals VALUE (repeatable) |
 * | `tail=N` | on connect, the last N matching entries still kept, then live ones |
 *
 * @module
 */
import type { Level, LogEntry } from "../entry/entry.ts";
import { compileGlob } from "../monitor/glob.ts";
import { LEVEL_CHOICES, LEVEL_RANK, parseLevelName } from "./level_name.ts";
import { compileClientPattern, PatternError, type RegexSafety } from "./safe_regex.ts";

/** Most filter values (of any of the filter parameters) one client may give. */
export const MAX_FILTER_VALUES = 32;
/** Largest `tail`: the most entries a stream can keep (`buffer_size`'s upper bound). */
export const MAX_TAIL = 1_000_000;
/** Longest `source` glob, field name or field value, in UTF-16 code units. */
export const MAX_VALUE_LENGTH = 1024;
/**
 * Characters of a message that `grep` and `exclude` look at: the start of a longer message
 * is matched, the rest is not. This bounds a match's time where the fallback to the
 * linear-time engine still costs time proportional to the text.
 */
export const MAX_MATCHED_LENGTH = 8192;

const FIELD_PREFIX = "field.";
/** Parameters that filter, in the order descriptions list them. */
const SINGLE = ["level", "grep", "exclude", "icase", "tail"] as const;

/** A compiled client filter. */
export interface ClientFilter {
  /** Whether `entry` passes the filter. */
  readonly matches: (entry: LogEntry) => boolean;
  /** True when no condition was given: every entry passes and the hub can skip the call. */
  readonly matchesAll: boolean;
  /** How many matching entries to replay on connect; 0 when `tail` was not given. */
  readonly tail: number;
  /** Names of the filter parameters given, once each, in the order they first came. */
  readonly parameters: readonly string[];
  /**
   * The filter in one short line for status, e.g. `level=WARN source="*.log"
   * grep="timeout" tail=100`; empty when nothing was given. Long values are cut.
   */
  readonly description: string;
}

/** A filter parameter that cannot be used: the HTTP layer answers 400, TCP an error line. */
export class FilterError extends Error {
  /** The parameter at fault, as given (`grep`, `field.user`...). */
  readonly parameter: string;
  /** Why, without the parameter name. */
  readonly reason: string;

  /** A problem with `parameter`; the message names it and gives `reason`. */
  constructor(parameter: string, reason: string) {
    super(`Parameter ${JSON.stringify(parameter)}: ${reason}`);
    this.name = "FilterError";
    this.parameter = parameter;
    this.reason = reason;
  }
}

/** Options of the filter parsers. */
export interface FilterOptions {
  /** How patterns are kept safe; defaults to what this process supports (see `regexSafety`). */
  readonly safety?: RegexSafety;
}

/**
 * The filter in `query` (a request's search parameters). Parameters that are not filter
 * parameters (`last_event_id`, `access_token`...) are ignored.
 *
 * @throws {FilterError} On the first unusable filter parameter.
 */
export function parseFilterQuery(
  query: URLSearchParams,
  options: FilterOptions = {},
): ClientFilter {
  const values: [string, string][] = [];
  for (const [name, value] of query) {
    if (isFilterParameter(name)) values.push([name, value]);
  }
  return buildFilter(values, options);
}

/**
 * The filter in the keys of a TCP hello object, e.g.
 * `{"level":"WARN","grep":"timeout","source":["*.log"],"field.user":42,"tail":100}`.
 * Values are strings, numbers or booleans (used as their text), or arrays of those for
 * repeated values. Other keys are ignored.
 *
 * @throws {FilterError} On the first unusable filter key.
 */
export function parseFilterHello(
  hello: Readonly<Record<string, unknown>>,
  options: FilterOptions = {},
): ClientFilter {
  const values: [string, string][] = [];
  for (const [name, value] of Object.entries(hello)) {
    if (!isFilterParameter(name)) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === "string") values.push([name, item]);
      else if (typeof item === "number" || typeof item === "boolean") {
        values.push([name, String(item)]);
      } else {
        throw new FilterError(
          name,
          `expected a string, a number or true/false, got ${kindOf(item)}`,
        );
      }
      // Enough to report "too many" without reading a huge array.
      if (values.length > MAX_FILTER_VALUES) return buildFilter(values, options);
    }
  }
  return buildFilter(values, options);
}

function isFilterParameter(name: string): boolean {
  return name === "source" || name.startsWith(FIELD_PREFIX) ||
    (SINGLE as readonly string[]).includes(name);
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : typeof value;
}

interface Parsed {
  level?: Level;
  grep?: string;
  exclude?: string;
  icase?: boolean;
  tail?: number;
  readonly sources: string[];
  readonly fields: Map<string, string[]>;
}

function buildFilter(values: readonly [string, string][], options: FilterOptions): ClientFilter {
  const parsed: Parsed = { sources: [], fields: new Map() };
  const parameters: string[] = [];
  for (const [name, value] of values) {
    if (parameters.length >= MAX_FILTER_VALUES) {
      throw new FilterError(name, `too many filter values: at most ${MAX_FILTER_VALUES}`);
    }
    const repeated = parameters.includes(name);
    if (repeated && (SINGLE as readonly string[]).includes(name)) {
      throw new FilterError(name, "given more than once");
    }
    readValue(parsed, name, value);
    parameters.push(name);
  }
  return compile(parsed, [...new Set(parameters)], options);
}

function readValue(parsed: Parsed, name: string, value: string): void {
  switch (name) {
    case "level": {
      const level = parseLevelName(value);
      if (level === undefined) {
        throw new FilterError(
          name,
          `unknown level ${JSON.stringify(value)}: expected ${LEVEL_CHOICES}`,
        );
      }
      parsed.level = level;
      return;
    }
    case "grep":
    case "exclude":
      parsed[name] = value;
      return;
    case "icase":
      parsed.icase = readSwitch(name, value);
      return;
    case "tail":
      parsed.tail = readTail(value);
      return;
    case "source":
      checkLength(name, value);
      parsed.sources.push(value);
      return;
  }
  const field = name.slice(FIELD_PREFIX.length);
  if (field === "") throw new FilterError(name, `the field name after "${FIELD_PREFIX}" is empty`);
  checkLength(name, field, "field name");
  checkLength(name, value);
  const wanted = parsed.fields.get(field) ?? [];
  wanted.push(value);
  parsed.fields.set(field, wanted);
}

function checkLength(name: string, value: string, what = "value"): void {
  if (value.length > MAX_VALUE_LENGTH) {
    throw new FilterError(name, `${what} is longer than ${MAX_VALUE_LENGTH} characters`);
  }
}

function readSwitch(name: string, value: string): boolean {
  // A bare "?icase" arrives as an empty value and means on.
  if (value === "" || value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  throw new FilterError(name, `expected 1, true, 0 or false, got ${JSON.stringify(value)}`);
}

function readTail(value: string): number {
  const tail = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(tail <= MAX_TAIL)) {
    throw new FilterError(
      "tail",
      `expected a whole number from 0 to ${MAX_TAIL}, got ${JSON.stringify(value)}`,
    );
  }
  return tail;
}

function pattern(
  name: string,
  source: string,
  ignoreCase: boolean,
  options: FilterOptions,
): RegExp {
  try {
    return compileClientPattern(source, {
      ignoreCase,
      ...(options.safety !== undefined && { safety: options.safety }),
    });
  } catch (error) {
    if (error instanceof PatternError) throw new FilterError(name, error.message);
    throw error;
  }
}

function compile(
  parsed: Parsed,
  parameters: readonly string[],
  options: FilterOptions,
): ClientFilter {
  const ignoreCase = parsed.icase ?? false;
  const minRank = parsed.level === undefined ? -1 : LEVEL_RANK[parsed.level];
  const grep = parsed.grep === undefined
    ? undefined
    : pattern("grep", parsed.grep, ignoreCase, options);
  const exclude = parsed.exclude === undefined
    ? undefined
    : pattern("exclude", parsed.exclude, ignoreCase, options);
  const source = parsed.sources.length === 0 ? undefined : sourceMatcher(parsed.sources);
  const fields = [...parsed.fields].map(([name, wanted]) => fieldMatcher(name, wanted));

  const matchesAll = minRank === -1 && grep === undefined && exclude === undefined &&
    source === undefined && fields.length === 0;
  const matches = matchesAll ? () => true : (entry: LogEntry): boolean => {
    // Cheapest tests first: most entries a filter drops fail on level or source.
    if (minRank !== -1) {
      const level = entry.level;
      if (level === undefined || LEVEL_RANK[level] < minRank) return false;
    }
    if (source !== undefined && !source(entry.source)) return false;
    for (const field of fields) {
      if (!field(entry.fields)) return false;
    }
    if (grep === undefined && exclude === undefined) return true;
    const message = entry.message.length > MAX_MATCHED_LENGTH
      ? entry.message.slice(0, MAX_MATCHED_LENGTH)
      : entry.message;
    if (grep !== undefined && !grep.test(message)) return false;
    return exclude === undefined || !exclude.test(message);
  };
  return {
    matches,
    matchesAll,
    tail: parsed.tail ?? 0,
    parameters,
    description: describe(parsed),
  };
}

/** Distinct source names a filter remembers its answer for; a stream has a handful. */
const SOURCE_CACHE_SIZE = 256;

function sourceMatcher(globs: readonly string[]): (source: string) => boolean {
  const matchers = globs.map((glob) => {
    try {
      return compileGlob(glob);
    } catch (error) {
      const message = (error as Error).message;
      throw new FilterError("source", `${message.charAt(0).toLowerCase()}${message.slice(1)}`);
    }
  });
  const known = new Map<string, boolean>();
  return (source) => {
    let matched = known.get(source);
    if (matched === undefined) {
      matched = matchers.some((matcher) => matcher(source));
      if (known.size >= SOURCE_CACHE_SIZE) known.clear();
      known.set(source, matched);
    }
    return matched;
  };
}

/**
 * A test of `fields.NAME` against wanted texts. A value's text is: a string itself; a
 * number as JavaScript writes it (`42`, `4.5`, `1e+21`); `true`, `false`, `null`; an object
 * or array as compact JSON in its key order. A missing field matches nothing. When no
 * field is named `NAME` exactly and `NAME` has dots, it is a path into nested objects
 * (`field.req.method=GET`).
 */
function fieldMatcher(
  name: string,
  wanted: readonly string[],
): (fields: Readonly<Record<string, unknown>> | undefined) => boolean {
  const path = name.includes(".") ? name.split(".") : undefined;
  const wantsJson = wanted.some((text) => text.startsWith("{") || text.startsWith("["));
  const one = wanted.length === 1 ? wanted[0] : undefined;
  return (fields) => {
    if (fields === undefined) return false;
    let value = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (value === undefined && path !== undefined) value = walk(fields, path);
    let text: string;
    switch (typeof value) {
      case "string":
        text = value;
        break;
      case "number":
      case "boolean":
        text = String(value);
        break;
      case "object":
        if (value === null) text = "null";
        else if (wantsJson) text = JSON.stringify(value);
        else return false;
        break;
      default:
        return false;
    }
    return one !== undefined ? text === one : wanted.includes(text);
  };
}

function walk(fields: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let value: unknown = fields;
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Longest value a description shows before cutting it with "…". */
const DESCRIBED_LENGTH = 60;

function describe(parsed: Parsed): string {
  const quote = (text: string) =>
    JSON.stringify(text.length > DESCRIBED_LENGTH ? `${text.slice(0, DESCRIBED_LENGTH)}…` : text);
  const parts: string[] = [];
  if (parsed.level !== undefined) parts.push(`level=${parsed.level}`);
  for (const source of parsed.sources) parts.push(`source=${quote(source)}`);
  if (parsed.grep !== undefined) parts.push(`grep=${quote(parsed.grep)}`);
  if (parsed.exclude !== undefined) parts.push(`exclude=${quote(parsed.exclude)}`);
  if (parsed.icase !== undefined) parts.push(`icase=${parsed.icase ? 1 : 0}`);
  for (const [name, wanted] of parsed.fields) {
    for (const text of wanted) parts.push(`${FIELD_PREFIX}${name}=${quote(text)}`);
  }
  if (parsed.tail !== undefined) parts.push(`tail=${parsed.tail}`);
  return parts.join(" ");
}
