/**
 * Rotation under a real, concurrent writer (`testdata/rotating_writer.ts`, its own
 * process): the README ("Following files")'s guarantee is that with rename/create, delete/create and symlink
 * swaps every complete line is emitted exactly once and in order; with truncation, the
 * only loss is lines not yet read when the file was truncated.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir, waitFor } from "../_test_utils.ts";
import { Monitor } from "./monitor.ts";

const WRITER = new URL("./testdata/rotating_writer.ts", import.meta.url).pathname;

interface Run {
  /** Line numbers in the order they were emitted. */
  readonly numbers: number[];
  readonly total: number;
  readonly rotatedAfter: number[];
  readonly rotations: number;
}

/** Follows `app.log` while the writer writes `(rotations + 1) × perRotation` lines, rotating by `mode`. */
async function rotateUnderWriter(
  mode: string,
  options: { rate: number; perRotation: number; rotations: number },
): Promise<Run> {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  const numbers: number[] = [];
  const controller = new AbortController();
  const monitor = await Monitor.start({
    config: {
      checkIntervalMs: 10,
      targets: [{ path, pattern: "*", isFile: true }],
      readFrom: "end",
      maxLineBytes: 1_048_576,
      fsEvents: true,
    },
    onEntries: (entries) => {
      for (const { message } of entries) {
        if (message.startsWith("line ")) numbers.push(Number(message.slice(5)));
      }
    },
    signal: controller.signal,
    log: () => {},
  });
  try {
    const { rate, perRotation, rotations } = options;
    const writer = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        WRITER,
        path,
        mode,
        ...[rate, perRotation, rotations].map(String),
      ],
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stdout, stderr } = await writer.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const { total, rotatedAfter } = JSON.parse(new TextDecoder().decode(stdout));
    await waitFor(() => numbers.at(-1) === total, {
      message: () => `line ${total}, last seen ${numbers.at(-1)}`,
    });
    await monitor.settle();
    return { numbers, total, rotatedAfter, rotations: monitor.stats().rotations };
  } finally {
    controller.abort();
    await monitor.finished;
  }
}

function assertExactlyOnceInOrder(run: Run): void {
  const expected = Array.from({ length: run.total }, (_, i) => i + 1);
  if (run.numbers.length === expected.length && run.numbers.every((n, i) => n === expected[i])) {
    return;
  }
  const seen = new Set(run.numbers);
  const missing = expected.filter((n) => !seen.has(n));
  const duplicates = run.numbers.filter((n, i) => run.numbers.indexOf(n) !== i);
  assert.fail(
    `${run.numbers.length} lines for ${run.total}: missing ${missing.slice(0, 20)}, ` +
      `duplicated ${duplicates.slice(0, 20)}`,
  );
}

for (const mode of ["rename", "delete", "symlink"]) {
  Deno.test(`rotation by ${mode}: every line exactly once, in order`, async () => {
    const run = await rotateUnderWriter(mode, { rate: 5000, perRotation: 500, rotations: 10 });
    assertExactlyOnceInOrder(run);
    assert.equal(run.rotations, 10);
  });
}

Deno.test("rotation by rename 100 times under a 5,000 lines/s writer loses and duplicates nothing", async () => {
  const run = await rotateUnderWriter("rename", { rate: 5000, perRotation: 500, rotations: 100 });
  assertExactlyOnceInOrder(run);
  assert.equal(run.rotations, 100);
});

for (const mode of ["copytruncate", "truncate"]) {
  Deno.test(`rotation by ${mode}: no duplicates, in order, loss only just before a truncation`, async () => {
    const perRotation = 1000;
    const run = await rotateUnderWriter(mode, { rate: 5000, perRotation, rotations: 10 });
    assert.equal(new Set(run.numbers).size, run.numbers.length, "duplicates");
    assert.ok(run.numbers.every((n, i) => i === 0 || n > run.numbers[i - 1]!), "out of order");
    const seen = new Set(run.numbers);
    const lost = Array.from({ length: run.total }, (_, i) => i + 1).filter((n) => !seen.has(n));
    // Unread lines die with the truncation: only the last lines before one can be lost.
    const window = perRotation / 2;
    for (const n of lost) {
      assert.ok(
        run.rotatedAfter.some((last) => n <= last && n > last - window),
        `line ${n} lost, far from any truncation (${run.rotatedAfter})`,
      );
    }
    assert.equal(run.rotations, 10);
    // deno-lint-ignore no-console
    console.log(`${mode}: lost ${lost.length} of ${run.total} lines over 10 truncations`);
  });
}
