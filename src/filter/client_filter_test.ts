import assert from "node:assert/strict";
import type { LogEntry } from "../entry/entry.ts";
import {
  type ClientFilter,
  FilterError,
  MAX_FILTER_VALUES,
  MAX_MATCHED_LENGTH,
  parseFilterHello,
  parseFilterQuery,
} from "./client_filter.ts";
import { MAX_PATTERN_LENGTH, REGEX_V8_FLAGS, regexSafety } from "./safe_regex.ts";

const linear = regexSafety() === "linear";

function query(text: string): ClientFilter {
  return parseFilterQuery(new URLSearchParams(text));
}

function entry(message: string, extra: Partial<LogEntry> = {}): LogEntry {
  return { time: "2024-01-01T12:00:00.000000Z", source: "app.log", message, ...extra };
}

function matching(filter: ClientFilter, entries: readonly LogEntry[]): string[] {
  return entries.filter((e) => filter.matches(e)).map((e) => e.message);
}

/** The error `parse` throws, checked to be a FilterError about `parameter`. */
function filterError(parse: () => unknown, parameter: string): FilterError {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof FilterError, `expected a FilterError, got ${error}`);
    assert.equal(error.parameter, parameter);
    assert.equal(error.message, `Parameter ${JSON.stringify(parameter)}: ${error.reason}`);
    return error;
  }
  assert.fail(`expected a FilterError about ${JSON.stringify(parameter)}`);
}

Deno.test("an empty filter matches everything and says so", () => {
  const filter = query("last_event_id=12&access_token=secret&Level=ERROR");
  assert.equal(filter.matchesAll, true);
  assert.equal(filter.matches(entry("x")), true);
  assert.equal(filter.tail, 0);
  assert.deepEqual(filter.parameters, []);
  assert.equal(filter.description, "");
});

Deno.test("level keeps entries at that level or above, and none without a level", () => {
  const entries = [
    entry("none"),
    entry("debug", { level: "DEBUG" }),
    entry("warn", { level: "WARN" }),
    entry("error", { level: "ERROR" }),
    entry("fatal", { level: "FATAL" }),
  ];
  assert.deepEqual(matching(query("level=WARN"), entries), ["warn", "error", "fatal"]);
  assert.deepEqual(matching(query("level=warning"), entries), ["warn", "error", "fatal"]);
  assert.deepEqual(matching(query("level=err"), entries), ["error", "fatal"]);
  assert.deepEqual(matching(query("level=Crit"), entries), ["fatal"]);
  assert.deepEqual(matching(query("level=trace"), entries), ["debug", "warn", "error", "fatal"]);
  const error = filterError(() => query("level=LOUD"), "level");
  assert.equal(
    error.message,
    'Parameter "level": unknown level "LOUD": expected TRACE, DEBUG, INFO, WARN, ERROR or FATAL',
  );
  filterError(() => query("level="), "level");
});

Deno.test("source keeps entries whose source matches any of the globs", () => {
  const entries = ["app.log", "app.log.1", "db.log", "auth.txt"].map((source) =>
    entry(source, { source })
  );
  assert.deepEqual(matching(query("source=*.log"), entries), ["app.log", "db.log"]);
  assert.deepEqual(matching(query("source=app.*&source=*.txt"), entries), [
    "app.log",
    "app.log.1",
    "auth.txt",
  ]);
  // The answer per source name is remembered; asking again gives the same.
  const filter = query("source=db.*");
  for (let i = 0; i < 3; i++) assert.deepEqual(matching(filter, entries), ["db.log"]);
  assert.match(filterError(() => query("source=app.[log"), "source").reason, /unclosed "\["/);
  assert.match(filterError(() => query("source="), "source").reason, /empty/);
  assert.match(filterError(() => query("source=logs/*.log"), "source").reason, /base names/);
});

Deno.test("grep and exclude match the message; (?i) and icase=1 ignore case", () => {
  const entries = [
    entry("Connection timeout after 30s"),
    entry("TIMEOUT on /health"),
    entry("request ok"),
  ];
  assert.deepEqual(matching(query("grep=timeout"), entries), ["Connection timeout after 30s"]);
  assert.deepEqual(matching(query("grep=(?i)timeout"), entries), [
    "Connection timeout after 30s",
    "TIMEOUT on /health",
  ]);
  assert.deepEqual(matching(query("grep=timeout&icase=1"), entries), [
    "Connection timeout after 30s",
    "TIMEOUT on /health",
  ]);
  assert.deepEqual(matching(query("exclude=health"), entries), [
    "Connection timeout after 30s",
    "request ok",
  ]);
  assert.deepEqual(matching(query("grep=(?i)timeout&exclude=/HEALTH&icase=true"), entries), [
    "Connection timeout after 30s",
  ]);
  assert.deepEqual(matching(query("grep=^request\\sok$|\\ds$"), entries), [
    "Connection timeout after 30s",
    "request ok",
  ]);
  assert.equal(query("icase").matchesAll, true);
  filterError(() => query("icase=maybe"), "icase");
});

Deno.test("grep looks at the first MAX_MATCHED_LENGTH characters of a message", () => {
  const filter = query("grep=needle");
  assert.equal(filter.matches(entry(`${"x".repeat(MAX_MATCHED_LENGTH - 6)}needle`)), true);
  assert.equal(filter.matches(entry(`${"x".repeat(MAX_MATCHED_LENGTH)}needle`)), false);
});

Deno.test("bad patterns name the parameter and the reason", () => {
  assert.equal(
    filterError(() => query("grep=(unclosed"), "grep").message,
    'Parameter "grep": invalid regular expression: unterminated group',
  );
  assert.match(filterError(() => query("exclude=a{2,1}"), "exclude").reason, /invalid regular/);
  assert.match(
    filterError(() => query(`grep=${"a".repeat(MAX_PATTERN_LENGTH + 1)}`), "grep").reason,
    /longer than 512 characters/,
  );
  assert.match(filterError(() => query("grep=(a)\\1"), "grep").reason, /backreferences/);
  assert.match(
    filterError(() => query(`grep=${"(?:a?){16}".repeat(6)}`), "grep").reason,
    /too large/,
  );
});

Deno.test({
  name: "with the linear-time engine, patterns it cannot run are refused with the reason",
  ignore: !linear,
  fn() {
    assert.match(
      filterError(() => query("grep=a(?=b)"), "grep").reason,
      /^cannot run in linear time: lookaheads/,
    );
    assert.match(
      filterError(() => query("grep=(?i:a)b"), "grep").reason,
      /^cannot run in linear time: inline modifiers/,
    );
    assert.match(
      filterError(() => query("grep=[0-9a-f]{32}"), "grep").reason,
      /^cannot run in linear time: repetition counts multiply to 32, at most 16/,
    );
    // Lookbehinds, counted repetition up to 16 and case-insensitivity are fine.
    const filter = query("grep=(?i)(?<=user=)[a-z]{2,16}\\b");
    assert.equal(filter.matches(entry("login user=Alice ok")), true);
    assert.equal(filter.matches(entry("login uid=Alice ok")), false);
  },
});

Deno.test({
  name: "with the linear-time engine, a catastrophic pattern takes linear time",
  ignore: !linear,
  fn() {
    // Without the fallback, each of these takes longer than the universe has existed.
    const evil = `${"a".repeat(MAX_MATCHED_LENGTH - 1)}!`;
    const cases: [pattern: string, evil: boolean, short: boolean][] = [
      ["(a+)+$", false, true],
      ["(?i)(a+)+$", false, true],
      ["(a|a)*$", true, true],
      ["^((a|aa)+)+$", false, true],
      ["(.*,){12}X", false, false],
    ];
    for (const [pattern, onEvil, onShort] of cases) {
      const filter = query(`grep=${encodeURIComponent(pattern)}`);
      assert.equal(filter.matches(entry(evil)), onEvil, pattern);
      assert.equal(filter.matches(entry("aaa")), onShort, pattern);
    }
  },
});

Deno.test("without the linear-time engine, only patterns without repetition are taken", () => {
  const restricted = (text: string) =>
    parseFilterQuery(new URLSearchParams(text), { safety: "restricted" });
  assert.match(
    filterError(() => restricted("grep=(a%2B)%2B$"), "grep").reason,
    /^repetition \(\*, \+, \?, \{n,m\}\) needs the linear-time regular expression engine/,
  );
  assert.match(
    filterError(() => restricted("grep=x(a|b)"), "grep").reason,
    /^alternation inside a group needs/,
  );
  const filter = restricted("grep=(?i)timeout|refused&exclude=^\\[DEBUG\\]");
  assert.equal(filter.matches(entry("Connection REFUSED")), true);
  assert.equal(filter.matches(entry("[DEBUG] connection refused")), false);
});

Deno.test("field.NAME compares the field's text with the value", () => {
  const entries = [
    entry("string", { fields: { user: "42" } }),
    entry("number", { fields: { user: 42 } }),
    entry("float", { fields: { user: 42.5 } }),
    entry("boolean", { fields: { user: true } }),
    entry("null", { fields: { user: null } }),
    entry("object", { fields: { user: { id: 42 } } }),
    entry("array", { fields: { user: [4, 2] } }),
    entry("missing", { fields: { other: "42" } }),
    entry("no fields"),
  ];
  assert.deepEqual(matching(query("field.user=42"), entries), ["string", "number"]);
  assert.deepEqual(matching(query("field.user=42.5"), entries), ["float"]);
  assert.deepEqual(matching(query("field.user=true"), entries), ["boolean"]);
  assert.deepEqual(matching(query("field.user=null"), entries), ["null"]);
  assert.deepEqual(matching(query('field.user={"id":42}'), entries), ["object"]);
  assert.deepEqual(matching(query("field.user=[4,2]"), entries), ["array"]);
  assert.deepEqual(matching(query("field.user=42&field.user=true"), entries), [
    "string",
    "number",
    "boolean",
  ]);
  assert.deepEqual(matching(query("field.user="), entries), []);
  filterError(() => query("field.=x"), "field.");
  filterError(() => query(`field.user=${"x".repeat(1025)}`), "field.user");
});

Deno.test("field.NAME with dots looks into nested objects unless a field has that name", () => {
  const entries = [
    entry("nested", { fields: { req: { method: "GET", headers: { host: "a" } } } }),
    entry("dotted", { fields: { "req.method": "GET" } }),
    entry("both", { fields: { "req.method": "POST", req: { method: "GET" } } }),
    entry("array", { fields: { req: ["GET"] } }),
    entry("inherited", { fields: { req: {} } }),
  ];
  assert.deepEqual(matching(query("field.req.method=GET"), entries), ["nested", "dotted"]);
  assert.deepEqual(matching(query("field.req.headers.host=a"), entries), ["nested"]);
  assert.deepEqual(matching(query("field.req.0=GET"), entries), ["array"]);
  assert.deepEqual(matching(query("field.req.constructor=x"), entries), []);
});

Deno.test("different conditions must all hold", () => {
  const entries = [
    entry("a", { level: "ERROR", source: "app.log", fields: { user: "1" } }),
    entry("b timeout", { level: "ERROR", source: "app.log", fields: { user: "1" } }),
    entry("c timeout", { level: "INFO", source: "app.log", fields: { user: "1" } }),
    entry("d timeout", { level: "ERROR", source: "db.log", fields: { user: "1" } }),
    entry("e timeout", { level: "ERROR", source: "app.log", fields: { user: "2" } }),
  ];
  const filter = query("level=ERROR&source=app.*&field.user=1&grep=timeout&exclude=^a");
  assert.deepEqual(matching(filter, entries), ["b timeout"]);
});

Deno.test("tail is a whole number up to a million", () => {
  assert.equal(query("tail=100").tail, 100);
  assert.equal(query("tail=0").tail, 0);
  assert.equal(query("tail=1000000").tail, 1_000_000);
  assert.equal(query("tail=100").matchesAll, true);
  for (const bad of ["", "abc", "-1", "1.5", "1e3", " 1", "1000001", "99999999999"]) {
    const error = filterError(() => query(`tail=${encodeURIComponent(bad)}`), "tail");
    assert.equal(
      error.reason,
      `expected a whole number from 0 to 1000000, got ${JSON.stringify(bad)}`,
    );
  }
});

Deno.test("single-valued parameters may be given once; values are bounded", () => {
  for (const name of ["level", "grep", "exclude", "icase", "tail"]) {
    const value = name === "level" ? "INFO" : name === "tail" || name === "icase" ? "1" : "x";
    const error = filterError(() => query(`${name}=${value}&${name}=${value}`), name);
    assert.equal(error.reason, "given more than once");
  }
  const many = Array.from({ length: MAX_FILTER_VALUES + 1 }, (_, i) => `source=${i}.log`);
  assert.match(filterError(() => query(many.join("&")), "source").reason, /too many filter values/);
  // Unknown parameters do not count.
  const unknown = Array.from({ length: 100 }, (_, i) => `x${i}=1`).join("&");
  assert.equal(query(`${unknown}&level=INFO`).parameters.length, 1);
});

Deno.test("description and parameters say what was given", () => {
  const filter = query(
    "tail=5&field.user=42&grep=(?i)time out&level=warning&source=*.log&icase=0&source=b*",
  );
  assert.deepEqual(filter.parameters, ["tail", "field.user", "grep", "level", "source", "icase"]);
  assert.equal(
    filter.description,
    'level=WARN source="*.log" source="b*" grep="(?i)time out" icase=0 field.user="42" tail=5',
  );
  const long = query(`grep=${"x".repeat(100)}`).description;
  assert.equal(long, `grep="${"x".repeat(60)}…"`);
});

Deno.test("parseFilterHello() reads strings, numbers, booleans and arrays", () => {
  const filter = parseFilterHello({
    type: "hello",
    level: "WARN",
    grep: "timeout",
    icase: true,
    source: ["*.log", "*.txt"],
    "field.user": 42,
    tail: 100,
    last_event_id: 7,
  });
  assert.equal(filter.tail, 100);
  assert.deepEqual(filter.parameters, ["level", "grep", "icase", "source", "field.user", "tail"]);
  assert.equal(
    filter.matches(entry("TIMEOUT", { level: "ERROR", source: "a.txt", fields: { user: 42 } })),
    true,
  );
  assert.equal(filter.matches(entry("TIMEOUT", { level: "ERROR", source: "a.txt" })), false);
  assert.equal(parseFilterHello({}).matchesAll, true);
  assert.match(
    filterError(() => parseFilterHello({ level: null }), "level").reason,
    /expected a string, a number or true\/false, got null/,
  );
  filterError(() => parseFilterHello({ "field.a": { b: 1 } }), "field.a");
  filterError(() => parseFilterHello({ tail: 1.5 }), "tail");
  filterError(() => parseFilterHello({ tail: -1 }), "tail");
  filterError(() => parseFilterHello({ level: ["INFO", "WARN"] }), "level");
  const many = Array.from({ length: 10_000 }, (_, i) => `${i}.log`);
  filterError(() => parseFilterHello({ source: many }), "source");
});

Deno.test("the test task runs with the linear-time regular expression engine", () => {
  assert.equal(
    regexSafety(),
    "linear",
    `run the tests with --v8-flags=${REGEX_V8_FLAGS}; without, the tests of the linear-time ` +
      "behaviour are skipped",
  );
});
