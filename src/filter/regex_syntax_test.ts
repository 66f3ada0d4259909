import assert from "node:assert/strict";
import { caseInsensitiveSource, parseRegex, regexFeatures } from "./regex_syntax.ts";

Deno.test("parseRegex() reads terms, groups, classes and quantifiers", () => {
  assert.deepEqual(parseRegex("a|b+"), [
    [{ type: "char", code: 0x61, source: "a" }],
    [{
      type: "repeat",
      body: { type: "char", code: 0x62, source: "b" },
      min: 1,
      max: Infinity,
      source: "+",
    }],
  ]);
  assert.deepEqual(parseRegex("(?<year>\\d{4})[^a-c\\d-]"), [[
    {
      type: "group",
      kind: "capture",
      open: "(?<year>",
      body: [[{
        type: "repeat",
        body: { type: "set", source: "\\d" },
        min: 4,
        max: 4,
        source: "{4}",
      }]],
    },
    {
      type: "class",
      negated: true,
      items: [{ type: "range", from: 0x61, to: 0x63 }, { type: "set", source: "\\d" }, {
        type: "range",
        from: 0x2d,
        to: 0x2d,
      }],
      source: "[^a-c\\d-]",
    },
  ]]);
});

Deno.test("parseRegex() follows Annex B where it differs from the u flag", async (t) => {
  const cases: [source: string, first: unknown][] = [
    ["{ab}", { type: "char", code: 0x7b, source: "{" }],
    ["x{2,1a}", { type: "char", code: 0x78, source: "x" }],
    ["\\8", { type: "char", code: 0x38, source: "\\8" }],
    ["\\101", { type: "char", code: 0x41, source: "\\101" }],
    ["(a)\\10", {
      type: "group",
      kind: "capture",
      open: "(",
      body: [[{ type: "char", code: 0x61, source: "a" }]],
    }],
    ["\\c1", { type: "char", code: 0x5c, source: "\\\\" }],
    ["\\cJ", { type: "char", code: 10, source: "\\cJ" }],
    ["\\k", { type: "char", code: 0x6b, source: "\\k" }],
    ["\\x4", { type: "char", code: 0x78, source: "\\x" }],
    ["\\u{41}", {
      type: "repeat",
      body: { type: "char", code: 0x75, source: "\\u" },
      min: 41,
      max: 41,
      source: "{41}",
    }],
    ["[\\c1]", {
      type: "class",
      negated: false,
      items: [{ type: "range", from: 0x11, to: 0x11 }],
      source: "[\\c1]",
    }],
    ["[--/]", {
      type: "class",
      negated: false,
      items: [{ type: "range", from: 0x2d, to: 0x2f }],
      source: "[--/]",
    }],
  ];
  for (const [source, first] of cases) {
    await t.step(source, () => assert.deepEqual(parseRegex(source)[0]![0], first));
  }
  assert.deepEqual(parseRegex("(a)\\10")[0]![1], { type: "char", code: 8, source: "\\10" });
  assert.deepEqual(parseRegex("(a)\\1")[0]![1], { type: "backreference", source: "\\1" });
  assert.deepEqual(parseRegex("(?<n>a)\\k<n>")[0]![1], { type: "backreference", source: "\\k<n>" });
});

Deno.test("regexFeatures() reports what a pattern uses and its compiled size", () => {
  const features = (source: string) => regexFeatures(parseRegex(source));
  assert.deepEqual(features("timeout"), {
    backreference: false,
    lookahead: false,
    lookbehind: false,
    modifiers: false,
    repetition: false,
    nestedAlternation: false,
    replication: 1,
    size: 7,
  });
  assert.equal(features("error|fail").nestedAlternation, false);
  assert.equal(features("(error|fail)").nestedAlternation, true);
  assert.equal(features("(a)\\1").backreference, true);
  assert.equal(features("a(?=b)").lookahead, true);
  assert.equal(features("(?<!a)b").lookbehind, true);
  assert.equal(features("(?i:a)").modifiers, true);
  assert.equal(features("a?").repetition, true);
  assert.equal(features("a{17}").replication, 17);
  assert.equal(features("(?:a{2,}){9}").replication, 18);
  assert.equal(features("(?:a*){16}").replication, 16);
  assert.equal(features("(?:a?){16}").size, 1 + 16 * (1 + 2));
  assert.equal(features("(?:(?:(?:a{16}){16}){16}){16}").size <= 1e9, true);
});

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("caseInsensitiveSource() matches exactly what the i flag matches", async (t) => {
  const patterns = [
    "timeout",
    "TimeOut|ERR",
    "a+b*c?",
    "[a-f]+",
    "[^a-f]x",
    "[A-Z][a-z]{2,3}",
    "[\\dA-C_-]+",
    "[\\w.]+@[a-z]+",
    "é|É|ß|ς",
    "[à-ÿ]+",
    "\\x41\\u0062\\103",
    "(?<word>[a-c]+)-(?:x|Y)",
    "^a.b$",
    "\\bcat\\b",
    "a{2}B{1,}",
    "{ab}",
    "\\c1|\\cJ",
    "\\k|\\p|\\8",
    "[\\b\\cA]",
    "(?<=a)B",
    "a(?=B)",
    "(?-i:a)b",
    "(?m:^A)",
    "\\u{2}",
  ];
  const alphabet = [..."aAbBcCxXyYeEfFkKpPuUé É ß ς σ Σ à ÿ Ÿ 8 1 _ - . @ { } \\ \n \b \x01"]
    .filter((c) => c !== " ");
  const next = random(42);
  const subjects = Array.from({ length: 400 }, () => {
    const length = Math.floor(next() * 8);
    let text = "";
    for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)]!;
    return text;
  });
  for (const pattern of patterns) {
    await t.step(pattern, () => {
      const expected = new RegExp(pattern, "i");
      const rewritten = new RegExp(caseInsensitiveSource(parseRegex(pattern)));
      const checks = [...subjects, ...patternWords(pattern)];
      for (const subject of checks) {
        assert.deepEqual(rewritten.exec(subject), expected.exec(subject), JSON.stringify(subject));
      }
    });
  }
});

/** Subjects a pattern matches, in both cases, so that not every check is a miss. */
function patternWords(pattern: string): string[] {
  const literal = pattern.replace(/[^A-Za-zéÉßς]/g, "");
  return [literal, literal.toUpperCase(), literal.toLowerCase(), "aB", "TIMEOUT", "x@ab"];
}

Deno.test("random patterns the engine accepts parse, and their rewrite matches as the i flag", () => {
  const tokens = [
    ...["a", "B", "é", "ς", "1", "-", ".", "|", "(", ")", "(?:", "(?=", "(?!", "(?<=", "(?<!"],
    ...["(?<n>", "(?i:", "(?-i:", "[", "]", "[^", "^", "$", "*", "+", "?", "{2}", "{1,3}", "{"],
    ...["}", "\\", "\\d", "\\w", "\\s", "\\b", "\\B", "\\1", "\\2", "\\x41", "\\u0062", "\\c"],
    ...["\\cA", "\\k<n>", "\\k", "\\0", "\\8", ",", "\\-"],
  ];
  const subjects = ["", "a", "A", "ab", "AB", "aBé", "ÉΣς", "1-2", "a{2}", "\\c", "x.y", "{}", "]"];
  const next = random(7);
  let checked = 0;
  for (let i = 0; i < 20_000; i++) {
    let pattern = "";
    for (let j = Math.floor(next() * 6); j >= 0; j--) {
      pattern += tokens[Math.floor(next() * tokens.length)];
    }
    let expected: RegExp;
    try {
      expected = new RegExp(pattern, "i");
    } catch {
      continue;
    }
    const tree = parseRegex(pattern);
    if (regexFeatures(tree).backreference) continue;
    const rewritten = new RegExp(caseInsensitiveSource(tree));
    for (const subject of subjects) {
      assert.deepEqual(rewritten.exec(subject), expected.exec(subject), pattern);
    }
    checked++;
  }
  assert.ok(checked > 5000, `only ${checked} patterns were valid`);
});
