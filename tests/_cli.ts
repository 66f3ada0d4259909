/**
 * Spawning the real CLI for end-to-end tests.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { REGEX_V8_FLAGS } from "../src/filter/safe_regex.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** `src/main.ts`, the entry point every test spawns. */
export const MAIN = `${ROOT}src/main.ts`;

/** How to spawn LogWisp. */
export interface CliOptions {
  /** Deno permission flags; default: read everything, net, env (tests narrow them). */
  readonly permissions?: readonly string[];
  readonly env?: Record<string, string>;
  /** Start from an empty environment (plus PATH), so the user's own config is not found. */
  readonly clearEnv?: boolean;
  readonly cwd?: string;
  /** Runs LogWisp under `ulimit -n` of this many open files (through `sh`). */
  readonly maxOpenFiles?: number;
}

/** What a finished run printed. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The arguments of `deno` that run `src/main.ts <args>` with `permissions`. */
export function cliArgs(
  args: readonly string[],
  permissions: readonly string[] = ["--allow-read", "--allow-net", "--allow-env"],
): string[] {
  return [
    "run",
    "-q",
    "--no-prompt",
    `--config=${ROOT}deno.json`,
    // As `deno task start` and the compiled binary run it: client patterns in linear time.
    `--v8-flags=${REGEX_V8_FLAGS}`,
    ...permissions,
    MAIN,
    ...args,
  ];
}

/** `deno run <permissions> src/main.ts <args>` as a command, ready to spawn or output. */
export function cliCommand(args: readonly string[], options: CliOptions = {}): Deno.Command {
  const argv = [Deno.execPath(), ...cliArgs(args, options.permissions)];
  const [command, ...rest] = options.maxOpenFiles === undefined
    ? argv
    : ["sh", "-c", 'ulimit -n "$0" && exec "$@"', String(options.maxOpenFiles), ...argv];
  return new Deno.Command(command!, {
    args: rest,
    cwd: options.cwd ?? ROOT,
    env: {
      NO_COLOR: "1",
      ...(options.maxOpenFiles !== undefined && { PATH: "/usr/bin:/bin" }),
      ...options.env,
    },
    clearEnv: options.clearEnv ?? true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs the CLI to completion. */
export async function runCli(
  args: readonly string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const { code, stdout, stderr } = await cliCommand(args, options).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}
