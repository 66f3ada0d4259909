import { fsErrorReason } from "./fs_error.ts";

/** Severity of a message for people. */
export type LogLevel = "info" | "warn" | "error";

/** Where long-running parts report what happened; tests pass a collector. */
export type Log = (level: LogLevel, message: string) => void;

const encoder = new TextEncoder();

/** Writes all of `text` to stderr. Messages for people never go to stdout (README "Command line"). */
export function writeStderr(text: string): void {
  try {
    writeAll(Deno.stderr, encoder.encode(text));
  } catch {
    // A closed or full stderr must not stop the streams: there is nowhere left to say it.
  }
}

/**
 * Writes all of `text` to stdout: only `--help`, `--version` and `--check` output.
 * Returns false when stdout failed, after saying why on stderr; a reader that stopped early
 * (`logwisp --help | head -1`) is not a failure.
 */
export function writeStdout(text: string): boolean {
  try {
    writeAll(Deno.stdout, encoder.encode(text));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) return true;
    writeStderr(`logwisp: Cannot write to stdout: ${fsErrorReason(error)}\n`);
    return false;
  }
}

function writeAll(target: { writeSync(data: Uint8Array): number }, data: Uint8Array): void {
  let written = 0;
  while (written < data.length) written += target.writeSync(data.subarray(written));
}

/** `[15:04:05] message`, local time, the format of the console statistics (README "Clients"). */
export function clockPrefix(date: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `[${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}]`;
}

/**
 * Characters that must not reach a terminal or a log file raw: C0 and C1 controls (line
 * breaks, ESC), DEL, and the Unicode line separators and bidirectional overrides that can
 * make text display as something else.
 */
const UNPRINTABLE =
  // Matching control characters is the point.
  // deno-lint-ignore no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
}

/**
 * A value as LogWisp prints it about a path, a name or a client: in double quotes, with
 * control characters, escape sequences and line breaks escaped, so that a file name cannot
 * forge a log line or drive a terminal.
 */
export function quote(value: string): string {
  return JSON.stringify(value).replace(UNPRINTABLE, escapeChar);
}

/** `text` with every unprintable character escaped: one line, however it was built. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar);
}

/** The process log: one line per message on stderr, warnings and errors marked. */
export function stderrLog(level: LogLevel, message: string): void {
  const mark = level === "info" ? "" : ` ${level.toUpperCase()}`;
  writeStderr(`${clockPrefix()}${mark} ${printable(message)}\n`);
}
