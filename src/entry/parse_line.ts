import { stripAnsi } from "./ansi.ts";
import { type Level, LEVEL_WORDS, type LogEntry } from "./entry.ts";

/** The moment a batch of lines was read, formatted once per batch, not per line. */
export interface ReadTime {
  /** Epoch milliseconds. */
  readonly ms: number;
  /** `ms` as {@linkcode formatTime} gives it. */
  readonly text: string;
}

const PAD2: readonly string[] = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
const PAD3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));

// Date#toISOString costs about half a microsecond, too much per line: format the date part
// once per day and the time of day from tables, and reuse the whole prefix within a second
// (lines of one batch mostly share it).
let cachedDay = NaN;
let cachedDate = "";
let cachedSecond = NaN;
let cachedPrefix = "";

/** "YYYY-MM-DDTHH:MM:SS." of an epoch second. */
function secondPrefix(second: number): string {
  const day = Math.floor(second / 86400);
  if (day !== cachedDay) {
    // Drops "00:00:00.000Z"; years past 9999 keep the extended "+YYYYYY" form.
    cachedDate = new Date(day * 86400000).toISOString().slice(0, -13);
    cachedDay = day;
  }
  const inDay = second - day * 86400;
  const minutes = Math.floor(inDay / 60);
  return cachedDate + PAD2[Math.floor(minutes / 60)] + ":" + PAD2[minutes % 60] + ":" +
    PAD2[inDay - minutes * 60] + ".";
}

/**
 * Formats epoch milliseconds (+ optional extra microseconds 0-999) as RFC 3339 UTC with
 * exactly 6 fraction digits, e.g. `2024-01-01T12:00:00.123456Z`.
 *
 * @throws {RangeError} When `ms` is outside the `Date` range or `extraMicros` is not an
 * integer from 0 to 999.
 */
export function formatTime(ms: number, extraMicros = 0): string {
  const micros = PAD3[extraMicros];
  if (micros === undefined) {
    throw new RangeError(`Extra microseconds must be an integer from 0 to 999, got ${extraMicros}`);
  }
  const whole = Math.floor(ms);
  const second = Math.floor(whole / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = secondPrefix(second);
    cachedSecond = second;
  }
  return cachedPrefix + PAD3[whole - second * 1000] + micros + "Z";
}

/** Captures `ms` (epoch milliseconds) with its formatted text, for {@linkcode parseLine}. */
export function readTime(ms: number): ReadTime {
  return { ms, text: formatTime(ms) };
}

// RFC 3339 limits the year to four digits: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z.
const MIN_MS = -62167219200000;
const MAX_MS = 253402300799999;
// Date.UTC and the local Date constructor read years 0-99 as 1900-1999; 400 years later the
// calendar repeats exactly (146097 days), so those years are computed 400 years on.
const YEARS_400_MS = 146097 * 86400000;
const DAY_MS = 86400000;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// The time and level rules are sticky or global regexes without captures: test() leaves the
// match end in lastIndex without allocating, and the parts are read back with charCodeAt.
// Exec with captures costs about five times as much per line.
//
// The lookahead refuses stamps running into more digits ("12:00:001"); the fraction takes all
// its digits so that more than 9 can be refused rather than silently cut.
const ISO_RE =
  /\[?\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})?(?![0-9])/y;
const SYSLOG_RE =
  /\[?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} \d{2}:\d{2}:\d{2}(?![0-9])/y;
// Without the u flag, \b and the i flag are ASCII-only: word characters are [A-Za-z0-9_].
const LEVEL_RE = /\b(?:ERR(?:OR)?|FATAL|CRIT(?:ICAL)?|WARN(?:ING)?|INFO?|DEBUG|DBG|TRACE)\b/gi;

/** Month index (0-11) by the char codes of its three-letter name, packed in one number. */
const MONTHS: ReadonlyMap<number, number> = new Map(
  ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    .map((name, i) => [monthKey(name, 0), i]),
);

function monthKey(text: string, at: number): number {
  return text.charCodeAt(at) << 16 | text.charCodeAt(at + 1) << 8 | text.charCodeAt(at + 2);
}

/** Level of each word LEVEL_RE matches, by its lower-case initial. */
const PLAIN_LEVELS: ReadonlyMap<number, Level> = new Map([
  [0x65, "ERROR"], // e: ERR, ERROR
  [0x66, "FATAL"], // f: FATAL
  [0x63, "FATAL"], // c: CRIT, CRITICAL
  [0x77, "WARN"], // w: WARN, WARNING
  [0x69, "INFO"], // i: INF, INFO
  [0x64, "DEBUG"], // d: DEBUG, DBG
  [0x74, "TRACE"], // t: TRACE
]);

const TIME_KEYS = ["time", "timestamp", "ts", "@timestamp"] as const;
const LEVEL_KEYS = ["level", "lvl", "severity"] as const;
const MESSAGE_KEYS = ["msg", "message"] as const;

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function isValidDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** The two-digit number at `at`; the caller's regex has checked the digits. */
function digits2(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
}

/** Epoch ms of a local wall-clock time; month is 0-based. */
function localMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): number {
  const date = new Date(year, month, day, hour, minute, second, ms);
  if (year < 100) date.setFullYear(year, month, day);
  return date.getTime();
}

function formatChecked(ms: number, micros: number): string | undefined {
  return ms >= MIN_MS && ms <= MAX_MS ? formatTime(ms, micros) : undefined;
}

/** End of the match of a sticky `regex` at the start of `text`, or -1. */
function matchEnd(regex: RegExp, text: string): number {
  regex.lastIndex = 0;
  return regex.test(text) ? regex.lastIndex : -1;
}

/** Time of the ISO stamp ISO_RE matched in `text` up to `end`. */
function isoTime(text: string, end: number): string | undefined {
  const p = text.charCodeAt(0) === 91 ? 1 : 0;
  const year = digits2(text, p) * 100 + digits2(text, p + 2);
  const month = digits2(text, p + 5);
  const day = digits2(text, p + 8);
  const hour = digits2(text, p + 11);
  const minute = digits2(text, p + 14);
  // A leap second (60) is accepted and lands on the next minute, as Date arithmetic does.
  const second = digits2(text, p + 17);
  if (!isValidDay(year, month, day) || hour > 23 || minute > 59 || second > 60) return undefined;

  let at = p + 19;
  let fractionMicros = 0;
  const separator = text.charCodeAt(at);
  // The match goes past the seconds only for a fraction or a zone, and a zone starts otherwise.
  if (at < end && (separator === 46 || separator === 44)) {
    const first = ++at;
    for (; at < end && isDigit(text.charCodeAt(at)); at++) {
      if (at - first < 6) fractionMicros = fractionMicros * 10 + text.charCodeAt(at) - 48;
    }
    const digits = at - first;
    if (digits > 9) return undefined;
    for (let i = digits; i < 6; i++) fractionMicros *= 10;
  }
  const fractionMs = Math.floor(fractionMicros / 1000);
  const micros = fractionMicros - fractionMs * 1000;
  // Without a zone the stamp is the host's local time.
  if (at === end) {
    return formatChecked(localMs(year, month - 1, day, hour, minute, second, fractionMs), micros);
  }
  let ms = year < 100
    ? Date.UTC(year + 400, month - 1, day, hour, minute, second, fractionMs) - YEARS_400_MS
    : Date.UTC(year, month - 1, day, hour, minute, second, fractionMs);
  const sign = text.charCodeAt(at);
  if (sign === 43 || sign === 45) {
    const offsetHours = digits2(text, at + 1);
    const offsetMinutes = digits2(text, text.charCodeAt(at + 3) === 58 ? at + 4 : at + 3);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    const offsetMs = (offsetHours * 60 + offsetMinutes) * 60000;
    ms += sign === 43 ? -offsetMs : offsetMs;
  }
  return formatChecked(ms, micros);
}

let cachedYearAt = NaN;
let cachedYear = 0;

/** Time of the syslog stamp SYSLOG_RE matched at the start of `text`. */
function syslogTime(text: string, atMs: number): string | undefined {
  const p = text.charCodeAt(0) === 91 ? 1 : 0;
  const month = MONTHS.get(monthKey(text, p))!;
  let at = p + 4;
  if (text.charCodeAt(at) === 32) at++;
  let day = text.charCodeAt(at++) - 48;
  if (text.charCodeAt(at) !== 32) day = day * 10 + text.charCodeAt(at++) - 48;
  const hour = digits2(text, at + 1);
  const minute = digits2(text, at + 4);
  const second = digits2(text, at + 7);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  if (atMs !== cachedYearAt) {
    cachedYear = new Date(atMs).getFullYear();
    cachedYearAt = atMs;
  }
  let year = cachedYear;
  // Syslog stamps have no year: one that would lie more than a day after the read time is
  // from last year (a December line read in January).
  let ms = localMs(year, month, day, hour, minute, second, 0);
  if (ms > atMs + DAY_MS) {
    year--;
    ms = localMs(year, month, day, hour, minute, second, 0);
  }
  return isValidDay(year, month + 1, day) ? formatChecked(ms, 0) : undefined;
}

/** Time of a stamp at the start of `text`; with `whole`, only when the stamp is all of it. */
function stampTime(text: string, atMs: number, whole: boolean): string | undefined {
  const first = text.charCodeAt(0) === 91 ? text.charCodeAt(1) : text.charCodeAt(0);
  if (isDigit(first)) {
    const end = matchEnd(ISO_RE, text);
    return end !== -1 && (!whole || end === text.length) ? isoTime(text, end) : undefined;
  }
  if (first >= 65 && first <= 90) {
    const end = matchEnd(SYSLOG_RE, text);
    return end !== -1 && (!whole || end === text.length) ? syslogTime(text, atMs) : undefined;
  }
  return undefined;
}

/**
 * Level of the first level word in a plain line. Colour codes are removed first, so that
 * `\x1b[31mERROR\x1b[0m` (the "m" would otherwise join the word) is found.
 */
function plainLevel(raw: string): Level | undefined {
  const line = stripAnsi(raw);
  LEVEL_RE.lastIndex = 0;
  if (!LEVEL_RE.test(line)) return undefined;
  // Level words are letters only and follow a non-word character: back up to the initial.
  let start = LEVEL_RE.lastIndex - 1;
  while (start > 0 && ((line.charCodeAt(start - 1) | 0x20) - 0x61) >>> 0 < 26) start--;
  return PLAIN_LEVELS.get(line.charCodeAt(start) | 0x20);
}

/**
 * Epoch number to time text. The magnitude picks the unit: seconds below 1e11 (year 5138),
 * milliseconds below 1e14, microseconds below 1e17, else nanoseconds.
 */
function epochTime(n: number): string | undefined {
  const magnitude = Math.abs(n);
  let ms: number;
  let micros: number;
  if (magnitude < 1e14) {
    // Fractional seconds and milliseconds: round to the nearest microsecond to absorb
    // binary floating-point error (1.000001 * 1e6 is 1000000.9999999999).
    const whole = Math.floor(n);
    const fraction = Math.round((n - whole) * (magnitude < 1e11 ? 1e6 : 1e3));
    const wholeMs = magnitude < 1e11 ? whole * 1000 : whole;
    ms = wholeMs + Math.floor(fraction / 1000);
    micros = fraction % 1000;
  } else {
    // Sub-microsecond digits are cut, not rounded, like the fraction of a text stamp.
    const total = Math.floor(magnitude < 1e17 ? n : n / 1000);
    const rest = total % 1000;
    micros = rest < 0 ? rest + 1000 : rest;
    ms = Math.round((total - micros) / 1000);
  }
  return formatChecked(ms, micros);
}

function levelOf(value: unknown): Level | undefined {
  if (typeof value === "string") return LEVEL_WORDS.get(value.toLowerCase());
  if (typeof value !== "number") return undefined;
  if (value >= 60) return "FATAL";
  if (value >= 50) return "ERROR";
  if (value >= 40) return "WARN";
  if (value >= 30) return "INFO";
  if (value >= 20) return "DEBUG";
  return "TRACE";
}

function firstKey(object: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    if (Object.hasOwn(object, key)) return key;
  }
  return undefined;
}

function isJsonWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10;
}

/**
 * Deepest nesting of objects and arrays kept as structure. A line nested deeper (a hostile
 * or broken one) is an entry all the same, with the line as its message: serializing it
 * again could exhaust the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests objects or arrays more than `depth` levels deep. */
function deeperThan(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (depth === 0) return true;
  for (const key in value) {
    if (deeperThan((value as Record<string, unknown>)[key], depth - 1)) return true;
  }
  return false;
}

/** Parses `line` when it is a JSON object; `undefined` for anything else, or "deep". */
function parseObject(line: string): Record<string, unknown> | "deep" | undefined {
  let start = 0;
  let end = line.length - 1;
  while (start < end && isJsonWhitespace(line.charCodeAt(start))) start++;
  while (end > start && isJsonWhitespace(line.charCodeAt(end))) end--;
  if (line.charCodeAt(start) !== 123 || line.charCodeAt(end) !== 125) {
    return undefined;
  }
  let object: Record<string, unknown>;
  try {
    // A JSON text that starts with "{" and parses is a plain object.
    object = JSON.parse(line);
  } catch {
    return undefined;
  }
  return deeperThan(object, MAX_JSON_DEPTH) ? "deep" : object;
}

function jsonEntry(
  object: Record<string, unknown>,
  source: string,
  at: ReadTime,
  truncated: boolean | undefined,
): LogEntry {
  // Only the first present alias is read; when its value cannot be understood it stays in
  // fields under its own key, so nothing is lost.
  let timeKey = firstKey(object, TIME_KEYS);
  let time: string | undefined;
  if (timeKey !== undefined) {
    const value = object[timeKey];
    if (typeof value === "string") time = stampTime(value, at.ms, true);
    else if (typeof value === "number") time = epochTime(value);
    if (time === undefined) timeKey = undefined;
  }
  let levelKey = firstKey(object, LEVEL_KEYS);
  let level: Level | undefined;
  if (levelKey !== undefined) {
    level = levelOf(object[levelKey]);
    if (level === undefined) levelKey = undefined;
  }
  const messageKey = firstKey(object, MESSAGE_KEYS);
  let message = "";
  if (messageKey !== undefined) {
    const value = object[messageKey];
    message = typeof value === "string" ? value : JSON.stringify(value);
  }

  const entry: LogEntry = level === undefined
    ? { time: time ?? at.text, source, message }
    : { time: time ?? at.text, source, level, message };
  let fields: Record<string, unknown> | undefined;
  for (const key in object) {
    if (key === timeKey || key === levelKey || key === messageKey) continue;
    fields ??= {};
    // Safe for a "__proto__" key too: Deno has no Object.prototype.__proto__ setter.
    fields[key] = object[key];
  }
  if (truncated === true) {
    fields ??= {};
    fields.truncated = true;
  }
  if (fields !== undefined) entry.fields = fields;
  return entry;
}

/**
 * Turns one line (already split, no newline) into an entry as README "Entries" describes. Never throws.
 *
 * `at` is the read time used when the line carries no time of its own; `truncated` marks a
 * line cut at `max_line_bytes`.
 */
export function parseLine(
  line: string,
  source: string,
  at: ReadTime,
  truncated?: boolean,
): LogEntry {
  const object = parseObject(line);
  if (object !== undefined && object !== "deep") return jsonEntry(object, source, at, truncated);

  const time = stampTime(line, at.ms, false) ?? at.text;
  const level = plainLevel(line);
  const entry: LogEntry = level === undefined
    ? { time, source, message: line }
    : { time, source, level, message: line };
  if (object === "deep") {
    entry.fields = { json_error: `nested deeper than ${MAX_JSON_DEPTH} levels: kept as text` };
  }
  if (truncated === true) entry.fields = { ...entry.fields, truncated: true };
  return entry;
}
