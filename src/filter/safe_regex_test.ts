import assert from "node:assert/strict";
import {
  compileClientPattern,
  compileConfigPattern,
  MAX_PATTERN_LENGTH,
  MAX_PATTERN_SIZE,
  PatternError,
  regexSafety,
} from "./safe_regex.ts";

const linear = regexSafety() === "linear";

/** The message `compile` fails with; the test fails when it compiles. */
function refusedBy(compile: () => unknown, pattern: string): string {
  try {
    compile();
  } catch (error) {
    assert.ok(error instanceof PatternError);
    return error.message;
  }
  assert.fail(`${JSON.stringify(pattern)} was accepted`);
}

function refusal(pattern: string, options: Parameters<typeof compileClientPattern>[1] = {}) {
  return refusedBy(() => compileClientPattern(pattern, options), pattern);
}

Deno.test("client patterns compile without flags, case-insensitivity as classes", () => {
  for (const safety of ["linear", "restricted"] as const) {
    if (safety === "linear" && !linear) continue;
    const regex = compileClientPattern("(?i)time out", { safety });
    assert.equal(regex.flags, "");
    assert.equal(regex.source, "[Tt][Ii][Mm][Ee] [Oo][Uu][Tt]");
    assert.equal(regex.test("TIME OUT"), true);
    assert.equal(compileClientPattern("err", { ignoreCase: true, safety }).test("ERR"), true);
    assert.equal(compileClientPattern("err", { safety }).test("ERR"), false);
  }
});

Deno.test("client patterns are bounded in length and compiled size", () => {
  assert.equal(compileClientPattern("x".repeat(MAX_PATTERN_LENGTH)).source.length, 512);
  assert.equal(
    refusal("x".repeat(MAX_PATTERN_LENGTH + 1)),
    `pattern is longer than ${MAX_PATTERN_LENGTH} characters`,
  );
  assert.match(
    refusal("(?:a?){16}".repeat(6)),
    new RegExp(`^pattern is too large: it compiles to \\d+ terms, at most ${MAX_PATTERN_SIZE}`),
  );
});

Deno.test("invalid client patterns say why", () => {
  assert.equal(refusal("(a"), "invalid regular expression: unterminated group");
  assert.equal(refusal("a**"), "invalid regular expression: nothing to repeat");
  assert.equal(
    refusal("[b-a]"),
    "invalid regular expression: range out of order in character class",
  );
  assert.equal(refusal("(?i)("), "invalid regular expression: unterminated group");
  assert.match(refusal("(?<n>a)\\k<n>"), /^backreferences/);
});

Deno.test({
  name: "with the linear-time engine, what it refuses is refused with a reason",
  ignore: !linear,
  fn() {
    assert.match(refusal("a(?!b)"), /^cannot run in linear time: lookaheads/);
    assert.match(refusal("x{17}"), /repetition counts multiply to 17, at most 16/);
    assert.match(refusal("(?:a{4}){5}"), /repetition counts multiply to 20, at most 16/);
    assert.match(refusal("(?i:a)b"), /inline modifiers/);
    const accepted = [
      "(a+)+$",
      "(?<=x)y",
      "(?<!x)y",
      "\\d{1,16}",
      "^(a|b)*?c$",
      "[^\\s]+",
      "(?m:^a)",
    ];
    for (const pattern of accepted) {
      assert.equal(compileClientPattern(pattern).flags, "", pattern);
    }
  },
});

Deno.test("without the linear-time engine, patterns must not repeat or nest alternatives", () => {
  const options = { safety: "restricted" } as const;
  assert.match(refusal("a+", options), /^repetition/);
  assert.match(refusal("a{2}", options), /^repetition/);
  assert.match(refusal("a?", options), /^repetition/);
  assert.match(refusal("(a|b)c", options), /^alternation inside a group/);
  assert.match(refusal("(a)\\1", options), /^backreferences/);
  for (const accepted of ["timeout", "error|fail", "^\\[WARN\\] \\d\\d:", "(?i)x.y", "(?<=a)b"]) {
    assert.equal(compileClientPattern(accepted, options).flags, "", accepted);
  }
});

Deno.test("configuration patterns: (?i) keeps the i flag only for backreferences, which linear time refuses", () => {
  assert.equal(compileConfigPattern("(?i)abc").flags, "");
  assert.equal(compileConfigPattern("(?i)abc").test("ABC"), true);
  assert.equal(compileConfigPattern("(?i)abc", "g").flags, "g");
  const backreference = compileConfigPattern("(?i)(a)\\1", "", "restricted");
  assert.equal(backreference.flags, "i");
  assert.equal(backreference.test("aA"), true);
  assert.equal(compileConfigPattern("a(?=b)", "", "restricted").test("ab"), true);
  assert.throws(
    () => compileConfigPattern("(unclosed"),
    (error: unknown) =>
      error instanceof PatternError &&
      error.message === "invalid regular expression: unterminated group",
  );
});

Deno.test({
  name: "configuration patterns V8 could not fall back on are refused, with what to do instead",
  ignore: !linear,
  fn() {
    const refused = (pattern: string, flags = "") =>
      refusedBy(() => compileConfigPattern(pattern, flags), pattern);
    assert.match(refused("^(a|aa)+\\1x$"), /^cannot run in linear time: backreferences/);
    assert.match(refused("a(?=b)"), /^cannot run in linear time: lookaheads/);
    // With g, V8 neither runs a lookbehind in linear time nor falls back: this one takes
    // minutes on one line of "token=abcd abcd …" without a ";".
    assert.match(
      refused("(?<=token=)(\\w+\\s?)+;", "g"),
      /^cannot run in linear time: lookbehinds .* capture the context instead and put it back with \$1$/,
    );
    assert.equal(compileConfigPattern("(?<=token=)\\w+").test("token=abc"), true);
    // Nothing to rewrite without letters: still no i flag, which would stop the fallback.
    assert.equal(compileConfigPattern("(?i)(\\d+)+$").flags, "");
    assert.equal(compileConfigPattern("(token=)\\w+", "g").flags, "g");
  },
});
