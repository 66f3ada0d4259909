import { isAbsolute, join, resolve } from "node:path";
import { fsErrorReason } from "../fs_error.ts";
import { ConfigError, quote } from "./config_error.ts";
import { allowReadFlag } from "./permissions.ts";
import type { SearchedPlace } from "./types.ts";

/** What the lookup needs from the process; tests pass their own. */
export interface LocateOptions {
  /** The `--config` value, if given. */
  readonly flag?: string | undefined;
  /**
   * Reads an environment variable; undefined when unset or not permitted. Throws a
   * {@linkcode ConfigError} for a value it cannot read.
   */
  readonly env: (name: string) => string | undefined;
  /** Where relative configuration paths start. */
  readonly cwd: string;
}

/** The file to load and why it was chosen, or every place that was searched in vain. */
export type Location =
  | { readonly path: string; readonly via: string }
  | { readonly searched: readonly SearchedPlace[] };

/**
 * Finds the configuration file (README "Configuration"): `--config`, `LOGWISP_CONFIG_FILE` (relative to
 * `LOGWISP_CONFIG_DIR`), `$LOGWISP_CONFIG_DIR/logwisp.toml`, `~/.config/logwisp.toml`,
 * `./logwisp.toml`. A file named by the flag or by `LOGWISP_CONFIG_FILE` must exist.
 */
export async function locateConfig(options: LocateOptions): Promise<Location> {
  if (options.flag !== undefined) {
    const path = resolve(options.cwd, options.flag);
    await requireFile(path, "--config");
    return { path, via: "--config" };
  }

  // An empty variable (`LOGWISP_CONFIG_DIR=`) counts as unset, as it does for a shell.
  const env = (name: string) => options.env(name) || undefined;
  const dir = env("LOGWISP_CONFIG_DIR");
  const named = env("LOGWISP_CONFIG_FILE");
  if (named) {
    const path = resolve(options.cwd, dir && !isAbsolute(named) ? join(dir, named) : named);
    await requireFile(path, "LOGWISP_CONFIG_FILE");
    return { path, via: "LOGWISP_CONFIG_FILE" };
  }

  const searched: SearchedPlace[] = [];
  if (dir) {
    // The operator named this directory: a file there that cannot be read is an error,
    // not a reason to fall back to the next place.
    const directory = resolve(options.cwd, dir);
    const kind = (await probe(directory)).kind;
    if (kind === "file" || kind === "missing") {
      const problem = kind === "file" ? "is a file, not a directory" : "does not exist";
      throw new ConfigError([{
        key: "LOGWISP_CONFIG_DIR",
        message: `${quote(directory)} ${problem}`,
      }]);
    }
    const path = join(directory, "logwisp.toml");
    const state = await probe(path);
    if (state.kind === "file") return { path, via: "LOGWISP_CONFIG_DIR" };
    if (state.kind !== "missing") {
      throw new ConfigError([{ key: "LOGWISP_CONFIG_DIR", message: fileProblem(path, state) }]);
    }
    searched.push({ path });
  }
  let home: string | undefined;
  try {
    home = env("HOME");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // HOME is not LogWisp's variable: a broken one skips its step instead of stopping startup.
    searched.push({ path: "~/.config/logwisp.toml", skipped: "HOME is not valid UTF-8" });
  }
  const candidates: [path: string | undefined, via: string][] = [
    [home && join(home, ".config", "logwisp.toml"), "~/.config"],
    [resolve(options.cwd, "logwisp.toml"), "the working directory"],
  ];
  for (const [path, via] of candidates) {
    if (path === undefined) continue;
    const state = await probe(path);
    if (state.kind === "file") return { path, via };
    searched.push(state.kind === "missing" ? { path } : { path, skipped: skipReason(state) });
  }
  return { searched };
}

/** What a path holds, as far as the configuration lookup cares. */
type Probe =
  | { readonly kind: "file" }
  | { readonly kind: "missing" }
  | { readonly kind: "not a file" }
  | { readonly kind: "not permitted" }
  | { readonly kind: "unreadable"; readonly reason: string };

async function probe(path: string): Promise<Probe> {
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") {
    return { kind: "not permitted" };
  }
  try {
    return { kind: (await Deno.stat(path)).isFile ? "file" : "not a file" };
  } catch (error) {
    // `/etc/passwd/logwisp.toml` is as absent as a missing file.
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return { kind: "missing" };
    }
    return { kind: "unreadable", reason: fsErrorReason(error) };
  }
}

async function requireFile(path: string, via: string): Promise<void> {
  const state = await probe(path);
  if (state.kind !== "file") {
    throw new ConfigError([{ key: via, message: fileProblem(path, state) }]);
  }
}

function skipReason(state: Exclude<Probe, { kind: "file" | "missing" }>): string {
  switch (state.kind) {
    case "not a file":
      return "not a regular file";
    case "not permitted":
      return "no read permission";
    case "unreadable":
      return state.reason;
  }
}

function fileProblem(path: string, state: Exclude<Probe, { kind: "file" }>): string {
  const name = `configuration file ${quote(path)}`;
  switch (state.kind) {
    case "missing":
      return `${name} does not exist`;
    case "not a file":
      return `${name} is not a regular file`;
    case "not permitted":
      return `${name} is outside the read permission: grant it with ${allowReadFlag(path)}`;
    case "unreadable":
      return `${name} cannot be read: ${state.reason}`;
  }
}
