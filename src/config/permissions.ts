/** Whether this process may read `path` (`--allow-read`), without prompting. */
export function isReadPermitted(path: string): boolean {
  return Deno.permissions.querySync({ name: "read", path }).state === "granted";
}

/**
 * The message for a target outside the read permission: it would otherwise fail at the
 * first stat with a `NotCapable` error (SPEC §9).
 */
export function outsideReadPermission(path: string): string {
  return `"${path}" is outside the read permission: grant it with --allow-read=${path} ` +
    `(see "Permissions" in the README)`;
}
