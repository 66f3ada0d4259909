import { basename, dirname, join } from "node:path";
import type { MonitorConfig, TargetConfig } from "../config/types.ts";
import type { LogEntry } from "../entry/entry.ts";
import { fsErrorReason, isNotFound } from "../fs_error.ts";
import { type Log, quote, stderrLog } from "../log.ts";
import {
  type EntryOrigin,
  FileTailer,
  type RotationReason,
  type WatcherStats,
} from "./file_tailer.ts";
import { type FsEvent, FsEvents } from "./fs_events.ts";
import { compileGlob } from "./glob.ts";
import { IdentityRegistry } from "./identity_registry.ts";

export type { EntryOrigin } from "./file_tailer.ts";

/** How a stream's monitor runs. */
export interface MonitorOptions {
  /** What to follow, and how often to look. */
  readonly config: MonitorConfig;
  /**
   * Receives the entries of each chunk read, in file order per file, and the origin of each
   * (file and offset). The monitor waits for it before reading on: it may yield to let
   * clients drain, but must not wait for them.
   */
  readonly onEntries: (entries: LogEntry[], origins: EntryOrigin[]) => void | Promise<void>;
  /** Stops the monitor and closes every file. */
  readonly signal: AbortSignal;
  /** Prefix of log messages, e.g. `stream "app"`. */
  readonly label?: string;
  /** Where problems are reported; stderr by default. */
  readonly log?: Log;
}

/** What a target looks like now, for status. */
export interface TargetStats {
  /** The target's path. */
  readonly path: string;
  /** One file, or the matching files of a directory. */
  readonly type: "file" | "directory";
  /** For directories: the glob on base names. */
  readonly pattern?: string;
  /**
   * `ok`; for directories also `missing`, `not_a_directory` or `unreadable` (retried on every
   * check). File targets' files have their own state among the watchers.
   */
  readonly state: "ok" | "missing" | "not_a_directory" | "unreadable";
  /** What is wrong, when the state is not `ok`. */
  readonly detail?: string;
  /** Directories: matching files followed, and compressed archives passed over. */
  readonly files?: number;
  /** Compressed archives passed over. */
  readonly skippedArchives?: number;
  /** Files passed over because their name is not valid UTF-8, which Deno cannot open. */
  readonly skippedNames?: number;
}

/** Per-stream totals and per-watcher detail, for status (README "Clients"). */
export interface MonitorStats {
  /** Paths with a file open. */
  readonly activeWatchers: number;
  /** Entries emitted: one per line, plus rotation entries. */
  readonly totalEntries: number;
  /** Rotations and truncations detected. */
  readonly rotations: number;
  /** Lines cut at `max_line_bytes`. */
  readonly truncatedLines: number;
  /** Distinct read problems met. */
  readonly readErrors: number;
  /** Bytes read from every file the stream has followed. */
  readonly bytesRead: number;
  /** Rotations by the rule that detected them. */
  readonly rotationsBy: Readonly<Partial<Record<RotationReason, number>>>;
  /** One record per followed path. */
  readonly watchers: readonly WatcherStats[];
  /** One record per configured target. */
  readonly targets: readonly TargetStats[];
}

/**
 * Rotated logs compressed by logrotate and the like: binary, so never streamed as text,
 * even when a directory target's pattern matches them.
 */
export const ARCHIVE_NAME: RegExp =
  /\.(?:gz|tgz|bz2|tbz2?|xz|txz|zst|zstd|lz4|lzma|lz|z|zip|7z|rar|br)$/i;

/** Scratch buffer per monitor: checks never overlap, so one is enough. */
const READ_BUFFER_BYTES = 1024 * 1024;
/** A directory-discovered path that stays empty this long is forgotten. */
const FORGET_MISSING_MS = 60_000;
/**
 * The longest an idle file goes unpolled, and directories unlisted, while file-system events
 * watch their directory (like Filebeat's max_backoff): events announce changes at once, the
 * poll only catches what they miss. Without events every file is polled every interval.
 */
const MAX_IDLE_POLL_MS = 5000;
/**
 * How long a file is read back to back after a copy of it appears (`app.log.1`, `app.log-…`):
 * copytruncate copies, syncs the copy and truncates, and lines written meanwhile are lost to
 * any reader that has not read them by the truncation. Events alone arrive too late for
 * that race; a read per event-loop turn does not, for this long.
 */
const COPY_WATCH_MS = 250;
/** Longest a run of copy events keeps a file read back to back. */
const COPY_WATCH_MAX_MS = 2000;

/**
 * A directory that held a FIFO, socket or device is polled, not watched, until this long
 * after the last time one was seen there (see `FsEvents`).
 */
const SPECIAL_FILE_HOLD_MS = 60_000;
/**
 * Event workers given up on while a directory held a special file; each may leave a thread
 * blocked for good. After this many the monitor only polls, so that they cannot pile up.
 */
const MAX_ABANDONED_WORKERS = 3;

/** How much longer an idle file waits after each check that found nothing: 0.1, 0.4, 1.6, 5 s. */
const IDLE_BACKOFF_FACTOR = 4;

/**
 * How long a path waits for its next poll after a check: 0 (every poll) when the check found a
 * change or no file-system events cover the path, else the previous wait times four, from one
 * interval up to {@linkcode MAX_IDLE_POLL_MS}. Events would announce a change before then.
 */
export function nextIdleMs(
  previousMs: number,
  check: { readonly intervalMs: number; readonly changed: boolean; readonly covered: boolean },
): number {
  if (check.changed || !check.covered) return 0;
  return Math.min(Math.max(previousMs * IDLE_BACKOFF_FACTOR, check.intervalMs), MAX_IDLE_POLL_MS);
}

interface Watched {
  readonly tailer: FileTailer;
  /** The directory whose events cover the path. */
  readonly directory: string;
  /** Found only by listing a directory target, not named by a file target. */
  discovered: boolean;
  missingSince?: number;
  /** The current poll period of an idle file, four times longer after each check that found nothing. */
  idleMs: number;
  /** When the poll looks at it next. */
  nextCheck: number;
}

/**
 * Follows every file of one stream's targets (README "Following files") and hands each line to `onEntries`
 * as an entry. Checks run one at a time, woken by file-system events and by the poll.
 */
export class Monitor {
  readonly #options: MonitorOptions;
  readonly #log: Log;
  readonly #label: string;
  readonly #registry = new IdentityRegistry();
  readonly #watched = new Map<string, Watched>();
  readonly #matchers = new Map<TargetConfig, (name: string) => boolean>();
  readonly #buffer = new Uint8Array(READ_BUFFER_BYTES);
  /** What each directory target looked like at the last listing. */
  readonly #directories = new Map<TargetConfig, TargetStats>();
  /** File-system events, off when `fs_events = false` or after too many stuck watchers. */
  #fsEvents: FsEvents | undefined;
  /** Directories whose events are being reported now. */
  readonly #covered = new Set<string>();
  /** The identity (device:inode) of each watched directory when its watch began. */
  #watchedIdentities = new Map<string, string>();
  /** When a directory was last seen holding a FIFO, socket or device. */
  readonly #specialSeen = new Map<string, number>();
  /** Directory targets whose names that are not UTF-8 were reported. */
  readonly #undecodableReported = new Set<TargetConfig>();
  /** A watch ended: set up the watches again at the next listing. */
  #rewatch = false;
  #abandonedWorkers = 0;
  /** Paths that events or unfinished reads say need a look. */
  readonly #dirty = new Set<string>();
  /** Followed paths read back to back while a copy of them is made: until when, since when. */
  readonly #copying = new Map<string, { until: number; since: number }>();
  #discoveryDue = true;
  /** When directories are listed again if no event asks for it sooner. */
  #nextDiscovery = 0;
  /** When each target is listed next: a target events do not cover must not make all polled. */
  readonly #nextListing = new Map<TargetConfig, number>();
  /** Callers of `settle()` waiting for the next full check. */
  #settlers: (() => void)[] = [];
  #nextPoll = 0;
  #wake: (() => void) | undefined;
  #totalEntries = 0;
  /** What forgotten watchers had counted: the stream's totals never go down. */
  readonly #retired: Counts = emptyCounts();
  #startup = true;
  #finished: Promise<void> = Promise.resolve();

  /** A monitor that has not looked at anything yet: {@linkcode start} begins following. */
  constructor(options: MonitorOptions) {
    this.#options = options;
    this.#log = options.log ?? stderrLog;
    this.#label = options.label ?? "monitor";
    for (const target of options.config.targets) {
      if (!target.isFile) this.#matchers.set(target, compileGlob(target.pattern));
    }
    if (options.config.fsEvents) {
      this.#fsEvents = new FsEvents({
        onEvent: (event) => this.#onEvent(event),
        onLost: (directory) => this.#eventsLost(directory),
        onReady: () => this.#eventsReady(),
      });
    }
  }

  /**
   * Starts following. Resolves after the first full check, so every file present now is
   * positioned (at its end or start per `read_from`) and later writes are all seen.
   */
  static async start(options: MonitorOptions): Promise<Monitor> {
    const monitor = new Monitor(options);
    await monitor.start();
    return monitor;
  }

  /** Runs the first full check, then keeps following in the background until the signal aborts. */
  async start(): Promise<void> {
    await this.#tick();
    this.#startup = false;
    this.#finished = this.#run();
  }

  /** Whether the first full check is done: every file present at startup is positioned. */
  get started(): boolean {
    return !this.#startup;
  }

  /** Resolves once the monitor has stopped and closed every file and watcher. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /**
   * Runs a full check now (every path, every directory listing) and resolves when a check
   * that started after this call has finished: what is in the files by then is emitted.
   */
  settle(): Promise<void> {
    if (this.#options.signal.aborted) return Promise.resolve();
    const settled = new Promise<void>((resolve) => this.#settlers.push(resolve));
    this.#discoveryDue = true;
    this.#wake?.();
    return settled;
  }

  /** A snapshot for status. */
  stats(): MonitorStats {
    const watchers = [...this.#watched.values()].map(({ tailer }) => tailer.stats());
    const counts = emptyCounts();
    addCounts(counts, this.#retired);
    for (const watcher of watchers) addCounts(counts, watcher);
    return {
      activeWatchers: watchers.filter((watcher) => watcher.state === "following").length,
      totalEntries: this.#totalEntries,
      ...counts,
      watchers,
      targets: this.#options.config.targets.map((target) =>
        target.isFile
          ? { path: target.path, type: "file", state: "ok" }
          : this.#directories.get(target) ??
            { path: target.path, type: "directory", pattern: target.pattern, state: "ok" }
      ),
    };
  }

  async #run(): Promise<void> {
    const { signal } = this.#options;
    const onAbort = () => this.#wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        if (this.#copying.size > 0) {
          await this.#readCopied();
          continue;
        }
        await this.#idle();
        // A copy began while idle: the file comes before any listing the events asked for.
        if (signal.aborted || this.#copying.size > 0) continue;
        await this.#tick();
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      for (const settle of this.#settlers.splice(0)) settle();
      for (const { tailer } of this.#watched.values()) tailer.dispose();
      this.#registry.dispose();
      this.#fsEvents?.close();
    }
  }

  /**
   * While copies are being made, reads the files copied and nothing else, back to back:
   * one read through the open file per await, so that what is written before the
   * truncation is read before it. Listings and events wait: a look at the directory can
   * wait behind the rotator's own work there, and each millisecond may be a lost line.
   */
  async #readCopied(): Promise<void> {
    const now = Date.now();
    for (const [path, { until }] of this.#copying) {
      if (now > until || !this.#watched.has(path) || this.#options.signal.aborted) {
        this.#copying.delete(path);
        // What the window passed over (a rename, say) is looked at by the next check.
        this.#dirty.add(path);
        continue;
      }
      await this.#check(path, now, true);
    }
  }

  /** Waits until an event, an unfinished read or the poll calls for a check. */
  async #idle(): Promise<void> {
    const delay = this.#nextPoll - Date.now();
    if (this.#dirty.size > 0 || this.#discoveryDue || this.#settlers.length > 0 || delay <= 0) {
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      timer = setTimeout(resolve, delay);
    });
    clearTimeout(timer);
    this.#wake = undefined;
  }

  /**
   * One check. On the poll (or when an event may mean a new file) every path that is due is
   * checked, and directories are listed when due; otherwise only the paths events named.
   */
  async #tick(): Promise<void> {
    const now = Date.now();
    const full = now >= this.#nextPoll || this.#discoveryDue || this.#settlers.length > 0;
    if (full) {
      const settlers = this.#settlers.splice(0);
      // settle() promises a look at everything, idle or not.
      const all = settlers.length > 0 || this.#startup;
      const dirty = new Set(this.#dirty);
      this.#dirty.clear();
      // Existing paths first: a rotated file is released before its new name is found.
      for (const [path, watched] of [...this.#watched]) {
        if (all || dirty.has(path) || this.#pollDue(watched, now)) {
          await this.#check(path, now, dirty.has(path));
        }
      }
      if (all || this.#discoveryDue || now >= this.#nextDiscovery) {
        const every = all || this.#discoveryDue;
        this.#discoveryDue = false;
        const { paths, listed } = await this.#discover(now, every);
        for (const [path, discovered] of paths) {
          const watched = this.#watched.get(path);
          if (watched) watched.discovered &&= discovered;
          else await this.#follow(path, discovered, now);
        }
        // With the listing: a directory replaced since needs a new watcher.
        if (this.#fsEvents) await this.#watchDirectories(now, listed);
        this.#nextDiscovery = Math.min(...this.#nextListing.values());
      }
      for (const [path, { tailer }] of this.#watched) {
        if (tailer.state === "duplicate") await this.#check(path, now);
      }
      this.#forgetMissing(now);
      await this.#registry.prune(now);
      this.#nextPoll = this.#nextFullPoll(now);
      for (const settle of settlers) settle();
    } else {
      const paths = [...this.#dirty];
      this.#dirty.clear();
      for (const path of paths) if (this.#watched.has(path)) await this.#check(path, now, true);
    }
  }

  /** Checks `path`; `written` when an event announced a write to it. */
  async #check(path: string, now: number, written = false): Promise<void> {
    const watched = this.#watched.get(path);
    if (!watched) return;
    const { tailer } = watched;
    const hint = this.#copying.has(path) ? "copying" : written ? "written" : undefined;
    if (await tailer.check(this.#buffer, now, hint)) this.#dirty.add(path);
    if (tailer.state === "missing") watched.missingSince ??= now;
    else delete watched.missingSince;
    watched.idleMs = nextIdleMs(watched.idleMs, {
      intervalMs: this.#options.config.checkIntervalMs,
      changed: tailer.changedAt === now,
      covered: this.#covered.has(watched.directory),
    });
    watched.nextCheck = now + watched.idleMs;
  }

  /** Whether the poll looks at `path` now: always, unless events cover it and it is idle. */
  #pollDue(watched: Watched, now: number): boolean {
    if (now >= watched.nextCheck || watched.tailer.needsPolling) return true;
    return !this.#covered.has(watched.directory);
  }

  /**
   * When the next full poll is due: after one interval, or later when every path is idle and
   * covered by events, so that a quiet host is not woken ten times a second for nothing.
   */
  #nextFullPoll(now: number): number {
    let next = this.#nextDiscovery;
    for (const watched of this.#watched.values()) {
      const covered = this.#covered.has(watched.directory) && !watched.tailer.needsPolling;
      next = Math.min(next, covered ? watched.nextCheck : now);
    }
    return Math.max(next, now + this.#options.config.checkIntervalMs);
  }

  /** How often a target is listed: every poll, unless events watch its directory. */
  #listingPeriod(target: TargetConfig): number {
    const interval = this.#options.config.checkIntervalMs;
    if (!this.#options.config.fsEvents) return interval;
    const covered = this.#covered.has(target.isFile ? dirname(target.path) : target.path);
    return covered ? Math.max(interval, MAX_IDLE_POLL_MS) : interval;
  }

  async #follow(path: string, discovered: boolean, now: number): Promise<void> {
    const tailer = new FileTailer({
      path,
      maxLineBytes: this.#options.config.maxLineBytes,
      // Files that appear after startup are read from the start: nothing written is lost.
      startAtEnd: this.#startup && this.#options.config.readFrom === "end",
      registry: this.#registry,
      emit: (entries, origins) => {
        this.#totalEntries += entries.length;
        return this.#options.onEntries(entries, origins);
      },
      log: this.#log,
      label: this.#label,
    });
    this.#watched.set(path, {
      tailer,
      directory: dirname(path),
      discovered,
      idleMs: 0,
      nextCheck: 0,
    });
    await this.#check(path, now);
  }

  /**
   * Every path the targets due for a listing (`every`: all targets) name now, mapped to
   * whether only a directory listing found it, and the directories of those targets. File
   * targets are named whether they exist or not.
   */
  async #discover(
    now: number,
    every: boolean,
  ): Promise<{ paths: Map<string, boolean>; listed: Set<string> }> {
    const paths = new Map<string, boolean>();
    const listed = new Set<string>();
    for (const target of this.#options.config.targets) {
      if (!every && now < (this.#nextListing.get(target) ?? 0)) continue;
      this.#nextListing.set(target, now + this.#listingPeriod(target));
      listed.add(target.isFile ? dirname(target.path) : target.path);
      if (target.isFile) {
        paths.set(target.path, false);
        continue;
      }
      const matches = this.#matchers.get(target)!;
      let files = 0;
      let skippedArchives = 0;
      let skippedNames = 0;
      try {
        for await (const entry of Deno.readDir(target.path)) {
          if (!(entry.isFile || entry.isSymlink) || !matches(entry.name)) continue;
          if (ARCHIVE_NAME.test(entry.name)) {
            skippedArchives++;
            continue;
          }
          const path = join(target.path, entry.name);
          // Deno decodes names lossily: such a path names no file, and never will.
          if (entry.name.includes("\uFFFD") && !(await exists(path))) {
            skippedNames++;
            continue;
          }
          if (!paths.has(path) && (entry.isFile || await isFile(path))) {
            paths.set(path, true);
            files++;
          }
        }
        this.#directoryState(target, { state: "ok", files, skippedArchives, skippedNames });
        if (skippedNames > 0 && !this.#undecodableReported.has(target)) {
          this.#undecodableReported.add(target);
          this.#log(
            "warn",
            `${this.#label}: directory ${quote(target.path)} holds ${skippedNames} file name(s) ` +
              "that are not valid UTF-8: they cannot be opened; rename them to follow them",
          );
        }
      } catch (error) {
        this.#directoryState(target, directoryProblem(error));
      }
    }
    return { paths, listed };
  }

  /** Records a directory target's state; a new problem is logged once, and its end. */
  #directoryState(
    target: TargetConfig,
    seen: Omit<TargetStats, "path" | "type" | "pattern">,
  ): void {
    const previous = this.#directories.get(target);
    this.#directories.set(target, {
      path: target.path,
      type: "directory",
      pattern: target.pattern,
      ...seen,
    });
    const path = quote(target.path);
    if (seen.state === "ok") {
      if (previous !== undefined && previous.state !== "ok") {
        this.#log("info", `${this.#label}: directory ${path} is readable now`);
      }
      return;
    }
    if (previous?.detail === seen.detail) return;
    const every = this.#options.config.checkIntervalMs;
    this.#log(
      "warn",
      `${this.#label}: directory ${path} ${seen.detail}; checking every ${every} ms`,
    );
  }

  /** Forgets directory-discovered paths that stayed empty: rotated-away names pile up otherwise. */
  #forgetMissing(now: number): void {
    for (const [path, watched] of this.#watched) {
      if (
        watched.discovered && watched.missingSince !== undefined &&
        now - watched.missingSince >= FORGET_MISSING_MS
      ) {
        addCounts(this.#retired, watched.tailer.stats());
        this.#watched.delete(path);
      }
    }
  }

  /**
   * Keeps file-system events on every directory that holds a target and exists, except
   * directories that hold (or held lately) a FIFO, socket or device: Deno's watcher opens
   * the path of each event, and a FIFO's open blocks it for good. The watches are set up
   * again when the set changes or a directory is replaced. Events only wake the loop; the
   * checks decide what happened. Only the directories `listed` this round are looked
   * through for such files again: a large quiet directory is not read every poll.
   */
  async #watchDirectories(now: number, listed: ReadonlySet<string>): Promise<void> {
    const directories = [
      ...new Set(
        this.#options.config.targets.map((target) =>
          target.isFile ? dirname(target.path) : target.path
        ),
      ),
    ];
    const identities = new Map<string, string>();
    for (const directory of directories) {
      if (listed.has(directory) && await holdsSpecialFile(directory)) {
        this.#specialSeen.set(directory, now);
      }
      const seen = this.#specialSeen.get(directory);
      if (seen !== undefined && now - seen < SPECIAL_FILE_HOLD_MS) continue;
      try {
        const info = await Deno.stat(directory);
        if (info.isDirectory) identities.set(directory, `${info.dev}:${info.ino}`);
      } catch {
        // Not there (yet): the poll looks for it.
      }
    }
    const same = !this.#rewatch && identities.size === this.#watchedIdentities.size &&
      [...identities].every(([directory, id]) => this.#watchedIdentities.get(directory) === id);
    if (same) return;
    const previous = this.#fsEvents?.directories ?? [];
    if (previous.some((directory) => this.#specialSeen.has(directory))) {
      this.#abandonedWorkers++;
      if (this.#abandonedWorkers >= MAX_ABANDONED_WORKERS) {
        this.#log(
          "warn",
          `${this.#label}: file-system events are off: FIFOs, sockets or devices keep appearing ` +
            `in watched directories, and Deno's watcher blocks on them; polling every ` +
            `${this.#options.config.checkIntervalMs} ms instead`,
        );
        this.#fsEvents?.close();
        this.#fsEvents = undefined;
      }
    }
    this.#rewatch = false;
    this.#watchedIdentities = identities;
    this.#covered.clear();
    this.#fsEvents?.watch([...identities.keys()]);
  }

  /** The event worker watches its directories: changes made before it did are looked at now. */
  #eventsReady(): void {
    for (const directory of this.#fsEvents?.directories ?? []) this.#covered.add(directory);
    this.#pollAll();
    this.#wake?.();
  }

  /** A directory's watch ended (the directory went away): the poll covers it until the next listing. */
  #eventsLost(directory: string): void {
    this.#covered.delete(directory);
    this.#rewatch = true;
    this.#pollAll(directory);
    this.#wake?.();
  }

  #onEvent(event: FsEvent): void {
    for (const path of event.paths) {
      this.#dirty.add(path);
      // logrotate shifts the old copies (remove, rename) before it makes the new one.
      if (event.kind !== "access") this.#copyOf(path);
    }
    if (event.kind !== "modify" && event.kind !== "access") {
      // Anything but a write may be a new, renamed or removed file: list directories again.
      this.#discoveryDue = true;
      // A followed file renamed, removed or replaced is a rotation by rename, not a copy:
      // its path must be looked at now, not read through the old file.
      for (const path of event.paths) this.#copying.delete(path);
    }
    // The kernel dropped events: every path may have changed unannounced.
    if (event.flag === "rescan") this.#pollAll();
    // A watched directory itself went away: its watch stays silent even if a new one takes
    // its place (possibly with the same inode), so set up the watches again.
    if (
      (event.kind === "remove" || event.kind === "rename") &&
      event.paths.some((path) => this.#covered.has(path))
    ) {
      for (const path of event.paths) this.#covered.delete(path);
      this.#rewatch = true;
    }
    this.#wake?.();
  }

  /** When `path` is named like a copy of a followed file, reads that file back to back for a while. */
  #copyOf(path: string): void {
    const directory = dirname(path);
    const name = basename(path);
    for (const [followed, watched] of this.#watched) {
      if (watched.directory !== directory) continue;
      const base = basename(followed);
      if (name === base || !(name.startsWith(`${base}.`) || name.startsWith(`${base}-`))) continue;
      const now = Date.now();
      const since = this.#copying.get(followed)?.since ?? now;
      if (now - since > COPY_WATCH_MAX_MS) continue;
      this.#copying.set(followed, { until: now + COPY_WATCH_MS, since });
    }
  }

  /** Ends the back-off of every path (in `directory`, when given): the next poll checks them. */
  #pollAll(directory?: string): void {
    for (const watched of this.#watched.values()) {
      if (directory !== undefined && watched.directory !== directory) continue;
      watched.idleMs = 0;
      watched.nextCheck = 0;
    }
    this.#discoveryDue = true;
  }
}

/**
 * Whether `directory` holds a FIFO, socket or device, or a symlink to one. A listing that
 * fails says no: the directory is gone or unreadable, and then not watched anyway.
 */
async function holdsSpecialFile(directory: string): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(directory)) {
      if (entry.isFile || entry.isDirectory) continue;
      if (!entry.isSymlink) return true;
      const target = await Deno.stat(join(directory, entry.name)).catch(() => undefined);
      if (target && !target.isFile && !target.isDirectory) return true;
    }
  } catch {
    return false;
  }
  return false;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** What a directory target's listing failure means for status. */
function directoryProblem(error: unknown): Omit<TargetStats, "path" | "type" | "pattern"> {
  if (error instanceof Deno.errors.NotADirectory) {
    return { state: "not_a_directory", detail: "is not a directory" };
  }
  if (isNotFound(error)) return { state: "missing", detail: "does not exist (yet)" };
  return { state: "unreadable", detail: `cannot be read: ${fsErrorReason(error)}` };
}

/** The counters of a stream that are sums over its watchers. */
interface Counts {
  rotations: number;
  truncatedLines: number;
  readErrors: number;
  bytesRead: number;
  rotationsBy: Partial<Record<RotationReason, number>>;
}

function emptyCounts(): Counts {
  return { rotations: 0, truncatedLines: 0, readErrors: 0, bytesRead: 0, rotationsBy: {} };
}

function addCounts(sum: Counts, counts: Readonly<Counts> | WatcherStats): void {
  sum.rotations += counts.rotations;
  sum.truncatedLines += counts.truncatedLines;
  sum.readErrors += counts.readErrors;
  sum.bytesRead += counts.bytesRead;
  for (const [reason, count] of Object.entries(counts.rotationsBy)) {
    const key = reason as RotationReason;
    sum.rotationsBy[key] = (sum.rotationsBy[key] ?? 0) + (count ?? 0);
  }
}
