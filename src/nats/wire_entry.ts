/**
 * Entries as JetStream message bodies: the entry's JSON, exactly what a LogWisp client
 * receives, so any NATS client reads plain log entries.
 *
 * @module
 */
import { type Level, LEVELS, type LogEntry } from "../entry/entry.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The body of `entry`, at most `maxBytes` long, and whether it had to be cut. An entry
 * too large for the server's maximum payload, or with fields JSON cannot hold, keeps its
 * time, source and level, its message (cut to fit at a character boundary), and `fields`
 * replaced by `{ "truncated": true }`: it arrives shortened rather than never.
 */
export function encodeEntry(
  entry: LogEntry,
  maxBytes: number,
): { body: Uint8Array; shortened: boolean } {
  const shell: LogEntry = {
    time: entry.time,
    source: entry.source,
    ...(entry.level && { level: entry.level }),
    message: "",
    fields: { truncated: true },
  };
  let json: string;
  let cut = false;
  try {
    json = JSON.stringify(entry);
  } catch {
    // Fields JSON cannot hold (a BigInt, a cycle): the entry goes without them.
    json = JSON.stringify({ ...shell, message: entry.message });
    cut = true;
  }
  const body = encoder.encode(json);
  if (body.length <= maxBytes) return { body, shortened: cut };
  const overhead = encoder.encode(JSON.stringify(shell)).length;
  // JSON escaping can grow a character to six bytes: cut, measure, cut more if needed.
  let budget = Math.max(0, maxBytes - overhead);
  let message = entry.message;
  for (;;) {
    message = cutUtf8(message, budget);
    const fitted = encoder.encode(JSON.stringify({ ...shell, message }));
    if (fitted.length <= maxBytes || message === "") return { body: fitted, shortened: true };
    budget = Math.floor(budget * maxBytes / fitted.length) - 1;
  }
}

/** The longest prefix of `text` whose UTF-8 form has at most `bytes` bytes. */
function cutUtf8(text: string, bytes: number): string {
  const encoded = encoder.encode(text);
  if (encoded.length <= bytes) return text;
  let end = Math.max(0, bytes);
  // Back up to the start of a character (continuation bytes are 10xxxxxx).
  while (end > 0 && (encoded[end]! & 0xc0) === 0x80) end--;
  return decoder.decode(encoded.subarray(0, end));
}

/**
 * The entry a message body holds, or undefined when it is not one: a JSON object with
 * string `time`, `source` and `message`, an optional known `level` and optional object
 * `fields`. Other keys are dropped; the result has the wire key order.
 */
export function decodeEntry(body: Uint8Array): LogEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { time, source, level, message, fields } = value as Record<string, unknown>;
  if (typeof time !== "string" || typeof source !== "string" || typeof message !== "string") {
    return undefined;
  }
  if (level !== undefined && !(LEVELS as readonly unknown[]).includes(level)) return undefined;
  if (
    fields !== undefined &&
    (typeof fields !== "object" || fields === null || Array.isArray(fields))
  ) {
    return undefined;
  }
  return {
    time,
    source,
    ...(level !== undefined && { level: level as Level }),
    message,
    ...(fields !== undefined && { fields: fields as Record<string, unknown> }),
  };
}
