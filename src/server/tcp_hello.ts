/**
 * The optional hello line of a TCP client: one JSON object, e.g.
 * `{"level":"WARN","grep":"timeout","tail":100}`, carrying the client's filter (README
 * "Filters"). A client that sends nothing at once gets the stream unfiltered.
 *
 * @module
 */
import type { Connection } from "./connection.ts";

/** How long a client has to start its hello before it is served unfiltered. */
export const HELLO_WAIT_MS = 300;
/** How long a started hello line may take to end with a newline. */
export const HELLO_TIMEOUT_MS = 5000;
/** Longest hello line. */
export const MAX_HELLO_BYTES = 16 * 1024;

/** What the client said first. */
export type Hello =
  /** Nothing within {@linkcode HELLO_WAIT_MS}, or input that is not a hello: no filter. */
  | { readonly kind: "none" }
  | { readonly kind: "hello"; readonly object: Readonly<Record<string, unknown>> }
  /** A hello that cannot be read: the client gets an error line and is closed. */
  | { readonly kind: "error"; readonly error: string }
  /** The client closed before anything was decided. */
  | { readonly kind: "closed" };

const OPEN_BRACE = 0x7b;
const NEWLINE = 0x0a;

/**
 * Reads `connection` until its client closes it or the connection ends: `hello` resolves
 * with what its first line says, `input` once reading has stopped. Whatever else the
 * client sends is read and discarded, so that its leaving is noticed.
 */
export function readHello(
  connection: Connection,
  options: { waitMs?: number; timeoutMs?: number } = {},
): { hello: Promise<Hello>; input: Promise<void> } {
  let decide: (hello: Hello) => void = () => {};
  let decided = false;
  const hello = new Promise<Hello>((resolve) => {
    decide = (value) => {
      if (decided) return;
      decided = true;
      clearTimeout(timer);
      resolve(value);
    };
  });
  let timer = setTimeout(() => decide({ kind: "none" }), options.waitMs ?? HELLO_WAIT_MS);
  const input = (async () => {
    const buffer = new Uint8Array(4096);
    let line: Uint8Array = new Uint8Array(0);
    try {
      for (;;) {
        const count = await connection.read(buffer);
        if (count === null) break;
        if (decided) continue;
        const chunk = buffer.subarray(0, count);
        if (line.length === 0 && chunk[firstNonSpace(chunk)] !== OPEN_BRACE) {
          if (firstNonSpace(chunk) < chunk.length) decide({ kind: "none" });
          continue;
        }
        if (line.length === 0) {
          clearTimeout(timer);
          timer = setTimeout(
            () =>
              decide({
                kind: "error",
                error: `Hello line not complete within ${
                  (options.timeoutMs ?? HELLO_TIMEOUT_MS) / 1000
                } s: end it with a newline`,
              }),
            options.timeoutMs ?? HELLO_TIMEOUT_MS,
          );
        }
        const end = chunk.indexOf(NEWLINE);
        line = concat(line, end < 0 ? chunk : chunk.subarray(0, end));
        if (line.length > MAX_HELLO_BYTES) {
          decide({ kind: "error", error: `Hello line longer than ${MAX_HELLO_BYTES} bytes` });
        } else if (end >= 0) {
          decide(parseHello(line));
        }
      }
    } catch {
      // Reset, or closed by us: either way the client is done.
    }
    decide({ kind: "closed" });
  })();
  return { hello, input };
}

function firstNonSpace(chunk: Uint8Array): number {
  let i = 0;
  while (i < chunk.length && (chunk[i] === 0x20 || chunk[i] === 0x09 || chunk[i] === 0x0d)) i++;
  return i;
}

function parseHello(line: Uint8Array): Hello {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(line));
  } catch (error) {
    return { kind: "error", error: `Hello line is not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "error", error: "Hello line is not a JSON object" };
  }
  return { kind: "hello", object: value as Record<string, unknown> };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
