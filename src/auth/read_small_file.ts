/**
 * Reading the small files a configuration names (certificates, keys, credential lists), with
 * the reason for a failure ready for a message.
 *
 * @module
 */
import { fsErrorReason } from "../fs_error.ts";

/** Largest file read: these files hold keys and credentials, not logs. */
export const MAX_SMALL_FILE_BYTES = 1024 * 1024;

/** A file's text and permission bits, or the complete message saying why it could not be had. */
export type SmallFile =
  | { readonly text: string; readonly mode: number | null }
  | { readonly error: string };

/**
 * Reads the regular file at `path` as UTF-8. A FIFO or device is refused before it is opened
 * (opening one could block), and at most `maxBytes` are read, so a path that names a log or
 * `/dev/zero` by mistake costs nothing.
 */
export async function readSmallFile(
  path: string,
  maxBytes: number = MAX_SMALL_FILE_BYTES,
): Promise<SmallFile> {
  const where = JSON.stringify(path);
  let bytes: Uint8Array;
  let mode: number | null;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) return { error: `Cannot read ${where}: it is not a regular file` };
    mode = info.mode;
    using file = await Deno.open(path, { read: true });
    bytes = await readAtMost(file, maxBytes + 1);
  } catch (error) {
    return { error: `Cannot read ${where}: ${fsErrorReason(error)}` };
  }
  if (bytes.length > maxBytes) {
    return { error: `Cannot read ${where}: it is larger than ${formatBytes(maxBytes)}` };
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), mode };
  } catch {
    return { error: `Cannot read ${where}: it is not text (invalid UTF-8)` };
  }
}

async function readAtMost(file: Deno.FsFile, limit: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(Math.min(limit, 64 * 1024));
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < limit) {
    const read = await file.read(buffer.subarray(0, Math.min(buffer.length, limit - total)));
    if (read === null) break;
    chunks.push(buffer.slice(0, read));
    total += read;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
