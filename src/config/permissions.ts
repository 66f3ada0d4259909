import { quote } from "./config_error.ts";

/** Whether this process may read `path` (`--allow-read`), without prompting. */
export function isReadPermitted(path: string): boolean {
  return Deno.permissions.querySync({ name: "read", path }).state === "granted";
}

/**
 * The message for a target outside the read permission: it would otherwise fail at the
 * first stat with a `NotCapable` error (README "Permissions").
 */
export function outsideReadPermission(path: string): string {
  return `${quote(path)} is outside the read permission: grant it with ${allowReadFlag(path)} ` +
    `(see "Permissions" in the README)`;
}

/** `--allow-read=PATH`, quoted for the shell when the path needs it, ready to paste. */
export function allowReadFlag(path: string): string {
  const flag = `--allow-read=${path}`;
  return /^[\w./:@%+=,-]+$/.test(flag) ? flag : `'${flag.replaceAll("'", `'\\''`)}'`;
}
