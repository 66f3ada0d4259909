import { isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "./config_error.ts";

/** What the lookup needs from the process; tests pass their own. */
export interface LocateOptions {
  /** The `--config` value, if given. */
  readonly flag?: string | undefined;
  /** Reads an environment variable; undefined when unset or not permitted. */
  readonly env: (name: string) => string | undefined;
  readonly cwd: string;
}

/** The file to load and why it was chosen, or every place that was searched in vain. */
export type Location =
  | { readonly path: string; readonly via: string }
  | { readonly searched: readonly string[] };

/**
 * Finds the configuration file (SPEC §2.1): `--config`, `LOGWISP_CONFIG_FILE` (relative to
 * `LOGWISP_CONFIG_DIR`), `$LOGWISP_CONFIG_DIR/logwisp.toml`, `~/.config/logwisp.toml`,
 * `./logwisp.toml`. A file named by the flag or by `LOGWISP_CONFIG_FILE` must exist.
 */
export async function locateConfig(options: LocateOptions): Promise<Location> {
  if (options.flag !== undefined) {
    const path = resolve(options.cwd, options.flag);
    await requireFile(path, "--config");
    return { path, via: "--config" };
  }

  const dir = options.env("LOGWISP_CONFIG_DIR");
  const named = options.env("LOGWISP_CONFIG_FILE");
  if (named) {
    const path = resolve(options.cwd, dir && !isAbsolute(named) ? join(dir, named) : named);
    await requireFile(path, "LOGWISP_CONFIG_FILE");
    return { path, via: "LOGWISP_CONFIG_FILE" };
  }

  const home = options.env("HOME");
  const candidates: [path: string | undefined, via: string][] = [
    [dir && resolve(options.cwd, dir, "logwisp.toml"), "LOGWISP_CONFIG_DIR"],
    [home && join(home, ".config", "logwisp.toml"), "~/.config"],
    [resolve(options.cwd, "logwisp.toml"), "the working directory"],
  ];
  const searched: string[] = [];
  for (const [path, via] of candidates) {
    if (path === undefined) continue;
    const state = await probe(path);
    if (state === "file") return { path, via };
    searched.push(state === "not permitted" ? `${path} (not checked: no read permission)` : path);
  }
  return { searched };
}

type Probe = "file" | "missing" | "not a file" | "not permitted";

async function probe(path: string): Promise<Probe> {
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") {
    return "not permitted";
  }
  try {
    return (await Deno.stat(path)).isFile ? "file" : "not a file";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "missing";
    throw error;
  }
}

async function requireFile(path: string, via: string): Promise<void> {
  const reason = {
    "file": undefined,
    "missing": "does not exist",
    "not a file": "is not a regular file",
    "not permitted": `is outside the read permission: grant it with --allow-read=${path}`,
  }[await probe(path)];
  if (reason) {
    throw new ConfigError([{ key: via, message: `configuration file "${path}" ${reason}` }]);
  }
}
