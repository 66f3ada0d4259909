import assert from "node:assert/strict";
import type { Level, LogEntry } from "./entry.ts";
import { formatTime, parseLine, type ReadTime, readTime } from "./parse_line.ts";

const SOURCE = "app.log";
const AT = readTime(Date.UTC(2024, 5, 15, 12, 0, 0));

/** RFC 3339 text of a host-local wall-clock time (month 1-12), whatever the host zone. */
function local(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms = 0,
  micros = 0,
): string {
  // setFullYear takes years below 100 as they are, unlike the Date constructor.
  const date = new Date(2000, 0, 1);
  date.setFullYear(year, month - 1, day);
  date.setHours(hour, minute, second, ms);
  return formatTime(date.getTime(), micros);
}

interface Expected {
  time?: string;
  level?: Level;
  message?: string;
  fields?: Record<string, unknown>;
}

/** Parses `line` and compares with the expected entry, key order included. */
function check(line: string, expected: Expected, at: ReadTime = AT, truncated?: boolean): void {
  const time = expected.time ?? at.text;
  const message = expected.message ?? line;
  const want: LogEntry = expected.level === undefined
    ? { time, source: SOURCE, message }
    : { time, source: SOURCE, level: expected.level, message };
  if (expected.fields !== undefined) want.fields = expected.fields;
  const actual = parseLine(line, SOURCE, at, truncated);
  assert.deepEqual(actual, want, line);
  // deepEqual ignores key order; the serialized form must match exactly.
  assert.equal(JSON.stringify(actual), JSON.stringify(want), line);
}

// formatTime / readTime

Deno.test("formatTime: six fraction digits from ms and extra microseconds", () => {
  assert.equal(formatTime(0), "1970-01-01T00:00:00.000000Z");
  assert.equal(formatTime(Date.UTC(2024, 0, 1, 12, 0, 0, 123), 456), "2024-01-01T12:00:00.123456Z");
  assert.equal(formatTime(Date.UTC(2024, 0, 1, 12, 0, 0, 5), 7), "2024-01-01T12:00:00.005007Z");
  assert.equal(formatTime(-1), "1969-12-31T23:59:59.999000Z");
  assert.equal(formatTime(1.9), "1970-01-01T00:00:00.001000Z");
  assert.equal(
    formatTime(Date.UTC(9999, 11, 31, 23, 59, 59, 999), 999),
    "9999-12-31T23:59:59.999999Z",
  );
});

Deno.test("formatTime: agrees with Date#toISOString across the calendar", () => {
  let ms = -62167219200000;
  const step = 7919 * 86400000 + 3723456;
  for (; ms <= 253402300799999; ms += step) {
    assert.equal(formatTime(ms), new Date(ms).toISOString().replace("Z", "000Z"));
  }
  // Leap days and month ends, back and forth so the caches miss.
  for (const day of [Date.UTC(2024, 1, 29), Date.UTC(2000, 1, 29), Date.UTC(1900, 2, 1), 0]) {
    for (const offset of [-1, 0, 86399999, 86400000]) {
      assert.equal(
        formatTime(day + offset),
        new Date(day + offset).toISOString().replace("Z", "000Z"),
      );
    }
  }
});

Deno.test("formatTime: refuses values it cannot format", () => {
  for (const extra of [-1, 1000, 1.5, NaN]) {
    assert.throws(() => formatTime(0, extra), RangeError);
  }
  assert.throws(() => formatTime(NaN), RangeError);
  assert.throws(() => formatTime(1e20), RangeError);
});

Deno.test("readTime: keeps ms and its text", () => {
  const ms = Date.UTC(2024, 0, 1, 12, 0, 0, 42);
  assert.deepEqual(readTime(ms), { ms, text: "2024-01-01T12:00:00.042000Z" });
});

// Plain lines: time

const ISO_CASES: [line: string, time: string | undefined][] = [
  ["2024-01-01T12:00:00Z hello", "2024-01-01T12:00:00.000000Z"],
  ["2024-01-01T12:00:00.123456789Z hello", "2024-01-01T12:00:00.123456Z"],
  ["2024-01-01T12:00:00.1Z", "2024-01-01T12:00:00.100000Z"],
  ["2024-01-01T12:00:00.000001Z", "2024-01-01T12:00:00.000001Z"],
  ["2024-01-01t12:00:00z lower case", "2024-01-01T12:00:00.000000Z"],
  ["2024-01-01 12:00:00Z space separator", "2024-01-01T12:00:00.000000Z"],
  ["2024-01-01T12:00:00,123+02:00 log4j comma", "2024-01-01T10:00:00.123000Z"],
  ["2024-01-01T12:00:00.5+0200 no colon", "2024-01-01T10:00:00.500000Z"],
  ["2024-01-01T01:00:00.25-05:30 negative offset", "2024-01-01T06:30:00.250000Z"],
  ["2024-01-01T00:30:00+01:00 previous day in UTC", "2023-12-31T23:30:00.000000Z"],
  ["2024-01-01T12:00:00-00:00", "2024-01-01T12:00:00.000000Z"],
  ["[2024-01-01T12:00:00Z] bracketed", "2024-01-01T12:00:00.000000Z"],
  ["2024-02-29T12:00:00Z leap day", "2024-02-29T12:00:00.000000Z"],
  ["2000-02-29T12:00:00Z leap century", "2000-02-29T12:00:00.000000Z"],
  ["2024-01-01T12:00:60Z leap second", "2024-01-01T12:01:00.000000Z"],
  ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z"],
  ["0099-03-01T00:00:00+01:00", "0099-02-28T23:00:00.000000Z"],
  ["9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"],
  // Not a timestamp: read time.
  ["2024-13-01T12:00:00Z month 13", undefined],
  ["2024-00-01T12:00:00Z month 0", undefined],
  ["2023-02-29T12:00:00Z not a leap year", undefined],
  ["1900-02-29T12:00:00Z not a leap century", undefined],
  ["2024-02-30T12:00:00Z", undefined],
  ["2024-04-31T12:00:00Z", undefined],
  ["2024-01-00T12:00:00Z", undefined],
  ["2024-01-01T24:00:00Z", undefined],
  ["2024-01-01T12:60:00Z", undefined],
  ["2024-01-01T12:00:61Z", undefined],
  ["2024-01-01T12:00:00+24:00", undefined],
  ["2024-01-01T12:00:00+02:60", undefined],
  ["2024-01-01T12:00:00.1234567890Z ten fraction digits", undefined],
  ["2024-01-01T12:00:001 runs into digits", undefined],
  ["9999-12-31T23:59:59-01:00 past year 9999", undefined],
  ["0000-01-01T00:00:00+00:01 before year 0", undefined],
  ["2024-01-01 date only", undefined],
  ["2024-01-01T12:00Z no seconds", undefined],
  ["2024-1-01T12:00:00Z", undefined],
  ["24-01-01T12:00:00Z", undefined],
  ["at 2024-01-01T12:00:00Z not leading", undefined],
  [" 2024-01-01T12:00:00Z leading space", undefined],
  ["[[2024-01-01T12:00:00Z", undefined],
];

for (const [line, time] of ISO_CASES) {
  Deno.test(`parseLine: ISO time of ${JSON.stringify(line)}`, () => {
    check(line, time === undefined ? {} : { time });
  });
}

Deno.test("parseLine: ISO time without a zone is host-local", () => {
  check("2024-01-01 12:00:00 hello", { time: local(2024, 1, 1, 12, 0, 0) });
  check("2024-07-01T23:59:59.999999 summer", { time: local(2024, 7, 1, 23, 59, 59, 999, 999) });
  check("[2024-01-01 12:00:00,007] WARN x", {
    time: local(2024, 1, 1, 12, 0, 0, 7),
    level: "WARN",
  });
  check("2024-01-01 12:00:00.", { time: local(2024, 1, 1, 12, 0, 0) });
  // "+02" is no zone of the accepted forms: local time, the rest is text.
  check("2024-01-01T12:00:00+02 x", { time: local(2024, 1, 1, 12, 0, 0) });
  check("0050-06-01T00:00:00 year below 100", { time: local(50, 6, 1, 0, 0, 0) });
});

// Plain lines: syslog time

Deno.test("parseLine: syslog time takes the year of the read time", () => {
  const at = readTime(new Date(2024, 5, 15, 12, 0, 0).getTime());
  check("Jan  5 12:00:00 host sshd[1]: x", { time: local(2024, 1, 5, 12, 0, 0) }, at);
  check("Jan 5 12:00:00 single space", { time: local(2024, 1, 5, 12, 0, 0) }, at);
  check("Jan 05 12:00:00 zero padded", { time: local(2024, 1, 5, 12, 0, 0) }, at);
  check(
    "Dec 31 23:59:59 later in the year: last year's",
    { time: local(2023, 12, 31, 23, 59, 59) },
    at,
  );
  check("[Jun 15 11:00:00] bracketed", { time: local(2024, 6, 15, 11, 0, 0) }, at);
  check("Feb 29 12:00:00 leap day", { time: local(2024, 2, 29, 12, 0, 0) }, at);
});

Deno.test("parseLine: syslog time more than a day ahead is from last year", () => {
  const at = readTime(new Date(2025, 0, 1, 0, 30, 0).getTime());
  check("Dec 31 23:59:59 x", { time: local(2024, 12, 31, 23, 59, 59) }, at);
  check("Jan  1 00:10:00 x", { time: local(2025, 1, 1, 0, 10, 0) }, at);
  check("Jan  2 00:30:00 x", { time: local(2025, 1, 2, 0, 30, 0) }, at);
  check("Jan  2 00:30:01 x", { time: local(2024, 1, 2, 0, 30, 1) }, at);
  // Feb 29 2025 does not exist, so it is last year's from January too.
  check("Feb 29 12:00:00 x", { time: local(2024, 2, 29, 12, 0, 0) }, at);
});

Deno.test("parseLine: invalid syslog times use the read time", () => {
  const at = readTime(new Date(2025, 2, 15, 12, 0, 0).getTime());
  for (
    const line of [
      "Feb 29 12:00:00 not a leap year",
      "Feb 30 12:00:00",
      "Jan 32 12:00:00",
      "Jan  0 12:00:00",
      "Jan  5 24:00:00",
      "Jan  5 12:60:00",
      "Jan  5 12:00:000",
      "Jan  5 12:00",
      "JAN  5 12:00:00",
      "Foo  5 12:00:00",
      "Jan   5 12:00:00",
      "Jan 123 12:00:00",
    ]
  ) {
    check(line, {}, at);
  }
});

// Plain lines: level

const LEVEL_CASES: [line: string, level: Level | undefined][] = [
  ["ERROR something", "ERROR"],
  ["err: something", "ERROR"],
  ["[Err] something", "ERROR"],
  ["FATAL boom", "FATAL"],
  ["CRIT boom", "FATAL"],
  ["critical: boom", "FATAL"],
  ["[WARN] careful", "WARN"],
  ["Warning: careful", "WARN"],
  ["INFO: hello", "INFO"],
  ["level=info hello", "INFO"],
  ["inf hello", "INFO"],
  ["debug x", "DEBUG"],
  ["<DBG> x", "DEBUG"],
  ["trace x", "TRACE"],
  ["x|TRACE|y", "TRACE"],
  ["error-prone", "ERROR"],
  ["the end: warn", "WARN"],
  ["informational errors, then a WARN and an ERROR", "WARN"],
  ["information only", undefined],
  ["errors happened", undefined],
  ["INFO2 x", undefined],
  ["_INFO x", undefined],
  ["log_level:debug", "DEBUG"],
  ["set_debug_mode", undefined],
  ["9ERROR", undefined],
  ["ERROR_CODE", undefined],
  ["warned", undefined],
  ["notice", undefined],
  ["", undefined],
];

for (const [line, level] of LEVEL_CASES) {
  Deno.test(`parseLine: level of ${JSON.stringify(line)}`, () => {
    check(line, level === undefined ? {} : { level });
  });
}

Deno.test("parseLine: the message of a plain line is the whole line", () => {
  const line = "2024-01-01T12:00:00Z [ERROR] db: Connection timeout";
  check(line, { time: "2024-01-01T12:00:00.000000Z", level: "ERROR", message: line });
});

Deno.test("parseLine: truncated lines carry fields.truncated", () => {
  check("cut he", { fields: { truncated: true } }, AT, true);
  check("WARN cut", { level: "WARN", fields: { truncated: true } }, AT, true);
  check("not cut", {}, AT, false);
  check('{"msg":"a","x":1}', { message: "a", fields: { x: 1, truncated: true } }, AT, true);
});

// JSON lines

Deno.test("parseLine: JSON line in the README example serializes in wire order", () => {
  const line = '{"level":"error","msg":"Connection timeout","user_id":"12345",' +
    '"time":"2024-01-01T12:00:00.123456Z"}';
  assert.equal(
    JSON.stringify(parseLine(line, SOURCE, AT)),
    '{"time":"2024-01-01T12:00:00.123456Z","source":"app.log","level":"ERROR",' +
      '"message":"Connection timeout","fields":{"user_id":"12345"}}',
  );
});

const JSON_CASES: [name: string, line: string, expected: Expected][] = [
  ["empty object", "{}", { message: "" }],
  ["surrounding whitespace", ' \t{"msg":"hi"} \r', { message: "hi" }],
  ["message key", '{"message":"hi"}', { message: "hi" }],
  ["msg wins over message", '{"message":"b","msg":"a"}', {
    message: "a",
    fields: { message: "b" },
  }],
  ["object message", '{"msg":{"a":[1,2]}}', { message: '{"a":[1,2]}' }],
  ["number message", '{"msg":5}', { message: "5" }],
  ["null message", '{"msg":null}', { message: "null" }],
  ["no message", '{"a":1}', { message: "", fields: { a: 1 } }],
  ["plain level words in JSON are not levels", '{"msg":"ERROR x"}', { message: "ERROR x" }],
  [
    "fields keep their order and nesting",
    '{"b":1,"msg":"m","a":{"c":[{"d":null}]},"level":"info","z":true}',
    { level: "INFO", message: "m", fields: { b: 1, a: { c: [{ d: null }] }, z: true } },
  ],
  [
    "huge and precise numbers in fields",
    '{"msg":"m","big":12345678901234567890,"inf":1e400,"tiny":5e-324}',
    { message: "m", fields: { big: 12345678901234567000, inf: Infinity, tiny: 5e-324 } },
  ],
  // Levels
  ["level wins over lvl", '{"lvl":"debug","level":"warn"}', {
    level: "WARN",
    message: "",
    fields: { lvl: "debug" },
  }],
  ["lvl", '{"lvl":"DEBUG"}', { level: "DEBUG", message: "" }],
  ["severity", '{"severity":"Critical"}', { level: "FATAL", message: "" }],
  ["unknown level stays in fields", '{"level":"nope","msg":"m"}', {
    message: "m",
    fields: { level: "nope" },
  }],
  ["boolean level stays in fields", '{"level":true}', { message: "", fields: { level: true } }],
  ["null level stays in fields", '{"level":null}', { message: "", fields: { level: null } }],
  [
    "only the first present level key is read",
    '{"level":"nope","severity":"error"}',
    { message: "", fields: { level: "nope", severity: "error" } },
  ],
  // Times
  ["time wins over timestamp", '{"timestamp":"2024-01-02T00:00:00Z","time":1704110400}', {
    time: "2024-01-01T12:00:00.000000Z",
    message: "",
    fields: { timestamp: "2024-01-02T00:00:00Z" },
  }],
  ["timestamp", '{"timestamp":"2024-01-01T12:00:00.5Z"}', {
    time: "2024-01-01T12:00:00.500000Z",
    message: "",
  }],
  ["ts", '{"ts":"2024-01-01T12:00:00+01:00"}', {
    time: "2024-01-01T11:00:00.000000Z",
    message: "",
  }],
  ["@timestamp", '{"@timestamp":"2024-01-01T12:00:00.123456Z"}', {
    time: "2024-01-01T12:00:00.123456Z",
    message: "",
  }],
  ["epoch seconds", '{"time":1704110400}', { time: "2024-01-01T12:00:00.000000Z", message: "" }],
  ["fractional epoch seconds", '{"time":1704110400.123456}', {
    time: "2024-01-01T12:00:00.123456Z",
    message: "",
  }],
  ["epoch milliseconds", '{"time":1704110400123}', {
    time: "2024-01-01T12:00:00.123000Z",
    message: "",
  }],
  ["fractional epoch milliseconds", '{"time":1704110400123.456}', {
    time: "2024-01-01T12:00:00.123456Z",
    message: "",
  }],
  ["epoch microseconds", '{"time":1704110400123456}', {
    time: "2024-01-01T12:00:00.123456Z",
    message: "",
  }],
  ["epoch nanoseconds", '{"time":1704110400123456789}', {
    time: "2024-01-01T12:00:00.123456Z",
    message: "",
  }],
  ["epoch zero", '{"time":0}', { time: "1970-01-01T00:00:00.000000Z", message: "" }],
  ["negative epoch seconds", '{"time":-1.5}', { time: "1969-12-31T23:59:58.500000Z", message: "" }],
  ["largest epoch seconds", '{"time":99999999999}', {
    time: "5138-11-16T09:46:39.000000Z",
    message: "",
  }],
  ["smallest epoch milliseconds", '{"time":1e11}', {
    time: "1973-03-03T09:46:40.000000Z",
    message: "",
  }],
  ["smallest epoch microseconds", '{"time":1e14}', {
    time: "1973-03-03T09:46:40.000000Z",
    message: "",
  }],
  ["smallest epoch nanoseconds", '{"time":1e17}', {
    time: "1973-03-03T09:46:40.000000Z",
    message: "",
  }],
  ["epoch past year 9999 stays in fields", '{"time":1e300}', {
    message: "",
    fields: { time: 1e300 },
  }],
  ["text after a time stays in fields", '{"time":"2024-01-01T12:00:00Z x"}', {
    message: "",
    fields: { time: "2024-01-01T12:00:00Z x" },
  }],
  ["invalid date stays in fields", '{"time":"2024-02-30T12:00:00Z"}', {
    message: "",
    fields: { time: "2024-02-30T12:00:00Z" },
  }],
  ["epoch as text stays in fields", '{"ts":"1704110400"}', {
    message: "",
    fields: { ts: "1704110400" },
  }],
  ["object time stays in fields", '{"time":{"s":1}}', { message: "", fields: { time: { s: 1 } } }],
  ["null time stays in fields", '{"time":null}', { message: "", fields: { time: null } }],
  [
    "only the first present time key is read",
    '{"time":"soon","ts":1704110400}',
    { message: "", fields: { time: "soon", ts: 1704110400 } },
  ],
  // Not JSON objects: plain lines.
  ["invalid JSON", "{not json}", {}],
  ["text after the object", '{"msg":"a"} tail', {}],
  ["two objects", '{"msg":"a"}{"msg":"b"}', {}],
  ["array", '[{"msg":"a"}]', {}],
  ["lone brace", "{", {}],
  ["unclosed object", '{"msg":"ERROR"', { level: "ERROR" }],
];

for (const [name, line, expected] of JSON_CASES) {
  Deno.test(`parseLine: JSON ${name}`, () => check(line, expected));
}

Deno.test("parseLine: JSON level names", () => {
  const names: [string, Level][] = [
    ["trace", "TRACE"],
    ["VERBOSE", "TRACE"],
    ["debug", "DEBUG"],
    ["dbg", "DEBUG"],
    ["Info", "INFO"],
    ["inf", "INFO"],
    ["information", "INFO"],
    ["notice", "INFO"],
    ["warn", "WARN"],
    ["WARNING", "WARN"],
    ["error", "ERROR"],
    ["Err", "ERROR"],
    ["fatal", "FATAL"],
    ["critical", "FATAL"],
    ["crit", "FATAL"],
    ["panic", "FATAL"],
    ["emerg", "FATAL"],
    ["emergency", "FATAL"],
    ["alert", "FATAL"],
  ];
  for (const [name, level] of names) {
    check(JSON.stringify({ level: name }), { level, message: "" });
  }
  // Map lookup, not object lookup: inherited names are no levels.
  check('{"level":"constructor"}', { message: "", fields: { level: "constructor" } });
});

Deno.test("parseLine: JSON level numbers as pino/bunyan", () => {
  const numbers: [number, Level][] = [
    [-5, "TRACE"],
    [0, "TRACE"],
    [10, "TRACE"],
    [19.9, "TRACE"],
    [20, "DEBUG"],
    [25, "DEBUG"],
    [30, "INFO"],
    [40, "WARN"],
    [50, "ERROR"],
    [60, "FATAL"],
    [100, "FATAL"],
  ];
  for (const [number, level] of numbers) {
    check(JSON.stringify({ level: number }), { level, message: "" });
  }
});

Deno.test("parseLine: JSON time text without a zone is host-local", () => {
  check('{"time":"2024-01-01 12:00:00,5"}', {
    time: local(2024, 1, 1, 12, 0, 0, 500),
    message: "",
  });
  check('{"time":"Jan  5 12:00:00"}', { time: local(2024, 1, 5, 12, 0, 0), message: "" });
});

Deno.test("parseLine: a __proto__ key is kept as a field", () => {
  const result = parseLine('{"msg":"m","__proto__":{"polluted":true}}', SOURCE, AT);
  assert.ok(result.fields !== undefined);
  assert.equal(Object.getPrototypeOf(result.fields), Object.prototype);
  assert.deepEqual(Object.keys(result.fields), ["__proto__"]);
  assert.equal(JSON.stringify(result.fields), '{"__proto__":{"polluted":true}}');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("parseLine: NUL bytes, U+FFFD and lone surrogates do not break parsing", () => {
  check("\0\0\0", {});
  check("\uFFFD\uFFFD ERROR \0", { level: "ERROR" });
  check("{\0}", {});
  check("\uD800 WARN", { level: "WARN" });
  check('{"msg":"a\\u0000b\\ud800"}', { message: "a\0b\uD800" });
  check("2024-01-01T12:00:00Z\0INFO", { time: "2024-01-01T12:00:00.000000Z", level: "INFO" });
});

Deno.test("parseLine: never throws, always gives an RFC 3339 time", () => {
  // Deterministic mix of the characters the rules look at.
  const alphabet = [..."0123456789-:T Z+.,[]{}\"'\\eErRoOiInNfF\0\uFFFD", "Jan", "ERROR", "2024"];
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const shape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
  for (let i = 0; i < 5000; i++) {
    let line = i % 3 === 0 ? "2024-01-01T12:00:0" : i % 3 === 1 ? "{" : "";
    const length = next(40);
    for (let j = 0; j < length; j++) line += alphabet[next(alphabet.length)];
    const result = parseLine(line, SOURCE, AT);
    assert.match(result.time, shape, line);
    assert.equal(result.source, SOURCE);
    assert.equal(typeof result.message, "string");
  }
});

Deno.test("parseLine() keeps a JSON line nested deeper than the limit as text, whole", () => {
  const depth = 6000;
  const line = '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  const entry = parseLine(line, "app.log", AT);
  assert.equal(entry.message, line);
  assert.deepEqual(entry.fields, { json_error: "nested deeper than 64 levels: kept as text" });
  assert.equal(JSON.parse(JSON.stringify(entry)).message, line);
  const shallow = '{"a":'.repeat(64) + "1" + "}".repeat(64);
  assert.equal(parseLine(shallow, "app.log", AT).fields?.json_error, undefined);
});

Deno.test("parseLine: a level written in ANSI colour is detected, the message keeps the codes", () => {
  const line = "2024-01-01 10:00:00 \x1b[31mERROR\x1b[0m disk full";
  const entry = parseLine(line, SOURCE, AT);
  assert.equal(entry.level, "ERROR");
  assert.equal(entry.message, line);
  assert.equal(parseLine("\x1b[1;33mWARN\x1b[0m: slow", SOURCE, AT).level, "WARN");
});
