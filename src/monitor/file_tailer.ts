import { basename, dirname, join } from "node:path";
import type { LogEntry } from "../entry/entry.ts";
import { parseLine, type ReadTime, readTime } from "../entry/parse_line.ts";
import { fsErrorReason, isNotFound, NotRegularFileError } from "../fs_error.ts";
import { type Log, quote } from "../log.ts";
import { type FileIdentity, identityOf, type IdentityRegistry } from "./identity_registry.ts";
import { type LineSink, LineSplitter } from "./line_splitter.ts";
import { describeKind, type FileFacts, TailFile } from "./tail_file.ts";

/** Why a file is read again from the start (README "Following files"), in the order they are checked. */
export type RotationReason =
  | "inode change"
  | "size decrease"
  | "modification time reset"
  | "position beyond file size";

/**
 * `following`: a file is open; `missing`: nothing at the path; `duplicate`: the file is
 * already read through another path; `error`: the path cannot be read (retried).
 */
export type WatcherState = "following" | "missing" | "duplicate" | "error";

/** What status shows of one followed path (README "Clients"). */
export interface WatcherStats {
  /** The followed path. */
  readonly path: string;
  /** What the tailer is doing now. */
  readonly state: WatcherState;
  /** The file's size at the last check, or the position when larger. */
  readonly size: number;
  /** Bytes read from the current file. */
  readonly position: number;
  /** Lines read from the path's files. */
  readonly entriesRead: number;
  /** Rotations and truncations detected. */
  readonly rotations: number;
  /** RFC 3339 time of the last line read, or null before the first. */
  readonly lastRead: string | null;
  /** Distinct read problems met. */
  readonly readErrors: number;
  /** Lines cut at `max_line_bytes`. */
  readonly truncatedLines: number;
  /** Bytes read from the path's files, copies and renamed-away files included. */
  readonly bytesRead: number;
  /** Rotations by the rule that detected them; only the rules that fired. */
  readonly rotationsBy: Readonly<Partial<Record<RotationReason, number>>>;
  /** Bytes read from copytruncate's copies, which a truncation took away unread. */
  readonly recoveredBytes?: number;
  /** The current problem, or the path that reads the same file. */
  readonly detail?: string;
}

/**
 * Where an entry comes from: its file (identity and how often that file was read again from
 * the start) and where its line ends in it. The same line of the same file always has the
 * same origin, whenever it is read: it names the line for de-duplication downstream.
 */
export interface EntryOrigin {
  /** `<identity>~<generation>`: the file, and how often it was read again from the start. */
  readonly file: string;
  /** The byte just past the line's newline (or cut); 0 for a rotation notice. */
  readonly offset: number;
}

/** How a tailer follows its path. */
export interface TailerOptions {
  /** The path to follow. */
  readonly path: string;
  /** Longer lines are cut to this many bytes. */
  readonly maxLineBytes: number;
  /** Start the first file found at its end (it existed at startup and read_from = "end"). */
  readonly startAtEnd: boolean;
  /** Who reads which file, so that one file is read through one path only. */
  readonly registry: IdentityRegistry;
  /**
   * Receives the entries of each chunk read, in order, and the origin of each; the tailer
   * waits for it.
   */
  readonly emit: (entries: LogEntry[], origins: EntryOrigin[]) => void | Promise<void>;
  /** Where problems are reported. */
  readonly log: Log;
  /** Prefix of log messages, e.g. `stream "app"`. */
  readonly label: string;
  /** `Deno.stat`; a test replaces it to produce a race between stat and read on demand. */
  readonly stat?: (path: string) => Promise<Deno.FileInfo>;
  /** `TailFile.open`; a test replaces it to refuse an open as a file's mode would. */
  readonly open?: (path: string) => Promise<{ file: TailFile; info: FileFacts }>;
}

/** A file renamed away from the path, still read through its handle. */
interface Draining {
  readonly file: TailFile;
  readonly identity: FileIdentity;
  /** Its {@linkcode EntryOrigin.file}. */
  readonly key: string;
  position: number;
  /** Holds the file's partial last line. */
  readonly splitter: LineSplitter;
  /** When it was renamed away. */
  readonly since: number;
}

/** Bytes read from one file per check, so one busy file cannot starve the others. */
const MAX_BYTES_PER_CHECK = 16 * 1024 * 1024;
/**
 * How long a file renamed away is still read through its handle (Fluent Bit's Rotate_Wait):
 * an application writes to its old file until it reopens the path.
 */
const ROTATE_WAIT_MS = 10_000;
/** How far back from the end a file present at startup is searched for a line start. */
const TAIL_SCAN_BYTES = 64 * 1024;
/** Bytes before the read position remembered to notice content replaced behind it. */
const FINGERPRINT_BYTES = 16;
/** Leeway for file-system timestamps when telling a copy made since the last read. */
const COPY_MTIME_SLACK_MS = 50;
/** Siblings looked at, newest first, for the copy copytruncate made. */
const COPY_CANDIDATES = 4;

/**
 * Follows one path like `tail -F`: reads new lines as they are written, and detects
 * rotation and truncation on every check (README "Following files"). Each check is one `stat` of the path
 * plus reads from the open handle; the monitor decides when to check.
 */
export class FileTailer {
  /** The followed path. */
  readonly path: string;
  readonly #options: TailerOptions;
  readonly #source: string;
  /** Splits the current file; a file renamed away takes its splitter (and partial line) along. */
  #splitter: LineSplitter;
  readonly #sink: LineSink;
  /** Files renamed away, read until deleted or ROTATE_WAIT_MS after the switch; oldest first. */
  #draining: Draining[] = [];
  /** Entries of the chunk being read, handed to `emit` together. */
  #batch: LogEntry[] = [];
  /** The origin of each entry of `#batch`. */
  #origins: EntryOrigin[] = [];
  /** The file the splitter is fed from, and the offset of the chunk pushed. */
  #feeding: { key: string; base: number } = { key: "", base: 0 };
  /** Times the current file was read again from the start (truncated). */
  #generation = 0;

  #file: TailFile | undefined;
  #identity: FileIdentity | undefined;
  /** The file followed last, kept after it is closed: another one at the path is a rotation. */
  #lastIdentity: FileIdentity | undefined;
  #startAtEnd: boolean;
  /**
   * The file at the path when the first check could not open it (its mode, say), and its
   * size then: when that file can be opened, it is read from there, as it would have been.
   */
  #startPoint: { identity: FileIdentity; size: number } | undefined;
  #position = 0;
  #lastSize = 0;
  #lastMtime = 0;
  /** The last bytes read, ending at the position. */
  readonly #fingerprint = new Uint8Array(FINGERPRINT_BYTES);
  #fingerprintLength = 0;
  #goneSince: number | undefined;
  #at: ReadTime = readTime(Date.now());
  #lastRead: ReadTime | undefined;
  /** The current read problem, reported once. */
  #error: string | undefined;
  /** The path whose watcher reads the same file. */
  #duplicateOf: string | undefined;
  #entriesRead = 0;
  #rotations = 0;
  #readErrors = 0;
  #truncatedLines = 0;
  #bytesRead = 0;
  readonly #rotationsBy: Partial<Record<RotationReason, number>> = {};
  /** When a check last found anything new: data, a rotation, another state. */
  #changedAt = 0;
  /** Epoch ms just before the last read of the current file: what was there then, it has. */
  #lookedAt = 0;
  /** Bytes read from copies copytruncate made, which the truncation took from the file. */
  #recoveredBytes = 0;
  /** The path reaches its file through a symlink: events in its directory miss its writes. */
  #followsLink = false;

  /** A tailer of `options.path`; it reads nothing until checked. */
  constructor(options: TailerOptions) {
    this.path = options.path;
    this.#options = options;
    this.#source = basename(options.path);
    this.#startAtEnd = options.startAtEnd;
    this.#splitter = this.#newSplitter();
    this.#sink = (line, truncated, end) => {
      this.#entriesRead++;
      if (truncated) this.#truncatedLines++;
      this.#lastRead = this.#at;
      this.#batch.push(parseLine(line, this.#source, this.#at, truncated));
      this.#origins.push({ file: this.#feeding.key, offset: this.#feeding.base + end });
    };
  }

  /** What the tailer is doing now. */
  get state(): WatcherState {
    if (this.#error !== undefined) return "error";
    if (this.#file || this.#draining.length > 0) return "following";
    return this.#duplicateOf === undefined ? "missing" : "duplicate";
  }

  /** When a check last found something new (0 before the first). */
  get changedAt(): number {
    return this.#changedAt;
  }

  /**
   * Whether file-system events in the path's directory cannot be trusted to announce every
   * change: the file is reached through a symlink, or a file no longer at the path (renamed
   * away) is still read.
   */
  get needsPolling(): boolean {
    const renamedAway = this.#file !== undefined && this.#goneSince !== undefined;
    return this.#followsLink || renamedAway || this.#draining.length > 0;
  }

  /**
   * Looks at the path once: follows rotation and truncation, then reads what is new.
   * `buffer` is scratch space shared by the tailers of a monitor, which never check
   * concurrently. `hint` says why: `written`, a file-system event says the file was just
   * written, so its new bytes are read first, through the open file, and when there are
   * some the path is not looked at this time; `copying`, a copy of the file is being made
   * (copytruncate), so the path is not looked at while the open file still holds what was
   * read: a look at the path can wait behind the rotator's work in the directory, and every
   * moment counts before the truncation. Resolves true when data is left to read (the
   * per-check cap was hit).
   */
  async check(buffer: Uint8Array, now: number, hint?: "written" | "copying"): Promise<boolean> {
    const before = this.#progress();
    try {
      const read = hint === undefined ? "unverified" : await this.#readWritten(buffer);
      if (read === "read" || (read === "held" && hint === "copying")) return false;
      return await this.#check(buffer, now, read !== "unverified");
    } finally {
      this.#startAtEnd = false;
      await this.#emit();
      if (this.#progress() !== before) this.#changedAt = now;
    }
  }

  /** Everything a check can change, in one comparable value. */
  #progress(): string {
    return `${this.state} ${this.#identity} ${this.#position} ${this.#rotations} ` +
      `${this.#draining.length} ${this.#readErrors}`;
  }

  /**
   * The fast path after a write event, one read: from just before the position, so that
   * the same read that brings the new bytes also shows the bytes before them are still the
   * ones read there (the file was not truncated and rewritten). A write reaches the clients
   * one file-system round trip after its event, not four. `read`: new bytes were read;
   * `held`: nothing new, and the fingerprint held; `unverified`: the file needs a full check.
   */
  async #readWritten(buffer: Uint8Array): Promise<"read" | "held" | "unverified"> {
    const file = this.#file;
    const length = this.#fingerprintLength;
    if (!file || length === 0 || this.#draining.length > 0) return "unverified";
    this.#lookedAt = Date.now();
    file.seek(this.#position - length);
    let count: number;
    try {
      count = await file.read(buffer) ?? 0;
    } catch {
      return "unverified";
    } finally {
      file.seek(this.#position);
    }
    for (let i = 0; i < length; i++) {
      if (i >= count || buffer[i] !== this.#fingerprint[i]) return "unverified";
    }
    if (count === length) return "held";
    const chunk = buffer.subarray(length, count);
    this.#at = readTime(Date.now());
    this.#bytesRead += chunk.length;
    this.#feed(this.#key, this.#position);
    this.#splitter.push(chunk, this.#sink);
    this.#remember(chunk);
    this.#position += chunk.length;
    file.seek(this.#position);
    await this.#emit();
    return "read";
  }

  async #check(buffer: Uint8Array, now: number, verified: boolean): Promise<boolean> {
    await this.#drain(buffer, now);
    let info: FileFacts;
    try {
      const stat = await (this.#options.stat ?? Deno.stat)(this.path);
      if (!stat.isFile) throw new NotRegularFileError(describeKind(stat));
      info = stat;
      if (this.#startAtEnd) this.#startPoint = { identity: identityOf(info), size: info.size };
    } catch (error) {
      if (isNotFound(error)) return await this.#whileGone(buffer, now);
      this.#fail(error);
      return false;
    }
    this.#goneSince = undefined;

    let restarted = false;
    if (this.#file && identityOf(info) === this.#identity) {
      const reason = await this.#truncation(info, verified);
      if (reason) {
        await this.#readRestFromCopy(buffer);
        this.#restart(reason);
      }
      restarted = reason !== undefined;
    } else {
      // A new file at the path (first sight, rename, delete or symlink swap). Open it before
      // finishing the old one, so a second rotation meanwhile cannot take it away unread;
      // then read the old file to its end, so lines written just before the rotation stay,
      // and keep reading it for a while if it was renamed: its writer may not have reopened.
      const next = await this.#openPath();
      if (this.#file) {
        await this.#read(buffer, Infinity);
        await this.#retire(now);
      }
      if (!next || !(await this.#adopt(next))) return false;
      info = next.info;
    }

    // Nothing new (the common case for an idle file): the stat was enough.
    const more = info.size === this.#position && !restarted
      ? false
      : await this.#read(buffer, MAX_BYTES_PER_CHECK);
    // The size this check saw; reading may have gone past it while the writer appended.
    // After a restart the stat may predate the truncation: what was read since is the size.
    this.#lastSize = restarted ? this.#position : info.size;
    this.#lastMtime = info.mtime?.getTime() ?? 0;
    this.#recover();
    return more;
  }

  /** Reads the files renamed away to their ends; lets go of those deleted or waited out. */
  async #drain(buffer: Uint8Array, now: number): Promise<void> {
    if (this.#draining.length === 0) return;
    const kept: Draining[] = [];
    for (const draining of this.#draining) {
      const { error } = await this.#pump(
        draining.file,
        draining.splitter,
        buffer,
        Infinity,
        { key: draining.key, base: draining.position },
        (chunk) => draining.position += chunk.length,
      );
      // Unreadable now: let it go with what was read.
      const readable = error === undefined;
      const named = await hasName(draining.file);
      if (readable && named && now - draining.since < ROTATE_WAIT_MS) {
        kept.push(draining);
        continue;
      }
      this.#feed(draining.key, draining.position);
      draining.splitter.flush(this.#sink);
      // Still named: whoever follows its new name continues from here, not from 0.
      const position = named ? draining.position : undefined;
      this.#options.registry.release(draining.identity, this.path, draining.file, position, now);
    }
    this.#draining = kept;
  }

  /**
   * Done with the current file at the path: a file renamed away is kept for `#drain` with
   * its partial line; a deleted one is closed at once, which would otherwise pin its space.
   */
  async #retire(now: number): Promise<void> {
    const file = this.#file;
    const identity = this.#identity;
    if (!file || identity === undefined || !(await this.#exists())) return await this.#close(now);
    this.#draining.push({
      file,
      identity,
      key: this.#key,
      position: this.#position,
      splitter: this.#splitter,
      since: now,
    });
    this.#splitter = this.#newSplitter();
    this.#file = undefined;
    this.#identity = undefined;
  }

  #newSplitter(): LineSplitter {
    return new LineSplitter({ maxLineBytes: this.#options.maxLineBytes });
  }

  /** The path is gone. A file still held may be written a little longer, so keep reading it. */
  async #whileGone(buffer: Uint8Array, now: number): Promise<boolean> {
    this.#error = undefined;
    this.#duplicateOf = undefined;
    if (!this.#file) return false;
    this.#goneSince ??= now;
    const more = await this.#read(buffer, MAX_BYTES_PER_CHECK);
    // A deleted file is closed at once: holding it would pin its disk space.
    if (!(await this.#exists()) || now - this.#goneSince >= ROTATE_WAIT_MS) await this.#close(now);
    return more;
  }

  /**
   * Opens what is at the path now, with its own stat: the path may change meanwhile, even
   * into a FIFO, which is refused without blocking.
   */
  async #openPath(): Promise<{ file: TailFile; info: FileFacts } | undefined> {
    try {
      return await (this.#options.open ?? TailFile.open)(this.path);
    } catch (error) {
      if (!isNotFound(error)) this.#fail(error);
      return undefined;
    }
  }

  /** Follows the opened file; false (and closed) when another path's watcher reads it. */
  async #adopt(next: { file: TailFile; info: FileFacts }): Promise<boolean> {
    const { file, info } = next;
    const identity = identityOf(info);
    const owner = this.#options.registry.ownerOtherThan(identity, this.path);
    if (owner !== undefined) {
      file.close();
      this.#duplicateOf = owner;
      return false;
    }
    // A file renamed away and back while still being drained continues where it was.
    const back = this.#draining.findIndex((draining) => draining.identity === identity);
    const returned = back >= 0 ? this.#draining.splice(back, 1)[0] : undefined;
    if (returned) {
      returned.file.close();
      this.#splitter = returned.splitter;
    }
    const resumed = returned?.position ?? this.#options.registry.claim(identity, this.path);
    try {
      const point = this.#startPoint;
      this.#startPoint = undefined;
      // A file present at startup is read from where it ended then, even if it could only be
      // opened later; one that appeared since is read whole.
      const end = this.#startAtEnd
        ? info.size
        : point?.identity === identity && point.size <= info.size
        ? point.size
        : undefined;
      const start = resumed ?? (end === undefined ? 0 : await lineStartNearEnd(file, end));
      // What precedes the start is the fingerprint: a truncation that regrows the file past
      // its old size before the first read would otherwise go unnoticed.
      const before = await readAt(file, Math.max(0, start - FINGERPRINT_BYTES), start);
      this.#fingerprint.set(before);
      this.#fingerprintLength = before.length;
      file.seek(start);
      this.#position = start;
    } catch (error) {
      // The kept position stays with the file for the retry.
      this.#options.registry.release(identity, this.path, file, resumed, Date.now());
      this.#fail(error);
      return false;
    }
    this.#file = file;
    if (identity !== this.#identity && identity !== this.#lastIdentity) this.#generation = 0;
    this.#identity = identity;
    this.#followsLink = await followsLink(this.path);
    this.#lastSize = info.size;
    this.#lastMtime = info.mtime?.getTime() ?? 0;
    this.#duplicateOf = undefined;
    // Resuming the very file read last (after a read error) is no rotation.
    const sameFile = returned !== undefined ||
      (identity === this.#lastIdentity && resumed !== undefined);
    if (this.#lastIdentity !== undefined && !sameFile) this.#rotated("inode change");
    this.#lastIdentity = identity;
    return true;
  }

  /**
   * Lets go of the file, emitting its held partial line unless `flush` is false (the same
   * file will be reopened). A file that still exists under some name is handed to the
   * registry with its position, for whichever watcher finds it next.
   */
  async #close(now: number, flush = true): Promise<void> {
    const file = this.#file;
    const identity = this.#identity;
    if (!file || identity === undefined) return;
    if (flush) {
      this.#feed(this.#key, this.#position);
      this.#splitter.flush(this.#sink);
    }
    const exists = await this.#exists();
    this.#file = undefined;
    this.#identity = undefined;
    this.#options.registry.release(
      identity,
      this.path,
      file,
      exists ? this.#position : undefined,
      now,
    );
  }

  /** Whether the open file still has a name; when unknown, no, so no position is offered for a reused inode. */
  async #exists(): Promise<boolean> {
    return this.#file ? await hasName(this.#file) : false;
  }

  /** Why the same file must be read again from the start; `verified`: its fingerprint was just checked. */
  async #truncation(info: FileFacts, verified: boolean): Promise<RotationReason | undefined> {
    if (info.size < this.#lastSize) return "size decrease";
    const mtime = info.mtime?.getTime();
    // The same size and the same bytes before the position: the content is unchanged, only
    // its time was set back (`touch -d`, a restore that keeps times). Nothing to read again.
    if (
      mtime !== undefined && mtime < this.#lastMtime && info.size <= this.#lastSize &&
      (info.size < this.#position || !(await this.#fingerprintHolds()))
    ) {
      return "modification time reset";
    }
    if (this.#position > info.size) return "position beyond file size";
    // Truncated and grown past the old size between two checks (copytruncate under a busy
    // writer): the size says nothing, but the bytes before the position changed.
    if (info.size > this.#lastSize && !verified && !(await this.#fingerprintHolds())) {
      return "size decrease";
    }
    return undefined;
  }

  /** Whether the bytes just before the position are still the ones read there. */
  async #fingerprintHolds(): Promise<boolean> {
    const length = this.#fingerprintLength;
    if (!this.#file || length === 0) return true;
    const bytes = await readAt(this.#file, this.#position - length, this.#position);
    this.#file.seek(this.#position);
    return bytes.length === length && bytes.every((byte, i) => byte === this.#fingerprint[i]);
  }

  /** Keeps the last bytes read, the end of `chunk`, as the fingerprint. */
  #remember(chunk: Uint8Array): void {
    const keep = Math.min(chunk.length, FINGERPRINT_BYTES);
    const carried = Math.min(this.#fingerprintLength, FINGERPRINT_BYTES - keep);
    this.#fingerprint.copyWithin(0, this.#fingerprintLength - carried, this.#fingerprintLength);
    this.#fingerprint.set(chunk.subarray(chunk.length - keep), carried);
    this.#fingerprintLength = carried + keep;
  }

  /**
   * copytruncate copies the file, then truncates it: what the writer added after the last
   * read is gone from the file, but it is at the end of the copy. The copy is a sibling
   * named like the file (`app.log.1`, `app.log-20261202`) written since that read, longer
   * than the read position, with the same bytes just before it; its bytes from the position
   * on are read as the rest of this file. Without such a copy nothing is read, as before.
   */
  async #readRestFromCopy(buffer: Uint8Array): Promise<void> {
    const length = this.#fingerprintLength;
    const position = this.#position;
    if (length === 0) return;
    const directory = dirname(this.path);
    const prefixes = [`${this.#source}.`, `${this.#source}-`];
    const since = this.#lookedAt - COPY_MTIME_SLACK_MS;
    const candidates: { path: string; mtime: number }[] = [];
    try {
      for await (const entry of Deno.readDir(directory)) {
        if (!entry.isFile || !prefixes.some((prefix) => entry.name.startsWith(prefix))) continue;
        const path = join(directory, entry.name);
        const info = await Deno.stat(path).catch(() => undefined);
        const mtime = info?.mtime?.getTime() ?? 0;
        if (info && info.size > position && mtime >= since) candidates.push({ path, mtime });
      }
    } catch {
      return;
    }
    candidates.sort((a, b) => b.mtime - a.mtime);
    for (const { path } of candidates.slice(0, COPY_CANDIDATES)) {
      let copy: TailFile | undefined;
      try {
        copy = (await TailFile.open(path)).file;
        const before = await readAt(copy, position - length, position);
        if (!before.every((byte, i) => byte === this.#fingerprint[i]) || before.length < length) {
          continue;
        }
        copy.seek(position);
        const origin = { key: this.#key, base: position };
        await this.#pump(copy, this.#splitter, buffer, MAX_BYTES_PER_CHECK, origin, (chunk) => {
          this.#recoveredBytes += chunk.length;
        });
        return;
      } catch {
        // Gone or unreadable (compressed away meanwhile): the next candidate, or nothing.
      } finally {
        copy?.close();
      }
    }
  }

  /** Same file, new content: read it again from the start. */
  #restart(reason: RotationReason): void {
    this.#feed(this.#key, this.#position);
    this.#splitter.flush(this.#sink);
    this.#generation++;
    this.#file?.seek(0);
    this.#position = 0;
    this.#fingerprintLength = 0;
    this.#rotated(reason);
  }

  /** Reads up to `limit` bytes from the open file; true when the limit stopped it. */
  async #read(buffer: Uint8Array, limit: number): Promise<boolean> {
    if (!this.#file) return false;
    this.#lookedAt = Date.now();
    const { limited, error } = await this.#pump(
      this.#file,
      this.#splitter,
      buffer,
      limit,
      { key: this.#key, base: this.#position },
      (chunk) => {
        this.#remember(chunk);
        this.#position += chunk.length;
      },
    );
    if (error === undefined) return limited;
    // Released with its position and partial line kept: a reopen of the same file resumes.
    await this.#close(Date.now(), false);
    this.#fail(error);
    return false;
  }

  /**
   * Reads `file` from where it is into `splitter`, chunk by chunk, emitting the entries of
   * each, until its end or `limit` bytes (`limited`); `advance` sees every chunk read.
   * `origin` names the file and the offset it is read from, for the entries' origins.
   */
  async #pump(
    file: TailFile,
    splitter: LineSplitter,
    buffer: Uint8Array,
    limit: number,
    origin: { key: string; base: number },
    advance: (chunk: Uint8Array) => void,
  ): Promise<{ limited: boolean; error?: unknown }> {
    let base = origin.base;
    for (let total = 0; total < limit;) {
      let count: number | null;
      try {
        count = await file.read(buffer);
      } catch (error) {
        return { limited: false, error };
      }
      if (!count) return { limited: false };
      this.#at = readTime(Date.now());
      const chunk = buffer.subarray(0, count);
      this.#bytesRead += count;
      this.#feed(origin.key, base);
      base += count;
      splitter.push(chunk, this.#sink);
      advance(chunk);
      total += count;
      await this.#emit();
      // A short read of a regular file is its end for now: asking again would only say so,
      // one more round trip between a write and the read that gets it.
      if (count < buffer.length) return { limited: false };
    }
    return { limited: true };
  }

  /** Hands the entries collected so far to `emit`. */
  async #emit(): Promise<void> {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    const origins = this.#origins;
    this.#batch = [];
    this.#origins = [];
    await this.#options.emit(batch, origins);
  }

  /** The lines the splitter emits next come from file `key`, from offset `base` on. */
  #feed(key: string, base: number): void {
    this.#feeding = { key, base };
  }

  /** The origin key of the current file. */
  get #key(): string {
    return `${this.#identity ?? ""}~${this.#generation}`;
  }

  #rotated(reason: RotationReason): void {
    const count = ++this.#rotations;
    this.#rotationsBy[reason] = (this.#rotationsBy[reason] ?? 0) + 1;
    const at = readTime(Date.now());
    this.#batch.push({
      time: at.text,
      source: this.#source,
      level: "INFO",
      message: `Log rotation detected (#${count}): ${reason}`,
      fields: { event: "rotation", reason, count },
    });
    this.#origins.push({ file: this.#key, offset: 0 });
  }

  /** Reports a problem once per distinct problem; it is retried on every check. */
  #fail(error: unknown): void {
    const message = fsErrorReason(error);
    if (message === this.#error) return;
    this.#error = message;
    this.#readErrors++;
    this.#options.log(
      "warn",
      `${this.#options.label}: cannot read ${quote(this.path)}: ${message}; retrying`,
    );
  }

  #recover(): void {
    if (this.#error === undefined) return;
    this.#error = undefined;
    this.#options.log("info", `${this.#options.label}: reading ${quote(this.path)} again`);
  }

  /** Lets go of the file without emitting anything: the stream is shutting down. */
  dispose(): void {
    this.#file?.close();
    this.#file = undefined;
    for (const { file } of this.#draining) file.close();
    this.#draining = [];
  }

  /** A snapshot for status. */
  stats(): WatcherStats {
    return {
      path: this.path,
      state: this.state,
      size: Math.max(this.#lastSize, this.#position),
      position: this.#position,
      entriesRead: this.#entriesRead,
      rotations: this.#rotations,
      lastRead: this.#lastRead?.text ?? null,
      readErrors: this.#readErrors,
      truncatedLines: this.#truncatedLines,
      bytesRead: this.#bytesRead,
      rotationsBy: { ...this.#rotationsBy },
      ...(this.#recoveredBytes > 0 && { recoveredBytes: this.#recoveredBytes }),
      ...(this.#error !== undefined && { detail: this.#error }),
      ...(this.#duplicateOf !== undefined && { detail: `same file as ${this.#duplicateOf}` }),
    };
  }
}

/**
 * Where to start in a file present at startup with read_from = "end": after its last
 * newline, so a line being written right now is read whole rather than as a fragment.
 */
async function lineStartNearEnd(file: TailFile, size: number): Promise<number> {
  const from = Math.max(0, size - TAIL_SCAN_BYTES);
  const newline = (await readAt(file, from, size)).lastIndexOf(10);
  if (newline >= 0) return from + newline + 1;
  return from === 0 ? 0 : size;
}

/** The bytes from `start` to `end`, fewer if the file ends first; moves the file position. */
async function readAt(file: TailFile, start: number, end: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(end - start);
  file.seek(start);
  let filled = 0;
  while (filled < bytes.length) {
    const count = await file.read(bytes.subarray(filled));
    if (!count) break;
    filled += count;
  }
  return bytes.subarray(0, filled);
}

/** Whether `file` still has a name; when unknown, no. */
async function hasName(file: TailFile): Promise<boolean> {
  try {
    return ((await file.stat()).nlink ?? 1) > 0;
  } catch {
    return false;
  }
}

/** Whether a component of `path` is a symlink; when unknown, yes. */
async function followsLink(path: string): Promise<boolean> {
  try {
    return (await Deno.realPath(path)) !== path;
  } catch {
    return true;
  }
}
