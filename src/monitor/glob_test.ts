import assert from "node:assert/strict";
import { compileGlob } from "./glob.ts";

Deno.test("compileGlob() matches base names", async (t) => {
  const cases: [pattern: string, name: string, expected: boolean][] = [
    ["*", "app.log", true],
    ["*", ".hidden", true],
    ["*.log", "app.log", true],
    ["*.log", "app.log.1", false],
    ["*.log", "app.1.log", true],
    ["*.log", "log", false],
    ["app-?.log", "app-1.log", true],
    ["app-?.log", "app-12.log", false],
    ["app.log.[0-9]", "app.log.7", true],
    ["app.log.[0-9]", "app.log.x", false],
    ["app.log.[!0-9]", "app.log.x", true],
    ["app.log.[^0-9]", "app.log.3", false],
    ["[]]x", "]x", true],
    ["*.{log,txt}", "a.txt", true],
    ["*.{log,txt}", "a.csv", false],
    ["{a,b{c,d}}.log", "bd.log", true],
    ["a,b", "a,b", true],
    ["a+b(1).log", "a+b(1).log", true],
    ["a+b(1).log", "aab1.log", false],
    ["\\*.log", "*.log", true],
    ["\\*.log", "x.log", false],
    ["café*.log", "café-1.log", true],
  ];
  for (const [pattern, name, expected] of cases) {
    await t.step(`"${pattern}" vs "${name}"`, () => {
      assert.equal(compileGlob(pattern)(name), expected);
    });
  }
});

Deno.test("compileGlob() rejects malformed patterns with the reason", () => {
  const cases: [pattern: string, reason: RegExp][] = [
    ["", /empty/],
    ["logs/*.log", /contains "\/"/],
    ["app.[log", /unclosed "\["/],
    ["*.{log,txt", /unclosed "\{"/],
    ["*.log}", /unmatched "\}"/],
    ["app\\", /ends with "\\"/],
  ];
  for (const [pattern, reason] of cases) {
    assert.throws(() => compileGlob(pattern), (e: unknown) => {
      assert.ok(e instanceof SyntaxError);
      assert.match(e.message, reason);
      return true;
    });
  }
});
