import assert from "node:assert/strict";
import { LEVELS } from "../entry/entry.ts";
import { LEVEL_RANK, parseLevelName } from "./level_name.ts";

Deno.test("parseLevelName() reads the six names in any case, and the aliases", () => {
  for (const level of LEVELS) {
    assert.equal(parseLevelName(level), level);
    assert.equal(parseLevelName(level.toLowerCase()), level);
  }
  assert.equal(parseLevelName("Warning"), "WARN");
  assert.equal(parseLevelName("err"), "ERROR");
  assert.equal(parseLevelName("CRIT"), "FATAL");
  assert.equal(parseLevelName("panic"), "FATAL");
  assert.equal(parseLevelName("dbg"), "DEBUG");
  assert.equal(parseLevelName("notice"), "INFO");
  assert.equal(parseLevelName("verbose"), "TRACE");
  assert.equal(parseLevelName(""), undefined);
  assert.equal(parseLevelName("LOUD"), undefined);
  assert.equal(parseLevelName("40"), undefined);
});

Deno.test("LEVEL_RANK orders the levels by severity", () => {
  assert.deepEqual(LEVELS.map((level) => LEVEL_RANK[level]), [0, 1, 2, 3, 4, 5]);
});
