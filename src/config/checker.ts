import { type ConfigIssue, quote } from "./config_error.ts";
import { suggestKey } from "./suggest.ts";

/** A TOML table as the parser returns it. */
export type Table = Record<string, unknown>;
/** Inclusive range of an integer key. */
export type Bounds = { readonly min: number; readonly max: number };

/** Reads typed values out of tables, recording an issue for each problem. */
export class Checker {
  /** Every problem reported so far. */
  readonly issues: ConfigIssue[] = [];
  readonly #file: string | undefined;

  /** Reports problems of `file`, or of no file (the built-in default). */
  constructor(file: string | undefined) {
    this.#file = file;
  }

  /** Records a problem with `key`. */
  report(key: string, message: string): void {
    this.issues.push({ ...(this.#file !== undefined && { file: this.#file }), key, message });
  }

  /** The table at `key` (absent → `{}`); reports unknown keys with a "did you mean" hint. */
  table(
    value: unknown,
    key: string,
    known: readonly string[],
    options: { hint?: (key: string) => string | undefined } = {},
  ): Table | undefined {
    if (value === undefined) return {};
    if (!isTable(value)) {
      this.report(key, `expected a table, got ${describe(value)}`);
      return undefined;
    }
    for (const name of Object.keys(value)) {
      if (known.includes(name)) continue;
      const close = suggestKey(name, known);
      const hint = options.hint?.(name) ?? (close && `did you mean "${close}"?`);
      this.report(join(key, name), `unknown key${hint ? `: ${hint}` : ""}`);
    }
    return value;
  }

  /** The string at `name`; when absent and `required` is given, reports it as required. */
  string(
    table: Table,
    key: string,
    name: string,
    options: { required?: string } = {},
  ): string | undefined {
    const value = table[name];
    if (value === undefined && options.required) {
      this.report(join(key, name), `required: ${options.required}`);
    }
    if (value === undefined || typeof value === "string") return value;
    this.report(join(key, name), `expected a string, got ${describe(value)}`);
    return undefined;
  }

  /** The boolean at `name`, or `fallback` when absent. */
  boolean(table: Table, key: string, name: string, fallback: boolean): boolean {
    const value = table[name];
    if (value === undefined) return fallback;
    if (typeof value === "boolean") return value;
    this.report(join(key, name), `expected true or false, got ${describe(value)}`);
    return fallback;
  }

  /** The integer at `name` within `bounds`, or `fallback` when absent or invalid. */
  integer(table: Table, key: string, name: string, bounds: Bounds, fallback: number): number {
    return this.optionalInteger(table, key, name, bounds) ?? fallback;
  }

  /** The integer at `name` within `bounds`; undefined when absent or invalid. */
  optionalInteger(table: Table, key: string, name: string, bounds: Bounds): number | undefined {
    const value = table[name];
    if (value === undefined) return undefined;
    // TOML integers arrive as bigint (see parseToml); a number here was written as a float.
    if (typeof value === "bigint") {
      if (value >= bounds.min && value <= bounds.max) return Number(value);
      this.report(
        join(key, name),
        `${value} is out of range: expected ${bounds.min} to ${bounds.max}`,
      );
      return undefined;
    }
    this.report(
      join(key, name),
      `expected an integer from ${bounds.min} to ${bounds.max}, got ${describe(value)}`,
    );
    return undefined;
  }

  /** The string at `name` when it is one of `choices`, or `fallback`. */
  choice<T extends string>(
    table: Table,
    key: string,
    name: string,
    choices: readonly T[],
    fallback: T,
    options: { hint?: string } = {},
  ): T {
    const value = table[name];
    if (value === undefined) return fallback;
    if (choices.includes(value as T)) return value as T;
    const expected = choices.map((choice) => `"${choice}"`).join(" or ");
    const hint = options.hint ? ` (${options.hint})` : "";
    this.report(join(key, name), `expected ${expected}${hint}, got ${describe(value)}`);
    return fallback;
  }
}

/** `key.name`, or `name` at the top level. */
export function join(key: string, name: string): string {
  return key ? `${key}.${name}` : name;
}

/** A TOML float as TOML writes it: `8080.0`, `1e+300`, `inf`, `nan`. */
function describeFloat(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (Object.is(value, -0)) return "-0.0";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const text = String(value);
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}

/** Whether `value` is a TOML table (a plain object). */
export function isTable(value: unknown): value is Table {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

/** A value as a message shows it: strings quoted, floats as floats, containers by kind. */
export function describe(value: unknown): string {
  if (typeof value === "string") return quote(value);
  if (typeof value === "number") return describeFloat(value);
  if (Array.isArray(value)) return "an array";
  if (isTable(value)) return "a table";
  if (value instanceof Date) return "a date";
  return typeof value === "object" ? "an object" : String(value);
}
