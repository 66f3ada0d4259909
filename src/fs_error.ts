/**
 * A file-system or I/O error as a short lower-case reason for messages, such as
 * `permission denied`, without Deno's `(os error 13): stat '/path'` tail: the message it goes
 * into names the path already.
 */
export function fsErrorReason(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) return "outside the read permission (--allow-read)";
  if (error instanceof Deno.errors.NotFound) return "it does not exist";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (error instanceof Deno.errors.FilesystemLoop) return "too many levels of symbolic links";
  const message = error instanceof Error ? error.message : String(error);
  const reason = message.replace(/ \(os error \d+\).*$/s, "");
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}
