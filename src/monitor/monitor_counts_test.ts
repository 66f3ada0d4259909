/** The stream totals the metrics read: bytes read and rotations by reason. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { append, tempDir, waitFor } from "../_test_utils.ts";
import type { LogEntry } from "../entry/entry.ts";
import { Monitor } from "./monitor.ts";

Deno.test("Monitor counts the bytes it reads and its rotations by reason", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "one\ntwo\n");
  const entries: LogEntry[] = [];
  const controller = new AbortController();
  const monitor = await Monitor.start({
    config: {
      checkIntervalMs: 20,
      targets: [{ path: dir.path, pattern: "*.log", isFile: false }],
      readFrom: "beginning",
      maxLineBytes: 1_048_576,
      fsEvents: true,
    },
    onEntries: (batch) => void entries.push(...batch),
    signal: controller.signal,
    log: () => {},
  });
  try {
    const messages = () => entries.map((entry) => entry.message);
    await waitFor(() => messages().includes("two"));
    assert.equal(monitor.stats().bytesRead, 8);
    assert.deepEqual(monitor.stats().rotationsBy, {});

    // Rename and create: an inode change. Then a truncation: a size decrease.
    await Deno.rename(path, join(dir.path, "app.log.1"));
    await Deno.writeTextFile(path, "three\n");
    await waitFor(() => messages().includes("three"));
    await Deno.writeTextFile(path, "");
    await monitor.settle();
    await append(path, "four\n");
    await waitFor(() => messages().includes("four"));

    const stats = monitor.stats();
    assert.equal(stats.bytesRead, 8 + 6 + 5);
    assert.deepEqual(stats.rotationsBy, { "inode change": 1, "size decrease": 1 });
    assert.equal(stats.rotations, 2);
  } finally {
    controller.abort();
    await monitor.finished;
  }
});
