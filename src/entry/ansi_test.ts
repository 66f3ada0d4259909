import assert from "node:assert/strict";
import { stripAnsi } from "./ansi.ts";

Deno.test("stripAnsi() removes escape sequences and keeps the text", async (t) => {
  const cases: [name: string, input: string, expected: string][] = [
    ["SGR colour around a level", "\x1b[31mERROR\x1b[0m disk full", "ERROR disk full"],
    ["SGR without parameters", "\x1b[mplain", "plain"],
    ["256 colours", "\x1b[38;5;196mred\x1b[39m", "red"],
    ["true colour", "\x1b[38;2;255;0;0mred\x1b[0m", "red"],
    ["bold and reset together", "\x1b[1;4;31mhot\x1b[22;24;39m!", "hot!"],
    ["erase line and cursor moves", "\x1b[2K\x1b[1Gprogress 50%\x1b[3A", "progress 50%"],
    ["private mode", "\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"],
    ["CSI with an intermediate byte", "a\x1b[0 qb", "ab"],
    ["OSC title ended by BEL", "\x1b]0;my title\x07text", "text"],
    [
      "OSC 8 hyperlink ended by ST",
      "see \x1b]8;;https://example.com\x1b\\the docs\x1b]8;;\x1b\\ now",
      "see the docs now",
    ],
    ["OSC ended by C1 ST", "\x1b]2;title\x9cafter", "after"],
    ["DCS string", "\x1bPq#0;2;0;0;0\x1b\\after", "after"],
    ["APC string", "\x1b_Gf=24;AAAA\x1b\\after", "after"],
    ["charset selection", "\x1b(Bplain\x1b)0", "plain"],
    ["save and restore cursor", "\x1b7saved\x1b8", "saved"],
    ["keypad mode", "\x1b=\x1b>keys", "keys"],
    ["C1 CSI", "\x9b31mred\x9b0m", "red"],
    ["lone ESC at the end", "text\x1b", "text"],
    ["ESC before a control character", "a\x1b\nb", "a\nb"],
    ["unterminated CSI keeps what follows the introducer", "a\x1b[31", "a31"],
    ["unterminated OSC keeps its text", "a\x1b]0;title", "a0;title"],
    ["unterminated OSC before another sequence", "\x1b]0;t\x1b[1mB\x1b[0m", "0;tB"],
    ["lone C1 CSI", "x\x9b", "x"],
    ["non-ASCII text around colours", "\x1b[32mcafé ✓\x1b[0m", "café ✓"],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => assert.equal(stripAnsi(input), expected));
  }
});

Deno.test("stripAnsi() returns text without escapes as it is", () => {
  for (const text of ["", "plain line", "brackets [31m without ESC", "tab\tand\r\nnewline"]) {
    assert.equal(stripAnsi(text), text);
  }
});

Deno.test("stripAnsi() takes linear time on many unterminated sequences", () => {
  // Each OSC body stops at the next ESC: 100,000 of them are one pass, not 10^10 steps.
  const text = "\x1b]0;abc".repeat(100_000);
  assert.equal(stripAnsi(text), "0;abc".repeat(100_000));
});
