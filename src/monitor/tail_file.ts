import { closeSync, constants, fstat, open, read, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { NotRegularFileError, OutsideReadPermissionError } from "../fs_error.ts";

/** What the tailer needs to know of a file: a subset of `Deno.FileInfo`, which satisfies it. */
export interface FileFacts {
  /** A regular file. */
  readonly isFile: boolean;
  /** Device number. */
  readonly dev: number;
  /** Inode number; null where the platform has none. */
  readonly ino: number | null;
  /** Size in bytes. */
  readonly size: number;
  /** Last modification time. */
  readonly mtime: Date | null;
  /** Hard links; 0 once the file is deleted. */
  readonly nlink: number | null;
}

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, holding one of
// the runtime's blocking threads until then, and the monitor with it. A path can turn into
// a FIFO between the stat that said "regular file" and the open, so the open itself must
// not block; what was opened is checked afterwards. O_NOCTTY: a terminal device never
// becomes the controlling terminal. For regular files O_NONBLOCK changes nothing.
const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * A regular file opened for following: reads from a position it keeps itself, like
 * `Deno.FsFile`, but opened so that a FIFO, socket or device in its place is refused
 * without blocking.
 */
export class TailFile {
  readonly #fd: number;
  #position = 0;
  #closed = false;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Opens `path` when it is a regular file within the read permission. Throws
   * {@linkcode NotRegularFileError} for anything else, {@linkcode OutsideReadPermissionError}
   * for a link leading outside the permission, and the file system's error (`ENOENT`,
   * `EACCES`, Deno's `NotCapable`) when it cannot be opened.
   */
  static async open(path: string): Promise<{ file: TailFile; info: FileFacts }> {
    for (let attempt = 1;; attempt++) {
      const opened = await TailFile.#openOnce(path);
      if (opened) return opened;
      if (attempt === 3) throw new Deno.errors.Interrupted("it kept changing while it was opened");
    }
  }

  /** Opens `path`, or undefined when what it names changed between the check and the open. */
  static async #openOnce(path: string): Promise<{ file: TailFile; info: FileFacts } | undefined> {
    // Deno resolves links itself when it opens (O_NOFOLLOW does not stop it), so the file
    // opened must be shown to be the file checked: the same device and inode.
    const target = await resolveWithinReadPermission(path);
    const checked = readScoped() ? await Deno.lstat(target) : undefined;
    if (checked?.isSymlink) return undefined;
    const fd = await new Promise<number>((resolve, reject) =>
      open(target, FLAGS, (error, fd) => error ? reject(error) : resolve(fd))
    );
    const file = new TailFile(fd);
    try {
      const info = await file.#fstat();
      if (checked && (info.dev !== checked.dev || info.ino !== checked.ino)) {
        file.close();
        return undefined;
      }
      if (!info.isFile()) throw new NotRegularFileError(describeKind(info));
      return { file, info: facts(info) };
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Reads into `buffer` from the current position; the number of bytes, or null at the end. */
  async read(buffer: Uint8Array): Promise<number | null> {
    const count = await new Promise<number>((resolve, reject) =>
      read(
        this.#fd,
        buffer,
        0,
        buffer.length,
        this.#position,
        (error, bytes) => error ? reject(error) : resolve(bytes),
      )
    );
    if (count === 0) return null;
    this.#position += count;
    return count;
  }

  /** Moves the read position to `position` bytes from the start. */
  seek(position: number): void {
    this.#position = position;
  }

  /** The facts of the open file (not of whatever is at its path now). */
  async stat(): Promise<FileFacts> {
    return facts(await this.#fstat());
  }

  /** Closes the file; closing twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      closeSync(this.#fd);
    } catch {
      // Nothing to act on: the descriptor is gone either way.
    }
  }

  #fstat(): Promise<Stats> {
    return new Promise((resolve, reject) =>
      fstat(this.#fd, (error, stats) => error ? reject(error) : resolve(stats))
    );
  }
}

/**
 * The name to open `path` by, with no link left in it, when reading is scoped (`path`
 * otherwise). Deno checks a path as written, not where its links lead, so a link is
 * followed only to a file in the same directory (opened by its own name there, which the
 * permission covers as written) or to a file the permission covers. Throws
 * {@linkcode OutsideReadPermissionError} for any other link, and the file system's error when
 * the path cannot be resolved.
 */
export async function resolveWithinReadPermission(path: string): Promise<string> {
  if (!readScoped()) return path;
  const real = await Deno.realPath(path);
  const directory = dirname(path);
  // Links in the directory's own path are the operator's (a volume, macOS's /var).
  if (dirname(real) === await Deno.realPath(directory)) return join(directory, basename(real));
  if (readable(real)) return real;
  throw new OutsideReadPermissionError(real);
}

let scoped: boolean | undefined;

/** Whether reading is allowed below some paths only (else any link may be followed). */
function readScoped(): boolean {
  scoped ??= Deno.permissions.querySync({ name: "read" }).state !== "granted";
  return scoped;
}

function readable(path: string): boolean {
  return Deno.permissions.querySync({ name: "read", path }).state === "granted";
}

function facts(stats: Stats): FileFacts {
  return {
    isFile: stats.isFile(),
    dev: stats.dev,
    ino: stats.ino,
    size: stats.size,
    mtime: stats.mtime,
    nlink: stats.nlink,
  };
}

/** `a FIFO`, `a socket`… of node's `Stats` or `Deno.FileInfo`, for messages. */
export function describeKind(info: Stats | Deno.FileInfo): string {
  const is = "isFIFO" in info
    ? {
      fifo: info.isFIFO(),
      socket: info.isSocket(),
      char: info.isCharacterDevice(),
      block: info.isBlockDevice(),
      directory: info.isDirectory(),
    }
    : {
      fifo: info.isFifo,
      socket: info.isSocket,
      char: info.isCharDevice,
      block: info.isBlockDevice,
      directory: info.isDirectory,
    };
  if (is.fifo) return "a FIFO";
  if (is.socket) return "a socket";
  if (is.char) return "a character device";
  if (is.block) return "a block device";
  if (is.directory) return "a directory";
  return "a special file";
}
