import assert from "node:assert/strict";
import type { TransformConfig } from "../config/types.ts";
import type { LogEntry } from "../entry/entry.ts";
import { checkTransform, compileTransform, MAX_REDACT_DEPTH, type Transform } from "./transform.ts";

const NONE: TransformConfig = {
  include: [],
  exclude: [],
  redact: [],
  redactPatterns: [],
  dropFields: [],
  addFields: {},
  stripAnsi: false,
};

function transform(config: Partial<TransformConfig>): Transform {
  const compiled = compileTransform({ ...NONE, ...config });
  assert.ok(compiled !== undefined);
  return compiled;
}

function entry(message: string, extra: Partial<LogEntry> = {}): LogEntry {
  return { time: "2024-01-01T12:00:00.000000Z", source: "app.log", message, ...extra };
}

/** A deep copy, to check that the transform left its argument alone. */
function copy(value: LogEntry): LogEntry {
  return structuredClone(value);
}

Deno.test("a transform that changes nothing compiles to undefined", () => {
  assert.equal(compileTransform(NONE), undefined);
});

Deno.test("min_level drops entries below it and keeps entries without a level", () => {
  const apply = transform({ minLevel: "WARN" });
  assert.equal(apply(entry("debug", { level: "DEBUG" })), undefined);
  assert.equal(apply(entry("info", { level: "INFO" })), undefined);
  const warn = entry("warn", { level: "WARN" });
  assert.equal(apply(warn), warn);
  const none = entry("none");
  assert.equal(apply(none), none);
});

Deno.test("include keeps entries matching one pattern; exclude drops those matching one", () => {
  const apply = transform({ include: ["error", "(?i)timeout"], exclude: ["^health", "debug$"] });
  const kept = (message: string) => apply(entry(message)) !== undefined;
  assert.equal(kept("db error"), true);
  assert.equal(kept("TimeOut talking to db"), true);
  assert.equal(kept("all fine"), false);
  assert.equal(kept("health error"), false);
  assert.equal(kept("error in debug"), false);
  assert.equal(transform({ exclude: ["x"] })(entry("abc"))?.message, "abc");
});

Deno.test("strip_ansi cleans the message before patterns see it", () => {
  const apply = transform({ stripAnsi: true, include: ["^ERROR disk"] });
  const colored = entry("\x1b[31mERROR\x1b[0m disk full", { level: "ERROR" });
  const before = copy(colored);
  assert.deepEqual(apply(colored), entry("ERROR disk full", { level: "ERROR" }));
  assert.deepEqual(colored, before);
  assert.equal(apply(entry("\x1b[32mINFO\x1b[0m ok")), undefined);
});

Deno.test("redaction covers the message and string values in fields, at any depth", () => {
  const apply = transform({ redact: ["email", "ipv4", "credit_card"] });
  const input = entry("login alice@example.com from 10.0.0.1", {
    level: "INFO",
    fields: {
      user: "bob@example.org",
      count: 3,
      card: 4111111111111111,
      ok: true,
      none: null,
      request: { ip: "192.168.0.1", headers: ["x", "c@d.io"], nested: { deep: "1.2.3.4" } },
    },
  });
  const before = copy(input);
  const output = apply(input)!;
  assert.deepEqual(output, {
    time: input.time,
    source: "app.log",
    level: "INFO",
    message: "login [REDACTED:email] from [REDACTED:ipv4]",
    fields: {
      user: "[REDACTED:email]",
      count: 3,
      card: "[REDACTED:credit_card]",
      ok: true,
      none: null,
      request: {
        ip: "[REDACTED:ipv4]",
        headers: ["x", "[REDACTED:email]"],
        nested: { deep: "[REDACTED:ipv4]" },
      },
    },
  });
  assert.deepEqual(input, before);
  assert.deepEqual(Object.keys(output), ["time", "source", "level", "message", "fields"]);
  // Untouched branches are shared, not copied.
  const clean = entry("nothing here", { fields: { a: { b: "c" }, d: "e@f.io" } });
  const cleaned = apply(clean)!;
  assert.equal(cleaned.fields!.a, clean.fields!.a);
  // Nothing to redact: the same entry.
  const plain = entry("nothing here", { fields: { a: { b: "c" } } });
  assert.equal(apply(plain), plain);
});

Deno.test("values nested deeper than the bound are redacted as JSON text", () => {
  const apply = transform({ redact: ["email"] });
  let deep: unknown = "x@example.com";
  let clean: unknown = "nothing";
  for (let i = 0; i < MAX_REDACT_DEPTH + 5; i++) {
    deep = { next: deep };
    clean = { next: clean };
  }
  const output = apply(entry("m", { fields: { deep, clean } }))!;
  let node = output.fields!.deep;
  for (let depth = 2; depth <= MAX_REDACT_DEPTH; depth++) node = (node as { next: unknown }).next;
  assert.equal(typeof node, "string");
  assert.match(node as string, /^\{"next":.*\[REDACTED:email\]/);
  assert.equal(output.fields!.clean, clean);
  // Deep arrays from a hostile line cost no stack.
  const hostile = JSON.parse(`${"[".repeat(5000)}"a@b.io"${"]".repeat(5000)}`);
  assert.equal(typeof apply(entry("m", { fields: { hostile } }))!.fields!.hostile, "object");
});

Deno.test("redact_patterns replace with groups, before the detectors", () => {
  const apply = transform({
    redact: ["email"],
    redactPatterns: [
      { pattern: "password=\\S+", replacement: "password=[REDACTED]" },
      { pattern: "(?i)(user)=(\\w+)", replacement: "$1=<$2>" },
      { pattern: "token=(?<t>\\w{4})\\w*", replacement: "token=$<t>…" },
    ],
  });
  assert.equal(
    apply(entry("password=a@b.io USER=bob token=abcdefgh mail c@d.io"))!.message,
    "password=[REDACTED] USER=<bob> token=abcd… mail [REDACTED:email]",
  );
});

Deno.test("drop_fields and add_fields", () => {
  const apply = transform({
    dropFields: ["password", "token"],
    addFields: { host: "web-1", env: "prod" },
  });
  const input = entry("m", { fields: { user: "bob", password: "x", token: "y", host: "spoofed" } });
  const before = copy(input);
  assert.deepEqual(apply(input)!.fields, { user: "bob", host: "web-1", env: "prod" });
  assert.deepEqual(input, before);
  assert.deepEqual(apply(entry("m"))!.fields, { host: "web-1", env: "prod" });
  const dropOnly = transform({ dropFields: ["password"] });
  assert.deepEqual(dropOnly(entry("m", { fields: { password: "x" } })), entry("m"));
  const untouched = entry("m", { fields: { user: "bob" } });
  assert.equal(dropOnly(untouched), untouched);
});

Deno.test("checkTransform() reports every problem with its key", () => {
  assert.deepEqual(checkTransform(NONE), []);
  assert.deepEqual(
    checkTransform({
      minLevel: "LOUD",
      include: ["ok", "(unclosed"],
      exclude: ["a{2,1}"],
      redact: ["email", "emial", "creditcard", "bearer", "phone"],
      redactPatterns: [
        { pattern: "password=\\S+", replacement: "password=[REDACTED]" },
        { pattern: "x*", replacement: "y" },
        { pattern: "(a)(b)", replacement: "$1$3" },
        { pattern: "(?<user>\\w+)", replacement: "$<name>" },
        { pattern: "\\w+", replacement: "$<name>" },
        { pattern: "a", replacement: "$0" },
        { pattern: "(a)", replacement: "$10 $$2 $& $` $'" },
        { pattern: "[", replacement: "" },
      ],
    }),
    [
      {
        key: "min_level",
        message: 'unknown level "LOUD": expected TRACE, DEBUG, INFO, WARN, ERROR or FATAL',
      },
      { key: "include[1]", message: "invalid regular expression: unterminated group" },
      {
        key: "exclude[0]",
        message: "invalid regular expression: numbers out of order in {} quantifier",
      },
      { key: "redact[1]", message: 'unknown detector "emial": did you mean "email"?' },
      { key: "redact[2]", message: 'unknown detector "creditcard": did you mean "credit_card"?' },
      { key: "redact[3]", message: 'unknown detector "bearer": did you mean "bearer_token"?' },
      {
        key: "redact[4]",
        message: 'unknown detector "phone": expected one of bearer_token, jwt, aws_access_key, ' +
          "email, credit_card, ipv6, ipv4",
      },
      {
        key: "redact_patterns[1].pattern",
        message: "matches the empty string, so the replacement would go between every character",
      },
      {
        key: "redact_patterns[2].replacement",
        message: "refers to group $3, but the pattern has 2 groups",
      },
      {
        key: "redact_patterns[3].replacement",
        message: "refers to group $<name>, but the pattern's named groups are user",
      },
      {
        key: "redact_patterns[4].replacement",
        message: "refers to group $<name>, but the pattern has no named groups",
      },
      {
        key: "redact_patterns[5].replacement",
        message: "$0 is not a group: the whole match is $&",
      },
      {
        key: "redact_patterns[7].pattern",
        message: "invalid regular expression: unterminated character class",
      },
    ],
  );
});

Deno.test("compileTransform() refuses settings with a problem", () => {
  assert.throws(
    () => compileTransform({ ...NONE, include: ["("] }),
    /^Error: Invalid transform: include\[0\]: invalid regular expression: unterminated group$/,
  );
});

Deno.test("configuration patterns: lookbehinds and (?i), but nothing that cannot run in linear time", () => {
  const apply = transform({
    include: ["(?i)book", "(?<=a)b"],
  });
  assert.equal(apply(entry("BOOK")) !== undefined, true);
  assert.equal(apply(entry("ab")) !== undefined, true);
  assert.equal(apply(entry("b")), undefined);
  assert.deepEqual(
    checkTransform({
      include: ["(\\w)\\1"],
      exclude: ["a(?=b)", "(?i:x)y"],
      redactPatterns: [{ pattern: "(?<=token=)\\w+", replacement: "x" }],
    }).map(({ key, message }) => `${key}: ${message.replace(/:.*/, "")}`),
    [
      "include[0]: cannot run in linear time",
      "exclude[0]: cannot run in linear time",
      "exclude[1]: cannot run in linear time",
      "redact_patterns[0].pattern: cannot run in linear time",
    ],
  );
});
