import { checkTransform, type TransformProblem } from "../filter/transform.ts";
import { parseLevelName } from "../filter/level_name.ts";
import { type Checker, describe, isTable, join, type Table } from "./checker.ts";
import type { RedactDetector, TransformConfig } from "./types.ts";

const TRANSFORM_KEYS = [
  "min_level",
  "include",
  "exclude",
  "redact",
  "redact_patterns",
  "drop_fields",
  "add_fields",
  "strip_ansi",
];
const REDACT_PATTERN_KEYS = ["pattern", "replacement"];

/**
 * `[streams.transform]` (README "Transforms"): undefined when the table is absent. Every
 * problem is reported at its key path, e.g. `streams[0].transform.include[1]`.
 */
export function readTransform(
  check: Checker,
  value: unknown,
  key: string,
): TransformConfig | undefined {
  if (value === undefined) return undefined;
  const table = check.table(value, key, TRANSFORM_KEYS);
  if (!table) return undefined;
  const minLevel = check.string(table, key, "min_level");
  const redactPatterns = readRedactPatterns(
    check,
    table.redact_patterns,
    join(key, "redact_patterns"),
  );
  const settings = {
    include: strings(check, table, key, "include"),
    exclude: strings(check, table, key, "exclude"),
    redact: strings(check, table, key, "redact"),
    redactPatterns,
    dropFields: strings(check, table, key, "drop_fields"),
    addFields: readAddFields(check, table.add_fields, join(key, "add_fields")),
    stripAnsi: check.boolean(table, key, "strip_ansi", false),
  };
  const problems: TransformProblem[] = checkTransform({
    ...settings,
    ...(minLevel !== undefined && { minLevel }),
  });
  for (const problem of problems) check.report(join(key, problem.key), problem.message);
  if (problems.length > 0) return undefined;
  const level = minLevel === undefined ? undefined : parseLevelName(minLevel);
  return {
    ...settings,
    redact: settings.redact as RedactDetector[],
    ...(level !== undefined && { minLevel: level }),
  };
}

function strings(check: Checker, table: Table, key: string, name: string): string[] {
  const value = table[name];
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    check.report(join(key, name), `expected an array of strings, got ${describe(value)}`);
    return [];
  }
  const result: string[] = [];
  value.forEach((item, i) => {
    if (typeof item === "string") result.push(item);
    else check.report(`${join(key, name)}[${i}]`, `expected a string, got ${describe(item)}`);
  });
  return result;
}

function readRedactPatterns(
  check: Checker,
  value: unknown,
  key: string,
): { pattern: string; replacement: string }[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    check.report(
      key,
      `expected an array of { pattern, replacement } tables, got ${describe(value)}`,
    );
    return [];
  }
  const result: { pattern: string; replacement: string }[] = [];
  value.forEach((item, i) => {
    const itemKey = `${key}[${i}]`;
    const table = check.table(item, itemKey, REDACT_PATTERN_KEYS);
    if (!table) return;
    const pattern = check.string(table, itemKey, "pattern", { required: "a regular expression" });
    const replacement = check.string(table, itemKey, "replacement") ?? "[REDACTED]";
    if (pattern !== undefined) result.push({ pattern, replacement });
  });
  return result;
}

function readAddFields(check: Checker, value: unknown, key: string): Record<string, string> {
  if (value === undefined) return {};
  // Every key is a field name: no unknown keys here.
  if (!isTable(value)) {
    check.report(key, `expected a table of field names and strings, got ${describe(value)}`);
    return {};
  }
  const fields: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (typeof item === "string") fields[name] = item;
    else check.report(join(key, name), `expected a string, got ${describe(item)}`);
  }
  return fields;
}
