/** The path leads to something that is not a regular file: it is not followed. */
export class NotRegularFileError extends Error {
  /** What it is instead, e.g. `a FIFO`. */
  readonly kind: string;

  /** A refusal to open a file of `kind` (a FIFO, a directory…). */
  constructor(kind: string) {
    super(`it is ${kind}, not a regular file`);
    this.name = "NotRegularFileError";
    this.kind = kind;
  }
}

/**
 * The path is a symbolic link (or lies under one) leading outside the read permission: the
 * permission checks the path as written, so following the link would read what the
 * operator did not allow.
 */
export class OutsideReadPermissionError extends Error {
  /** A refusal to follow a path that resolves to `target`. */
  constructor(target: string) {
    super(`it leads to ${JSON.stringify(target)}, outside the read permission (--allow-read)`);
    this.name = "OutsideReadPermissionError";
  }
}

/** Node's `code` of an error from `node:fs`, if it has one. */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Whether `error` says nothing is at the path (Deno's `NotFound`, node's `ENOENT`/`ENOTDIR`). */
export function isNotFound(error: unknown): boolean {
  if (error instanceof Deno.errors.NotFound) return true;
  const code = codeOf(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

const NODE_REASONS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "it does not exist",
  ENOTDIR: "it does not exist (a path component is not a directory)",
  EISDIR: "it is a directory",
  ELOOP: "too many levels of symbolic links",
  EMFILE: "too many open files (the process's descriptor limit, ulimit -n)",
  ENFILE: "too many open files in the system",
  EIO: "input/output error",
  ENAMETOOLONG: "the name is too long",
};

/**
 * A file-system or I/O error as a short lower-case reason for messages, such as
 * `permission denied`, without Deno's `(os error 13): stat '/path'` tail: the message it goes
 * into names the path already.
 */
export function fsErrorReason(error: unknown): string {
  if (error instanceof NotRegularFileError) return error.message;
  if (error instanceof OutsideReadPermissionError) return error.message;
  const known = NODE_REASONS[codeOf(error) ?? ""];
  if (known !== undefined) return known;
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) return "outside the read permission (--allow-read)";
  if (error instanceof Deno.errors.NotFound) return "it does not exist";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (error instanceof Deno.errors.FilesystemLoop) return "too many levels of symbolic links";
  const message = error instanceof Error ? error.message : String(error);
  const reason = message.replace(/ \(os error \d+\).*$/s, "");
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}
