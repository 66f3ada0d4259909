import { basename, dirname, join } from "node:path";
import { nextTurn } from "../async.ts";
import type { MonitorConfig, TargetConfig } from "../config/types.ts";
import type { LogEntry } from "../entry/entry.ts";
import { fsErrorReason, isNotFound } from "../fs_error.ts";
import { type Log, quote, stderrLog } from "../log.ts";
import { FileTailer, type WatcherStats } from "./file_tailer.ts";
import { compileGlob } from "./glob.ts";
import { IdentityRegistry } from "./identity_registry.ts";

/** How a stream's monitor runs. */
export interface MonitorOptions {
  readonly config: MonitorConfig;
  /**
   * Receives the entries of each chunk read, in file order per file. The monitor waits for
   * it before reading on: it may yield to let clients drain, but must not wait for them.
   */
  readonly onEntries: (entries: LogEntry[]) => void | Promise<void>;
  /** Stops the monitor and closes every file. */
  readonly signal: AbortSignal;
  /** Prefix of log messages, e.g. `stream "app"`. */
  readonly label?: string;
  readonly log?: Log;
}

/** What a target looks like now, for status. */
export interface TargetStats {
  readonly path: string;
  readonly type: "file" | "directory";
  /** For directories: the glob on base names. */
  readonly pattern?: string;
  /**
   * `ok`; for directories also `missing`, `not_a_directory` or `unreadable` (retried on every
   * check). File targets' files have their own state among the watchers.
   */
  readonly state: "ok" | "missing" | "not_a_directory" | "unreadable";
  readonly detail?: string;
  /** Directories: matching files followed, and compressed archives passed over. */
  readonly files?: number;
  readonly skippedArchives?: number;
}

/** Per-stream totals and per-watcher detail, for status (SPEC §7). */
export interface MonitorStats {
  /** Paths with a file open. */
  readonly activeWatchers: number;
  /** Entries emitted: one per line, plus rotation entries. */
  readonly totalEntries: number;
  readonly rotations: number;
  readonly truncatedLines: number;
  readonly readErrors: number;
  readonly watchers: readonly WatcherStats[];
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
 * Follows every file of one stream's targets (SPEC §3) and hands each line to `onEntries`
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
  readonly #fsWatchers = new Map<string, { watcher: Deno.FsWatcher; identity: string }>();
  readonly #consumers = new Set<Promise<void>>();
  /** Paths that events or unfinished reads say need a look. */
  readonly #dirty = new Set<string>();
  /** Followed paths read back to back while a copy of them is made: until when, since when. */
  readonly #copying = new Map<string, { until: number; since: number }>();
  #discoveryDue = true;
  /** When directories are listed again if no event asks for it sooner. */
  #nextDiscovery = 0;
  /** Callers of `settle()` waiting for the next full check. */
  #settlers: (() => void)[] = [];
  #nextPoll = 0;
  #wake: (() => void) | undefined;
  #totalEntries = 0;
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
    let rotations = 0, truncatedLines = 0, readErrors = 0;
    for (const watcher of watchers) {
      rotations += watcher.rotations;
      truncatedLines += watcher.truncatedLines;
      readErrors += watcher.readErrors;
    }
    return {
      activeWatchers: watchers.filter((watcher) => watcher.state === "following").length,
      totalEntries: this.#totalEntries,
      rotations,
      truncatedLines,
      readErrors,
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
        await this.#idle();
        if (signal.aborted) break;
        await this.#tick();
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      for (const settle of this.#settlers.splice(0)) settle();
      for (const { tailer } of this.#watched.values()) tailer.dispose();
      this.#registry.dispose();
      for (const { watcher } of this.#fsWatchers.values()) watcher.close();
      await Promise.all(this.#consumers);
    }
  }

  /** Waits until an event, an unfinished read or the poll calls for a check. */
  async #idle(): Promise<void> {
    if (this.#copying.size > 0) {
      // One turn of the event loop, not a timer: other work goes on, and the files being
      // copied are read again at once.
      await nextTurn();
      const now = Date.now();
      for (const [path, { until }] of this.#copying) {
        if (now > until || !this.#watched.has(path)) this.#copying.delete(path);
        else this.#dirty.add(path);
      }
      return;
    }
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
        this.#discoveryDue = false;
        for (const [path, discovered] of await this.#discover()) {
          const watched = this.#watched.get(path);
          if (watched) watched.discovered &&= discovered;
          else await this.#follow(path, discovered, now);
        }
        // With the listing: a directory replaced since needs a new watcher.
        if (this.#options.config.fsEvents) await this.#watchDirectories();
        this.#nextDiscovery = now + this.#discoveryPeriod();
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
    if (await tailer.check(this.#buffer, now, written)) this.#dirty.add(path);
    if (tailer.state === "missing") watched.missingSince ??= now;
    else delete watched.missingSince;
    watched.idleMs = nextIdleMs(watched.idleMs, {
      intervalMs: this.#options.config.checkIntervalMs,
      changed: tailer.changedAt === now,
      covered: this.#fsWatchers.has(watched.directory),
    });
    watched.nextCheck = now + watched.idleMs;
  }

  /** Whether the poll looks at `path` now: always, unless events cover it and it is idle. */
  #pollDue(watched: Watched, now: number): boolean {
    if (now >= watched.nextCheck || watched.tailer.needsPolling) return true;
    return !this.#fsWatchers.has(watched.directory);
  }

  /**
   * When the next full poll is due: after one interval, or later when every path is idle and
   * covered by events, so that a quiet host is not woken ten times a second for nothing.
   */
  #nextFullPoll(now: number): number {
    let next = this.#nextDiscovery;
    for (const watched of this.#watched.values()) {
      const covered = this.#fsWatchers.has(watched.directory) && !watched.tailer.needsPolling;
      next = Math.min(next, covered ? watched.nextCheck : now);
    }
    return Math.max(next, now + this.#options.config.checkIntervalMs);
  }

  /** How often directories are listed: every poll, unless events watch all of them. */
  #discoveryPeriod(): number {
    const interval = this.#options.config.checkIntervalMs;
    if (!this.#options.config.fsEvents) return interval;
    const watchedAll = this.#options.config.targets.every((target) =>
      this.#fsWatchers.has(target.isFile ? dirname(target.path) : target.path)
    );
    return watchedAll ? Math.max(interval, MAX_IDLE_POLL_MS) : interval;
  }

  async #follow(path: string, discovered: boolean, now: number): Promise<void> {
    const tailer = new FileTailer({
      path,
      maxLineBytes: this.#options.config.maxLineBytes,
      // Files that appear after startup are read from the start: nothing written is lost.
      startAtEnd: this.#startup && this.#options.config.readFrom === "end",
      registry: this.#registry,
      emit: (entries) => {
        this.#totalEntries += entries.length;
        return this.#options.onEntries(entries);
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
   * Every path the targets name now, mapped to whether only a directory listing found it.
   * File targets are named whether they exist or not.
   */
  async #discover(): Promise<Map<string, boolean>> {
    const paths = new Map<string, boolean>();
    for (const target of this.#options.config.targets) {
      if (target.isFile) {
        paths.set(target.path, false);
        continue;
      }
      const matches = this.#matchers.get(target)!;
      let files = 0;
      let skippedArchives = 0;
      try {
        for await (const entry of Deno.readDir(target.path)) {
          if (!(entry.isFile || entry.isSymlink) || !matches(entry.name)) continue;
          if (ARCHIVE_NAME.test(entry.name)) {
            skippedArchives++;
            continue;
          }
          const path = join(target.path, entry.name);
          if (!paths.has(path) && (entry.isFile || await isFile(path))) {
            paths.set(path, true);
            files++;
          }
        }
        this.#directoryState(target, { state: "ok", files, skippedArchives });
      } catch (error) {
        this.#directoryState(target, directoryProblem(error));
      }
    }
    return paths;
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
        this.#watched.delete(path);
      }
    }
  }

  /**
   * Keeps one `Deno.watchFs` per directory that holds a target, re-created when the
   * directory is replaced. Events only wake the loop; the checks decide what happened.
   */
  async #watchDirectories(): Promise<void> {
    const directories = new Set(
      this.#options.config.targets.map((target) =>
        target.isFile ? dirname(target.path) : target.path
      ),
    );
    for (const directory of directories) {
      let identity: string;
      try {
        const info = await Deno.stat(directory);
        identity = `${info.dev}:${info.ino}`;
      } catch {
        identity = "";
      }
      const current = this.#fsWatchers.get(directory);
      if (current?.identity === identity) continue;
      current?.watcher.close();
      this.#fsWatchers.delete(directory);
      if (identity === "") continue;
      try {
        const watcher = Deno.watchFs(directory, { recursive: false });
        this.#fsWatchers.set(directory, { watcher, identity });
        // Changes made before the watcher existed sent no event: look at its paths now.
        this.#pollAll(directory);
        const consumer = this.#consume(directory, watcher).finally(() => {
          this.#consumers.delete(consumer);
          // Ended on its own: let the next poll create a new one.
          if (this.#fsWatchers.get(directory)?.watcher === watcher) {
            this.#fsWatchers.delete(directory);
          }
        });
        this.#consumers.add(consumer);
      } catch {
        // The poll covers this directory; watching is retried on the next one.
      }
    }
  }

  async #consume(directory: string, watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        for (const path of event.paths) {
          this.#dirty.add(path);
          if (event.kind === "create" || event.kind === "modify") this.#copyOf(path);
        }
        // Anything but a write may be a new, renamed or removed file: list directories again.
        if (event.kind !== "modify" && event.kind !== "access") this.#discoveryDue = true;
        // The kernel dropped events: every path may have changed unannounced.
        if (event.flag === "rescan") this.#pollAll();
        // The directory itself went away: this watcher will stay silent even if a new one
        // takes its place (possibly with the same inode), so let the next listing make one.
        if (
          (event.kind === "remove" || event.kind === "rename") && event.paths.includes(directory)
        ) {
          watcher.close();
        }
        this.#wake?.();
      }
    } catch {
      // A watcher that fails is re-created by the next poll.
    }
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
