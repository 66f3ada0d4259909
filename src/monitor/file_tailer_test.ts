import assert from "node:assert/strict";
import { join } from "node:path";
import { append, tempDir, within } from "../_test_utils.ts";
import type { LogEntry } from "../entry/entry.ts";
import type { LogLevel } from "../log.ts";
import { type EntryOrigin, FileTailer, type TailerOptions } from "./file_tailer.ts";
import { IdentityRegistry } from "./identity_registry.ts";
import { TailFile } from "./tail_file.ts";

/** A tailer driven by explicit checks, with what it emitted and logged. */
function tailer(path: string, options: Partial<TailerOptions> = {}) {
  const entries: LogEntry[] = [];
  const logs: [LogLevel, string][] = [];
  const buffer = new Uint8Array(64 * 1024);
  const registry = options.registry ?? new IdentityRegistry();
  const instance = new FileTailer({
    path,
    maxLineBytes: 1024,
    startAtEnd: false,
    registry,
    emit: (batch) => void entries.push(...batch),
    log: (level, message) => logs.push([level, message]),
    label: "test",
    ...options,
  });
  return {
    tailer: instance,
    entries,
    logs,
    /** Checks once and returns the messages emitted by that check. */
    async check(): Promise<string[]> {
      const before = entries.length;
      await instance.check(buffer, Date.now());
      return entries.slice(before).map((entry) => entry.message);
    },
    [Symbol.dispose]() {
      instance.dispose();
      registry.dispose();
    },
  };
}

Deno.test("FileTailer reads lines as they are written and holds a partial line", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "one\ntw");
  using t = tailer(path);
  assert.deepEqual(await t.check(), ["one"]);
  await append(path, "o\n\r\nthree\r\n");
  assert.deepEqual(await t.check(), ["two", "three"]);
  assert.deepEqual(await t.check(), []);
  const [entry] = t.entries;
  assert.equal(entry?.source, "app.log");
  const stats = t.tailer.stats();
  assert.equal(stats.state, "following");
  assert.equal(stats.entriesRead, 3);
  assert.equal(stats.position, stats.size);
  assert.equal(stats.rotations, 0);
  assert.match(stats.lastRead ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
});

Deno.test("FileTailer starts a file present at startup after its last complete line", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "old 1\nold 2\nbeing writ");
  using t = tailer(path, { startAtEnd: true });
  assert.deepEqual(await t.check(), []);
  await append(path, "ten\nnew\n");
  assert.deepEqual(await t.check(), ["being written", "new"]);
});

Deno.test("FileTailer on inode change reads the old file to its end, then the new one from 0", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "a\n");
  using t = tailer(path);
  assert.deepEqual(await t.check(), ["a"]);
  await append(path, "b\nc (partial");
  await Deno.rename(path, `${path}.1`);
  await Deno.writeTextFile(path, "d\n");
  assert.deepEqual(await t.check(), ["b", "Log rotation detected (#1): inode change", "d"]);
  // The writer finishes its line through its old handle: the renamed file is still read.
  await append(`${path}.1`, ", completed)\n");
  await append(path, "e\n");
  assert.deepEqual(await t.check(), ["c (partial, completed)", "e"]);
  // Once the renamed file is gone, it is let go.
  await append(`${path}.1`, "unfinished");
  await Deno.remove(`${path}.1`);
  assert.deepEqual(await t.check(), ["unfinished"]);
  const rotation = t.entries.find((entry) => entry.fields?.event === "rotation");
  assert.deepEqual(rotation?.fields, { event: "rotation", reason: "inode change", count: 1 });
  assert.equal(rotation?.level, "INFO");
  assert.equal(t.tailer.stats().rotations, 1);
});

Deno.test("FileTailer on a deleted file drains it, closes it at once and waits for a new one", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "a\n");
  using t = tailer(path);
  await t.check();
  await append(path, "b\nlast words");
  await Deno.remove(path);
  assert.deepEqual(await t.check(), ["b", "last words"]);
  assert.equal(t.tailer.state, "missing");
  assert.deepEqual(await t.check(), []);
  await Deno.writeTextFile(path, "reborn\n");
  assert.deepEqual(await t.check(), ["Log rotation detected (#1): inode change", "reborn"]);
});

Deno.test("FileTailer follows a symlink swap", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "current.log");
  await Deno.writeTextFile(join(dir.path, "a.log"), "a1\n");
  await Deno.symlink(join(dir.path, "a.log"), path);
  using t = tailer(path);
  assert.deepEqual(await t.check(), ["a1"]);
  await append(join(dir.path, "a.log"), "a2\n");
  await Deno.writeTextFile(join(dir.path, "b.log"), "b1\n");
  await Deno.symlink(join(dir.path, "b.log"), `${path}.tmp`);
  await Deno.rename(`${path}.tmp`, path);
  assert.deepEqual(await t.check(), ["a2", "Log rotation detected (#1): inode change", "b1"]);
});

Deno.test("FileTailer on a size decrease reads from 0", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "first line\nsecond line\n");
  using t = tailer(path);
  await t.check();
  await Deno.writeTextFile(path, "new\n");
  assert.deepEqual(await t.check(), ["Log rotation detected (#1): size decrease", "new"]);
});

Deno.test("FileTailer notices a truncation hidden by regrowth past the old size", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "line 000001\nline 000002\n");
  using t = tailer(path);
  await t.check();
  // copytruncate under a busy writer: truncated, then more written than before, between checks.
  await Deno.writeTextFile(path, "line 000003\nline 000004\nline 000005\n");
  assert.deepEqual(await t.check(), [
    "Log rotation detected (#1): size decrease",
    "line 000003",
    "line 000004",
    "line 000005",
  ]);
});

Deno.test("FileTailer on a modification time reset reads from 0", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "aaaa\n");
  using t = tailer(path);
  await t.check();
  // Same size, older mtime: the content was replaced (e.g. restored from a backup).
  await Deno.writeTextFile(path, "bbbb\n");
  await Deno.utime(path, new Date(2001, 0, 1), new Date(2001, 0, 1));
  assert.deepEqual(await t.check(), [
    "Log rotation detected (#1): modification time reset",
    "bbbb",
  ]);
  assert.deepEqual(await t.check(), []);
});

Deno.test("FileTailer takes an older mtime on unchanged content for a touch, not a rotation", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "one\ntwo\n");
  using t = tailer(path);
  assert.deepEqual(await t.check(), ["one", "two"]);
  await new Deno.Command("touch", { args: ["-d", "2001-01-01", path] }).output();
  assert.deepEqual(await t.check(), [], "touch -d replays nothing");
  await append(path, "three\n");
  assert.deepEqual(await t.check(), ["three"]);
  assert.equal(t.tailer.stats().rotations, 0);
});

Deno.test("FileTailer on a position beyond the file size reads from 0", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "0123456789\n");
  // The writer appends between a stat and the read that follows it: the stat saw 12 bytes.
  let staleSize: number | undefined;
  const stat = async (path: string) => {
    const info = await Deno.stat(path);
    return staleSize === undefined ? info : { ...info, size: staleSize };
  };
  using t = tailer(path, { stat });
  assert.deepEqual(await t.check(), ["0123456789"]);
  staleSize = 12;
  await append(path, "abcdefghij\n");
  assert.deepEqual(await t.check(), ["abcdefghij"]);
  staleSize = undefined;
  // Truncated to a size above the last seen (12) but below the position (22).
  await Deno.writeTextFile(path, "new content!!!\n");
  assert.deepEqual(await t.check(), [
    "Log rotation detected (#1): position beyond file size",
    "new content!!!",
  ]);
});

Deno.test("FileTailer reports an unreadable path once, retries, and says when it recovers", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.mkdir(path);
  using t = tailer(path);
  await t.check();
  await t.check();
  assert.equal(t.tailer.state, "error");
  assert.equal(t.tailer.stats().readErrors, 1);
  assert.equal(t.tailer.stats().detail, "it is a directory, not a regular file");
  assert.deepEqual(t.logs, [[
    "warn",
    `test: cannot read "${path}": it is a directory, not a regular file; retrying`,
  ]]);
  await Deno.remove(path);
  await Deno.writeTextFile(path, "fine\n");
  assert.deepEqual(await t.check(), ["fine"]);
  assert.equal(t.tailer.state, "following");
  assert.deepEqual(t.logs.at(-1), ["info", `test: reading "${path}" again`]);
});

Deno.test("FileTailer cuts long lines and survives binary content", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeFile(
    path,
    new Uint8Array([
      0,
      1,
      2,
      0xff,
      0xfe,
      10,
      ...new TextEncoder().encode("x".repeat(3000) + "\nok\n"),
    ]),
  );
  using t = tailer(path, { maxLineBytes: 100 });
  const messages = await t.check();
  assert.deepEqual(messages, ["\0\x01\x02\uFFFD\uFFFD", "x".repeat(100), "ok"]);
  assert.deepEqual(t.entries[1]?.fields, { truncated: true });
  assert.equal(t.tailer.stats().truncatedLines, 1);
});

Deno.test("FileTailer with a shared registry reads one file once, and continues a renamed file", async () => {
  await using dir = await tempDir();
  const registry = new IdentityRegistry();
  const current = join(dir.path, "app.log");
  const rotated = join(dir.path, "app.1.log");
  await Deno.writeTextFile(current, "a\n");
  using first = tailer(current, { registry });
  using second = tailer(rotated, { registry });
  assert.deepEqual(await first.check(), ["a"]);
  await append(current, "b\n");
  await Deno.rename(current, rotated);
  // The new name is found before the old watcher noticed: it waits for the owner.
  assert.deepEqual(await second.check(), []);
  assert.equal(second.tailer.state, "duplicate");
  assert.equal(second.tailer.stats().detail, `same file as ${current}`);
  await Deno.writeTextFile(current, "c\n");
  assert.deepEqual(await first.check(), ["b", "Log rotation detected (#1): inode change", "c"]);
  // The old watcher keeps reading the renamed file for the rotate wait, the new name waits.
  await append(rotated, "late write\n");
  assert.deepEqual(await first.check(), ["late write"]);
  assert.deepEqual(await second.check(), []);
  // Then it is released at its end: the renamed file continues there, not from 0.
  await first.tailer.check(new Uint8Array(1024), Date.now() + 60_000);
  await append(rotated, "later write\n");
  assert.deepEqual(await second.check(), ["later write"]);
});

Deno.test("FileTailer refuses a FIFO swapped in between its stat and its open, without blocking", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  const fifo = join(dir.path, "fifo");
  await Deno.writeTextFile(path, "");
  await new Deno.Command("mkfifo", { args: [fifo] }).output();
  // The stat sees a regular file; by the open, a FIFO with no writer has taken its place.
  const stat = async (statPath: string) => {
    const info = await Deno.stat(statPath);
    await Deno.rename(fifo, path);
    return info;
  };
  using t = tailer(path, { stat });
  await within(t.check(), 5000, "a check that opens a FIFO");
  assert.equal(t.tailer.state, "error");
  assert.equal(t.tailer.stats().detail, "it is a FIFO, not a regular file");
});

Deno.test("FileTailer names each entry by its file and where its line ends, the same on every read", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "one\ntw");
  const origins: EntryOrigin[] = [];
  const emit = (_: LogEntry[], batch: EntryOrigin[]) => void origins.push(...batch);
  using t = tailer(path, { emit });
  await t.check();
  await append(path, "o\nthree\n");
  await t.check();
  const [file] = origins.map((origin) => origin.file);
  assert.match(file!, /^\d+:\d+~0$/);
  assert.deepEqual(origins, [
    { file, offset: 4 },
    { file, offset: 8 },
    { file, offset: 14 },
  ]);

  // Read again from the start, in one chunk: the same names.
  const again: EntryOrigin[] = [];
  using second = tailer(path, { emit: (_, batch) => void again.push(...batch) });
  await second.check();
  assert.deepEqual(again, origins);

  // Truncated and rewritten: a new generation of the same file.
  await Deno.writeTextFile(path, "x\n");
  await t.check();
  assert.deepEqual(origins.slice(3), [
    { file: file!.replace(/~0$/, "~1"), offset: 0 },
    { file: file!.replace(/~0$/, "~1"), offset: 2 },
  ]);
});

/**
 * Opens refused until `allow()`, as a mode of 600 and another owner would refuse them: the
 * tests run as root, whom modes do not stop.
 */
function refusingOpen() {
  let refuse = true;
  return {
    open: (file: string) => {
      if (refuse) throw Object.assign(new Error("permission denied"), { code: "EACCES" });
      return TailFile.open(file);
    },
    allow: () => void (refuse = false),
  };
}

Deno.test("FileTailer reads a file present at startup but not readable yet from where it ended then", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "old one\nold two\n");
  const gate = refusingOpen();
  using t = tailer(path, { startAtEnd: true, open: gate.open });
  assert.deepEqual(await t.check(), []);
  assert.equal(t.tailer.stats().state, "error");
  await append(path, "written since\n");
  gate.allow();
  assert.deepEqual(await t.check(), ["written since"]);
});

Deno.test("FileTailer reads whole a file that replaced an unreadable one after startup", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "old one\n");
  const gate = refusingOpen();
  using t = tailer(path, { startAtEnd: true, open: gate.open });
  assert.deepEqual(await t.check(), []);
  await Deno.rename(path, `${path}.1`);
  await Deno.writeTextFile(path, "new one\n");
  gate.allow();
  assert.deepEqual(await t.check(), ["new one"]);
});
