import { parse, TomlError } from "smol-toml";
import { fsErrorReason } from "../fs_error.ts";
import { ConfigError, type ConfigIssue } from "./config_error.ts";
import { builtinConfig } from "./defaults.ts";
import { locateConfig } from "./locate.ts";
import { isReadPermitted, outsideReadPermission } from "./permissions.ts";
import type { Config } from "./types.ts";
import { validateConfig } from "./validate.ts";

/** How to find and read the configuration. */
export interface LoadOptions {
  /** The `--config` value, if given. */
  readonly flag?: string | undefined;
  /** Router mode (`--router`) changes which ports must be unique. */
  readonly router?: boolean;
  /** Defaults to reading the environment where `--allow-env` permits it. */
  readonly env?: (name: string) => string | undefined;
  /** Defaults to `Deno.cwd()`. */
  readonly cwd?: string;
}

/**
 * Finds, parses and validates the configuration (README "Configuration"). Returns a deeply frozen
 * {@linkcode Config}; throws a {@linkcode ConfigError} listing every problem.
 */
export async function loadConfig(options: LoadOptions = {}): Promise<Config> {
  const cwd = options.cwd ?? Deno.cwd();
  const location = await locateConfig({ flag: options.flag, env: options.env ?? readEnv, cwd });
  const config: Config = "path" in location
    ? {
      source: { kind: "file", ...location },
      ...validateConfig(await readToml(location.path), {
        file: location.path,
        router: options.router ?? false,
        cwd,
        readable: isReadPermitted,
      }),
    }
    : builtinConfig(cwd, { kind: "default", searched: location.searched });
  if (config.source.kind === "default" && !isReadPermitted(cwd)) {
    throw new ConfigError([{
      file: "built-in default",
      key: "streams[0].monitor.targets[0].path",
      message: `${outsideReadPermission(cwd)}, or name a file with --config`,
    }]);
  }
  return deepFreeze(config);
}

/**
 * Parses TOML text; syntax errors become one issue with line, column and the offending lines.
 * Integers come back as `bigint`, so `port = 8080.0` stays a float the validator can refuse.
 */
export function parseToml(text: string, file: string): Record<string, unknown> {
  try {
    return parse(text, { integersAsBigInt: true });
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const [summary = "", ...frame] = error.message.split("\n");
    const issue: ConfigIssue = {
      file,
      line: error.line,
      column: error.column,
      message: `invalid TOML: ${summary.replace(/^Invalid TOML document: /, "")}`,
      detail: frame.filter((line) => line.trim() !== "").map((line) => `    ${printable(line)}`)
        .join("\n"),
    };
    throw new ConfigError([issue]);
  }
}

async function readToml(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError([{ file: path, message: `cannot read: ${fsErrorReason(error)}` }]);
  }
  if (text.includes("\0")) {
    throw new ConfigError([{ file: path, message: "not a TOML file: it holds NUL bytes" }]);
  }
  return parseToml(text, path);
}

/** Longest TOML line shown under a syntax error. */
const MAX_SHOWN_LINE = 160;

/** A line of the file as it can be shown on a terminal: control characters escaped, cut short. */
function printable(line: string): string {
  const escaped = line.replace(
    /(?!\t)\p{Cc}/gu,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  return escaped.length > MAX_SHOWN_LINE ? `${escaped.slice(0, MAX_SHOWN_LINE)}…` : escaped;
}

/**
 * Environment access is optional (README "Configuration"): without `--allow-env` the lookups are skipped.
 * A value that is not UTF-8 is a {@linkcode ConfigError} naming the variable.
 */
function readEnv(name: string): string | undefined {
  if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
    return undefined;
  }
  try {
    return Deno.env.get(name);
  } catch (error) {
    if (!(error instanceof Deno.errors.InvalidData)) throw error;
    throw new ConfigError([{ key: name, message: "the environment variable is not valid UTF-8" }]);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
