import type { FileFacts, TailFile } from "./tail_file.ts";

/** A file's identity: device and inode, as `"dev:ino"`. */
export type FileIdentity = string;

/** The identity of what `info` describes. */
export function identityOf(info: FileFacts): FileIdentity {
  return `${info.dev}:${info.ino}`;
}

/** How long a renamed file waits for a watcher of its new name to continue it. */
const RELEASED_TTL_MS = 10_000;

interface Released {
  /** Held open so the inode cannot be reused by a new file while the position is kept. */
  readonly file: TailFile;
  readonly position: number;
  readonly at: number;
}

/**
 * Who reads which file, so that no file is read twice within a stream.
 *
 * A file reachable by two paths (a file target inside a directory target, a symlink, or
 * a rotated file renamed to a name the pattern also matches, like `app.1.log` for
 * `*.log`) has one owner at a time. When the owner lets go of a file that still exists
 * (it was renamed away), its read position is kept for a while, so that the watcher of
 * the new name continues from there instead of reading it again from the start.
 */
export class IdentityRegistry {
  readonly #owners = new Map<FileIdentity, string>();
  readonly #released = new Map<FileIdentity, Released>();

  /** The path that reads `identity`, if another one than `path` does. */
  ownerOtherThan(identity: FileIdentity, path: string): string | undefined {
    const owner = this.#owners.get(identity);
    return owner === path ? undefined : owner;
  }

  /**
   * Makes `path` the reader of `identity`. Returns where the previous owner stopped when
   * the file was renamed to `path`, else undefined.
   */
  claim(identity: FileIdentity, path: string): number | undefined {
    this.#owners.set(identity, path);
    const released = this.#released.get(identity);
    if (!released) return undefined;
    this.#released.delete(identity);
    released.file.close();
    return released.position;
  }

  /**
   * `path` stops reading `identity` and hands over its open `file`. When the file still
   * exists under another name, it stays open with its position; otherwise it is closed.
   */
  release(
    identity: FileIdentity,
    path: string,
    file: TailFile,
    position: number | undefined,
    now: number,
  ): void {
    if (this.#owners.get(identity) === path) this.#owners.delete(identity);
    if (position === undefined) {
      file.close();
      return;
    }
    this.#released.get(identity)?.file.close();
    this.#released.set(identity, { file, position, at: now });
  }

  /** Closes kept files that waited too long or were deleted since. */
  async prune(now: number): Promise<void> {
    for (const [identity, released] of this.#released) {
      let expired = now - released.at > RELEASED_TTL_MS;
      if (!expired) {
        try {
          expired = (await released.file.stat()).nlink === 0;
        } catch {
          expired = true;
        }
      }
      if (expired && this.#released.get(identity) === released) {
        this.#released.delete(identity);
        released.file.close();
      }
    }
  }

  /** Closes every kept file. */
  dispose(): void {
    for (const { file } of this.#released.values()) file.close();
    this.#released.clear();
  }
}
