/**
 * `Nats-Msg-Id` values: the same line always gets the same id, so JetStream drops a
 * retried publish as a duplicate, and different lines get different ids.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The longest id {@linkcode natsMessageId} returns. */
export const MAX_MESSAGE_ID_LENGTH = 140;

/** A part longer than this once escaped is replaced by its hash. */
const MAX_PART = 40;

/** Parts seen lately, escaped or hashed: host, stream and file repeat from line to line. */
const parts = new Map<string, string>();

/**
 * The `Nats-Msg-Id` of the line at byte `offset` of the file `file` (its identity, such as
 * `"dev:ino"`) of stream `stream` on host `host`: `host.stream.file.offset` with every
 * character outside `[A-Za-z0-9-]` escaped, so that different inputs never share an id,
 * and a part longer than 40 characters replaced by `~` and 22 characters of its SHA-256.
 * At most 140 characters.
 */
export function natsMessageId(
  parts: { host: string; stream: string; file: string; offset: number },
): string {
  if (!Number.isSafeInteger(parts.offset) || parts.offset < 0) {
    throw new RangeError(`Invalid file offset for a message id: ${parts.offset}`);
  }
  return `${part(parts.host)}.${part(parts.stream)}.${part(parts.file)}.${parts.offset}`;
}

function part(value: string): string {
  let result = parts.get(value);
  if (result !== undefined) return result;
  result = value.replace(/[^A-Za-z0-9-]/g, (char) => `_${char.codePointAt(0)!.toString(16)}_`);
  if (result.length > MAX_PART) {
    result = `~${createHash("sha256").update(value).digest("base64url").slice(0, 22)}`;
  }
  if (parts.size >= 1024) parts.clear();
  parts.set(value, result);
  return result;
}
