import assert from "node:assert/strict";
import { join } from "node:path";
import { append, tempDir, waitFor } from "../_test_utils.ts";
import type { MonitorConfig, TargetConfig } from "../config/types.ts";
import type { LogEntry } from "../entry/entry.ts";
import type { LogLevel } from "../log.ts";
import { Monitor, type MonitorOptions, nextIdleMs } from "./monitor.ts";

/** A running monitor with what it emitted and logged; stops when disposed. */
async function startMonitor(
  targets: TargetConfig[],
  config: Partial<MonitorConfig> = {},
  options: Partial<MonitorOptions> = {},
) {
  const entries: LogEntry[] = [];
  const logs: [LogLevel, string][] = [];
  const controller = new AbortController();
  const monitor = await Monitor.start({
    config: {
      checkIntervalMs: 20,
      targets,
      readFrom: "end",
      maxLineBytes: 1_048_576,
      fsEvents: true,
      ...config,
    },
    onEntries: (batch) => void entries.push(...batch),
    signal: controller.signal,
    label: 'stream "test"',
    log: (level, message) => logs.push([level, message]),
    ...options,
  });
  return {
    monitor,
    entries,
    logs,
    messages: () => entries.map((entry) => entry.message),
    /** Waits until `message` has been emitted. */
    seen: (message: string) =>
      waitFor(() => entries.some((entry) => entry.message === message), {
        message: () => `"${message}" in ${JSON.stringify(entries.map((entry) => entry.message))}`,
      }),
    async [Symbol.asyncDispose]() {
      controller.abort();
      await monitor.finished;
    },
  };
}

const dirTarget = (path: string, pattern = "*.log"): TargetConfig => ({
  path,
  pattern,
  isFile: false,
});
const fileTarget = (path: string): TargetConfig => ({ path, pattern: "*", isFile: true });

Deno.test("Monitor follows matching files of a directory, not others, not recursively", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(join(dir.path, "sub"));
  await using m = await startMonitor([dirTarget(dir.path)]);
  await append(join(dir.path, "app.log"), "app line\n");
  await append(join(dir.path, "app.txt"), "txt line\n");
  await append(join(dir.path, "sub", "deep.log"), "deep line\n");
  await append(join(dir.path, "other.log"), "other line\n");
  await m.seen("app line");
  await m.seen("other line");
  await m.monitor.settle();
  assert.deepEqual(m.messages().sort(), ["app line", "other line"]);
  assert.deepEqual(m.monitor.stats().watchers.map((watcher) => watcher.path).sort(), [
    join(dir.path, "app.log"),
    join(dir.path, "other.log"),
  ]);
});

Deno.test("Monitor reads files present at startup from the end, new files from the start", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "old.log"), "before startup\n");
  await using m = await startMonitor([dirTarget(dir.path)]);
  // A file created with its content already in it: nothing of it may be lost.
  await Deno.writeTextFile(join(dir.path, "new.tmp"), "first\nsecond\n");
  await Deno.rename(join(dir.path, "new.tmp"), join(dir.path, "new.log"));
  await append(join(dir.path, "old.log"), "after startup\n");
  await m.seen("second");
  await m.seen("after startup");
  assert.ok(!m.messages().includes("before startup"));
  assert.deepEqual(m.messages().filter((message) => message !== "after startup"), [
    "first",
    "second",
  ]);
});

Deno.test("Monitor with read_from = beginning reads files present at startup whole", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "old.log"), "one\ntwo\n");
  await using m = await startMonitor([dirTarget(dir.path)], { readFrom: "beginning" });
  await m.seen("two");
  assert.deepEqual(m.messages(), ["one", "two"]);
});

Deno.test("Monitor picks up a missing directory once it appears, reporting it once", async () => {
  await using dir = await tempDir();
  const logs = join(dir.path, "later");
  await using m = await startMonitor([dirTarget(logs)]);
  await m.monitor.settle();
  await m.monitor.settle();
  assert.deepEqual(m.logs, [[
    "warn",
    `stream "test": directory "${logs}" does not exist (yet); checking every 20 ms`,
  ]]);
  await Deno.mkdir(logs);
  await append(join(logs, "app.log"), "hello\n");
  await m.seen("hello");
  assert.deepEqual(m.logs.at(-1), ["info", `stream "test": directory "${logs}" is readable now`]);
});

Deno.test("Monitor follows a file target that does not exist yet, from its start", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "later.log");
  await using m = await startMonitor([fileTarget(path)]);
  assert.equal(m.monitor.stats().watchers[0]?.state, "missing");
  await Deno.writeTextFile(path, "created with content\n");
  await m.seen("created with content");
  assert.deepEqual(m.messages(), ["created with content"]);
});

Deno.test("Monitor reads a file reachable through two targets once", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "");
  await Deno.symlink(path, join(dir.path, "alias.log"));
  await using m = await startMonitor([dirTarget(dir.path), fileTarget(path)]);
  for (let i = 1; i <= 20; i++) await append(path, `line ${i}\n`);
  await m.seen("line 20");
  await m.monitor.settle();
  assert.deepEqual(m.messages(), Array.from({ length: 20 }, (_, i) => `line ${i + 1}`));
  const states = Object.fromEntries(
    m.monitor.stats().watchers.map((watcher) => [watcher.path, [watcher.state, watcher.detail]]),
  );
  assert.deepEqual(states, {
    [path]: ["following", undefined],
    [join(dir.path, "alias.log")]: ["duplicate", `same file as ${path}`],
  });
});

Deno.test("Monitor does not read a rotated file again when its new name matches the pattern", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "");
  // The default pattern "*" matches app.log.1 as well.
  await using m = await startMonitor([dirTarget(dir.path, "*")]);
  await append(path, "before rotation\n");
  await m.seen("before rotation");
  await Deno.rename(path, `${path}.1`);
  await append(`${path}.1`, "late write to the old file\n");
  await Deno.writeTextFile(path, "after rotation\n");
  await m.seen("after rotation");
  await m.seen("late write to the old file");
  await m.monitor.settle();
  await m.monitor.settle();
  const lines = m.messages().filter((message) => !message.startsWith("Log rotation"));
  assert.deepEqual(lines.sort(), [
    "after rotation",
    "before rotation",
    "late write to the old file",
  ]);
});

/** Writes numbered lines, rotating by rename every `every` lines; returns the lines written. */
async function writeAndRotate(
  path: string,
  total: number,
  every: number,
  m: { seen(message: string): Promise<void> },
) {
  const lines: string[] = [];
  for (let i = 1; i <= total; i++) {
    const line = `line ${i}`;
    lines.push(line);
    await append(path, `${line}\n`);
    if (i % every === 0 && i < total) {
      await m.seen(line);
      await Deno.rename(path, `${path}.1`);
      await Deno.writeTextFile(path, "");
    }
  }
  await m.seen(`line ${total}`);
  return lines;
}

Deno.test("Monitor without file-system events: the stat poll alone follows writes and rotation", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "");
  await using m = await startMonitor([fileTarget(path)], { checkIntervalMs: 10, fsEvents: false });
  const lines = await writeAndRotate(path, 30, 10, m);
  assert.deepEqual(m.messages().filter((message) => !message.startsWith("Log rotation")), lines);
  assert.equal(m.monitor.stats().rotations, 2);
});

Deno.test("Monitor with the poll slowed to an hour: events alone follow writes, rotation and new files", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "");
  await using m = await startMonitor([dirTarget(dir.path)], { checkIntervalMs: 3_600_000 });
  const lines = await writeAndRotate(path, 30, 10, m);
  await append(join(dir.path, "new.log"), "new file\n");
  await m.seen("new file");
  assert.deepEqual(
    m.messages().filter((message) => !message.startsWith("Log rotation") && message !== "new file"),
    lines,
  );
  assert.equal(m.monitor.stats().rotations, 2);
});

Deno.test("Monitor stats count entries, rotations and cut lines per watcher and in total", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "");
  await using m = await startMonitor([fileTarget(path)], { maxLineBytes: 10 });
  await append(path, "short\nthis line is too long\n");
  await m.seen("short");
  await Deno.writeTextFile(path, "x\n");
  await m.seen("x");
  const stats = m.monitor.stats();
  assert.equal(stats.activeWatchers, 1);
  assert.equal(stats.totalEntries, 4);
  assert.equal(stats.rotations, 1);
  assert.equal(stats.truncatedLines, 1);
  assert.equal(stats.readErrors, 0);
  assert.equal(stats.watchers[0]?.entriesRead, 3);
});

Deno.test("nextIdleMs() backs an idle, event-covered file off to 5 s; a change or no events ends it", () => {
  const idle = { intervalMs: 100, changed: false, covered: true };
  const waits = [0];
  for (let i = 0; i < 6; i++) waits.push(nextIdleMs(waits.at(-1)!, idle));
  assert.deepEqual(waits, [0, 100, 400, 1600, 5000, 5000, 5000]);
  assert.equal(nextIdleMs(1600, { ...idle, changed: true }), 0);
  assert.equal(nextIdleMs(1600, { ...idle, covered: false }), 0);
  // The wait starts at one interval and stops at 5 s (the poll itself still runs no more
  // often than every interval).
  assert.equal(nextIdleMs(0, { ...idle, intervalMs: 2000 }), 2000);
  assert.equal(nextIdleMs(2000, { ...idle, intervalMs: 2000 }), 5000);
});

Deno.test("Monitor lists a missing directory every interval, an event-covered one only when idle long", async () => {
  await using dir = await tempDir();
  const covered = join(dir.path, "covered");
  const missing = join(dir.path, "missing");
  await Deno.mkdir(covered);
  await Deno.writeTextFile(join(covered, "a.log"), "");
  const listings = new Map<string, number>();
  const readDir = Deno.readDir;
  // Counting listings is the only way to see what a target costs while nothing happens.
  Deno.readDir = (path) => {
    listings.set(String(path), (listings.get(String(path)) ?? 0) + 1);
    return readDir(path);
  };
  try {
    await using _m = await startMonitor([dirTarget(covered), dirTarget(missing)]);
    const count = (path: string) => listings.get(path) ?? 0;
    // Once events watch the covered directory (when is up to the watcher), some stretch of
    // 20 listings of the missing one passes without listing the covered one, barring one.
    let window = { covered: count(covered), missing: count(missing) };
    await waitFor(() => {
      if (count(missing) < window.missing + 20) return false;
      if (count(covered) <= window.covered + 1) return true;
      window = { covered: count(covered), missing: count(missing) };
      return false;
    }, { timeoutMs: 20_000, message: () => JSON.stringify([...listings]) });
  } finally {
    Deno.readDir = readDir;
  }
});

Deno.test("Monitor passes over file names that are not UTF-8, says so once and counts them", async () => {
  await using dir = await tempDir();
  // Deno cannot name such a file: python3 makes it.
  const made = await new Deno.Command("python3", {
    args: [
      "-c",
      "import sys; open(sys.argv[1].encode() + b'/bad\\xff.log', 'w').write('x\\n')",
      dir.path,
    ],
  }).output();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
  await Deno.writeTextFile(join(dir.path, "good.log"), "");
  await using m = await startMonitor([dirTarget(dir.path)]);
  await append(join(dir.path, "good.log"), "fine\n");
  await m.seen("fine");
  await m.monitor.settle();
  const [target] = m.monitor.stats().targets;
  assert.equal(target?.skippedNames, 1);
  assert.equal(target?.files, 1);
  const warnings = m.logs.filter(([, message]) => /not valid UTF-8/.test(message));
  assert.equal(warnings.length, 1, JSON.stringify(m.logs));
  assert.match(warnings[0]![1], /holds 1 file name\(s\) that are not valid UTF-8/);
});
