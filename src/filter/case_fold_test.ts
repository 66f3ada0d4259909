import assert from "node:assert/strict";
import { casedInRange, caseVariants } from "./case_fold.ts";

function hex(code: number): string {
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

Deno.test("caseVariants() knows ASCII and non-ASCII letters", () => {
  assert.deepEqual(caseVariants(0x61), [0x41, 0x61]);
  assert.deepEqual(caseVariants(0x41), [0x41, 0x61]);
  assert.deepEqual(caseVariants("é".charCodeAt(0)), ["É".charCodeAt(0), "é".charCodeAt(0)]);
  // Final and medial sigma share the capital.
  assert.deepEqual(caseVariants("ς".charCodeAt(0)), [0x3a3, 0x3c2, 0x3c3]);
  assert.equal(caseVariants(0x31), undefined);
  assert.equal(caseVariants(0x5f), undefined);
  // Without the u flag nothing outside ASCII matches ASCII: long s and the Kelvin sign stay.
  assert.equal(caseVariants(0x17f), undefined);
  assert.equal(caseVariants(0x212a)?.includes(0x6b) ?? false, false);
});

Deno.test("casedInRange() lists the cased code units of a range", () => {
  assert.deepEqual(casedInRange(0x5a, 0x62), [0x5a, 0x61, 0x62]);
  assert.deepEqual(casedInRange(0x30, 0x39), []);
  assert.equal(casedInRange(0, 0xffff).length > 2000, true);
});

Deno.test("caseVariants() agrees with the engine's i flag on every code unit", () => {
  const cased = casedInRange(0, 0xffff);
  const everyCased = new RegExp(`[${cased.map(hex).join("")}]`);
  const closure = new RegExp(everyCased.source, "i");
  // Nothing outside the table matches a table member case-insensitively...
  for (let code = 0; code < 0x10000; code++) {
    const char = String.fromCharCode(code);
    assert.equal(closure.test(char), everyCased.test(char), `code unit ${hex(code)}`);
  }
  // ...and within the table, each code unit matches exactly its variants.
  const members = cased.map((code) => String.fromCharCode(code));
  for (const code of cased) {
    const variants = caseVariants(code)!;
    const regex = new RegExp(`^${hex(code)}$`, "i");
    const matched = cased.filter((_, i) => regex.test(members[i]!));
    assert.deepEqual(matched, variants, `variants of ${hex(code)}`);
  }
});
