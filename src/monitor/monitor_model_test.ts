// Randomized model test of rotation and truncation handling (README "Following files"), in the spirit of
// Vector's file-source model tests. A real Monitor follows one file in a temp dir while
// random operations (writes, partial lines, rename + create, truncate, truncate and
// rewrite, delete, recreate, late writes to the renamed file, its deletion) happen on disk; `check` runs `monitor.settle()`, the only
// moment the monitor looks (events are off and the poll is an hour). A pure model of what
// the monitor specifies predicts the entries at each check, rotation entries included:
// hand-written cases miss the interleavings (write, rename, write, check…) that this finds.
//
// A failure prints the seed: LOGWISP_MODEL_SEED=<seed> LOGWISP_MODEL_RUNS=1 replays it.

import assert from "node:assert/strict";
import { join } from "node:path";
import type { LogEntry } from "../entry/entry.ts";
import { tempDir } from "../_test_utils.ts";
import { Monitor } from "./monitor.ts";

type Op =
  | {
    readonly kind: "write" | "partial" | "truncateAndRewrite" | "writeRotated";
    readonly text: string;
  }
  | {
    readonly kind: "rename" | "truncate" | "delete" | "deleteRotated" | "recreate" | "check";
  };

const LOG = "app.log";
const ROTATED = "app.log.1";
const FINGERPRINT_BYTES = 16;

/** mulberry32: a small seeded PRNG, so that a failing sequence replays from its seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ModelFile {
  readonly id: number;
  content: string;
}

interface Held {
  readonly file: ModelFile;
  position: number;
  /** The last bytes read before the position (up to 16), as they were when read. */
  fingerprint: string;
  /** The size seen at the last check. */
  lastSize: number;
  /** The partial last line read and not yet emitted. */
  pending: string;
}

/**
 * What the monitor should emit: a file system of two names, and the tailer's state. Only
 * ASCII text is generated, so string lengths are byte counts.
 */
class Model {
  readonly names = new Map<string, ModelFile>();
  readonly emitted: string[] = [];
  #nextId = 0;
  #held: Held | undefined;
  /** Files renamed away, still read until they have no name left (the test is quicker than the rotate wait). */
  #draining: Held[] = [];
  /** A file was followed before: the next one opened is a rotation. */
  #followedBefore = false;
  #rotations = 0;

  constructor(initial: string) {
    this.names.set(LOG, this.#newFile(initial));
  }

  /** Whether the file at the log path exists (ops on it are possible). */
  get exists(): boolean {
    return this.names.has(LOG);
  }

  get size(): number {
    return this.names.get(LOG)?.content.length ?? 0;
  }

  #newFile(content = ""): ModelFile {
    return { id: this.#nextId++, content };
  }

  #current(): ModelFile {
    const file = this.names.get(LOG);
    assert.ok(file, "op generated on a missing file");
    return file;
  }

  apply(op: Op): void {
    switch (op.kind) {
      case "write":
      case "partial":
        this.#current().content += op.text;
        break;
      case "truncateAndRewrite":
        this.#current().content = op.text;
        break;
      case "writeRotated":
        this.names.get(ROTATED)!.content += op.text;
        break;
      case "deleteRotated":
        this.names.delete(ROTATED);
        break;
      case "truncate":
        this.#current().content = "";
        break;
      case "rename":
        this.names.set(ROTATED, this.#current());
        this.names.set(LOG, this.#newFile());
        break;
      case "delete":
        this.names.delete(LOG);
        break;
      case "recreate":
        if (!this.exists) this.names.set(LOG, this.#newFile());
        break;
      case "check":
        this.check(false);
        break;
    }
  }

  /** One check of the path, as FileTailer specifies it. */
  check(startAtEnd: boolean): void {
    // Files renamed away first: read to their ends, closed (flushing) once nameless.
    const draining: Held[] = [];
    for (const held of this.#draining) {
      this.#read(held);
      if (this.#named(held)) draining.push(held);
      else this.#flush(held);
    }
    this.#draining = draining;
    const current = this.names.get(LOG);
    if (!current) {
      // Gone: keep reading the held file; close it (flushing) once it has no name left.
      if (this.#held) {
        this.#read(this.#held);
        if (!this.#named(this.#held)) this.#close();
      }
      return;
    }
    if (this.#held && this.#held.file !== current) {
      // Another file at the path: finish the old one through its handle first, and keep
      // reading it while it has a name.
      this.#read(this.#held);
      if (this.#named(this.#held)) this.#draining.push(this.#held);
      else this.#flush(this.#held);
      this.#held = undefined;
    }
    const held = this.#held;
    if (held) {
      const size = current.content.length;
      const before = current.content.slice(held.position - held.fingerprint.length, held.position);
      const reason = size < held.lastSize
        ? "size decrease"
        : held.position > size
        ? "position beyond file size"
        : size > held.lastSize && before !== held.fingerprint
        ? "size decrease"
        : undefined;
      if (reason) this.#restart(reason);
    } else {
      const start = startAtEnd ? current.content.lastIndexOf("\n") + 1 : 0;
      this.#held = {
        file: current,
        position: start,
        fingerprint: current.content.slice(Math.max(0, start - FINGERPRINT_BYTES), start),
        lastSize: current.content.length,
        pending: "",
      };
      if (this.#followedBefore) this.#rotated("inode change");
      this.#followedBefore = true;
    }
    this.#read(this.#held!);
    this.#held!.lastSize = current.content.length;
  }

  #named(held: Held): boolean {
    return [...this.names.values()].includes(held.file);
  }

  #read(held: Held): void {
    const data = held.file.content.slice(held.position);
    const lines = (held.pending + data).split("\n");
    held.pending = lines.pop()!;
    for (const line of lines) if (line !== "") this.emitted.push(line);
    held.position += data.length;
    held.fingerprint = (held.fingerprint + data).slice(-FINGERPRINT_BYTES);
  }

  #flush(held: Held): void {
    if (held.pending !== "") this.emitted.push(held.pending);
    held.pending = "";
  }

  #close(): void {
    this.#flush(this.#held!);
    this.#held = undefined;
  }

  #restart(reason: string): void {
    const held = this.#held!;
    this.#flush(held);
    held.position = 0;
    held.fingerprint = "";
    this.#rotated(reason);
  }

  #rotated(reason: string): void {
    this.emitted.push(`Log rotation detected (#${++this.#rotations}): ${reason}`);
  }
}

async function applyToDisk(dir: string, op: Op, monitor: Monitor): Promise<void> {
  const path = join(dir, LOG);
  switch (op.kind) {
    case "write":
    case "partial":
      await Deno.writeTextFile(path, op.text, { append: true, create: false });
      break;
    case "truncateAndRewrite":
      await Deno.truncate(path, 0);
      await Deno.writeTextFile(path, op.text, { append: true, create: false });
      break;
    case "truncate":
      await Deno.truncate(path, 0);
      break;
    case "writeRotated":
      // The application still writing through its old handle after a rename.
      await Deno.writeTextFile(join(dir, ROTATED), op.text, { append: true, create: false });
      break;
    case "deleteRotated":
      await Deno.remove(join(dir, ROTATED));
      break;
    case "rename":
      await Deno.rename(path, join(dir, ROTATED));
      await Deno.writeTextFile(path, "", { createNew: true });
      break;
    case "delete":
      await Deno.remove(path);
      break;
    case "recreate":
      await Deno.writeTextFile(path, "", { append: true });
      break;
    case "check":
      await monitor.settle();
      break;
  }
}

/** What an entry says, in the model's terms; a malformed rotation entry shows as such. */
function describe(entry: LogEntry): string {
  const fields = entry.fields;
  if (fields?.event !== "rotation") return entry.message;
  const expected = `Log rotation detected (#${fields.count}): ${fields.reason}`;
  return entry.level === "INFO" && entry.message === expected
    ? entry.message
    : `malformed rotation entry ${JSON.stringify(entry)}`;
}

function formatOp(op: Op): string {
  return "text" in op ? `${op.kind} ${JSON.stringify(op.text)}` : op.kind;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 ";

function randomText(random: () => number, min: number, max: number): string {
  const length = min + Math.floor(random() * (max - min + 1));
  let text = "";
  for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return text;
}

/** 1–5 complete lines, some of them empty. */
function randomLines(random: () => number): string {
  const count = 1 + Math.floor(random() * 5);
  let text = "";
  for (let i = 0; i < count; i++) text += randomText(random, 0, 24) + "\n";
  return text;
}

/** Weighted choice of the next op among those possible on `model`'s file system. */
function randomOp(random: () => number, model: Model): Op {
  type Weights = [Op["kind"], number][];
  const onLog: Weights = model.exists
    ? [
      ["write", 30],
      ["partial", 10],
      ["rename", 10],
      ["truncate", 5],
      ["truncateAndRewrite", 7],
      ["delete", 5],
      ["check", 25],
    ]
    : [["recreate", 60], ["check", 40]];
  const onRotated: Weights = model.names.has(ROTATED)
    ? [["writeRotated", 8], ["deleteRotated", 3]]
    : [];
  const weights = [...onLog, ...onRotated];
  let pick = random() * weights.reduce((sum, [, weight]) => sum + weight, 0);
  let kind: Op["kind"] = "check";
  for (const [candidate, weight] of weights) {
    pick -= weight;
    if (pick < 0) {
      kind = candidate;
      break;
    }
  }
  switch (kind) {
    case "write":
    case "writeRotated":
      return { kind, text: randomLines(random) };
    case "partial":
      return { kind, text: randomText(random, 1, 12) };
    case "truncateAndRewrite": {
      // More bytes than before: the size grows, only the fingerprint tells.
      let text = "";
      while (text.length <= model.size) text += randomLines(random);
      return { kind, text };
    }
    default:
      return { kind };
  }
}

/** Where a sequence's ops come from: generated as it runs, or a fixed list. */
type OpSource = (model: Model, index: number) => Op | undefined;

/** How one sequence went: the ops run, the entries emitted, and a failure description. */
interface Outcome {
  readonly ops: readonly Op[];
  readonly entries: readonly string[];
  readonly failure?: string;
}

/** Runs one sequence against a real monitor and the model, comparing after every check. */
async function runSequence(title: string, initial: string, next: OpSource): Promise<Outcome> {
  await using dir = await tempDir("logwisp_model_");
  const path = join(dir.path, LOG);
  await Deno.writeTextFile(path, initial);
  const model = new Model(initial);
  const actual: string[] = [];
  const logs: string[] = [];
  const ops: Op[] = [];
  const controller = new AbortController();
  const monitor = await Monitor.start({
    config: {
      checkIntervalMs: 3_600_000,
      targets: [{ path, pattern: "*", isFile: true }],
      readFrom: "end",
      maxLineBytes: 1024 * 1024,
      fsEvents: false,
    },
    onEntries: (entries) => void actual.push(...entries.map(describe)),
    signal: controller.signal,
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  try {
    model.check(true);
    for (let index = 0;; index++) {
      if (index === 0 || ops.at(-1)?.kind === "check") {
        if (!sameEntries(actual, model.emitted)) {
          const failure = report(title, initial, ops, model.emitted, actual, logs);
          return { ops, entries: actual, failure };
        }
      }
      const op = next(model, index);
      if (!op) return { ops, entries: actual };
      ops.push(op);
      await applyToDisk(dir.path, op, monitor);
      model.apply(op);
    }
  } finally {
    controller.abort();
    await monitor.finished;
  }
}

function sameEntries(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function report(
  title: string,
  initial: string,
  ops: readonly Op[],
  expected: readonly string[],
  actual: readonly string[],
  logs: readonly string[],
): string {
  let first = 0;
  while (first < expected.length && expected[first] === actual[first]) first++;
  const show = (list: readonly string[]) =>
    list.slice(first).map((line) => `    ${JSON.stringify(line)}`).join("\n") || "    (nothing)";
  return [
    `${title}: the monitor and the model disagree after check #${
      ops.filter((op) => op.kind === "check").length
    } (op ${ops.length})`,
    `  initial content: ${JSON.stringify(initial)}`,
    `  ops:`,
    ...ops.map((op, i) => `    ${String(i + 1).padStart(2)}. ${formatOp(op)}`),
    `  entries agree up to #${first}; then expected:`,
    show(expected),
    `  actual:`,
    show(actual),
    ...(logs.length > 0 ? ["  monitor log:", ...logs.map((line) => `    ${line}`)] : []),
  ].join("\n");
}

function randomSequence(seed: number): [initial: string, next: OpSource] {
  const random = mulberry32(seed);
  // Complete lines, then (mostly) a partial one: read_from = "end" starts after the last
  // newline, so that partial line is read whole once it is completed.
  let initial = "";
  const lines = Math.floor(random() * 4);
  for (let i = 0; i < lines; i++) initial += randomText(random, 1, 24) + "\n";
  if (random() < 0.8) initial += randomText(random, 1, 12);
  const length = 30 + Math.floor(random() * 31);
  return [initial, (model, index) => {
    if (index < length) return randomOp(random, model);
    // Always end on a check, so the last ops are compared too.
    return index === length ? { kind: "check" } : undefined;
  }];
}

function envNumber(name: string): number | undefined {
  const text = Deno.env.get(name);
  return text === undefined ? undefined : Number(text);
}

Deno.test("monitor model: random rotations and truncations match the model", async () => {
  const baseSeed = envNumber("LOGWISP_MODEL_SEED") ??
    crypto.getRandomValues(new Uint32Array(1))[0]!;
  const runs = envNumber("LOGWISP_MODEL_RUNS") ?? 250;
  const seen = new Map<string, number>();
  const tally = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);
  for (let run = 0; run < runs; run++) {
    const seed = (baseSeed + run) >>> 0;
    const [initial, next] = randomSequence(seed);
    const { ops, entries, failure } = await runSequence(`seed ${seed}`, initial, next);
    if (failure !== undefined) {
      assert.fail(
        `${failure}\nReplay: LOGWISP_MODEL_SEED=${seed} LOGWISP_MODEL_RUNS=1 deno task test ` +
          "src/monitor/monitor_model_test.ts",
      );
    }
    for (const op of ops) tally(op.kind);
    for (const entry of entries) {
      const reason = /^Log rotation detected \(#\d+\): (.*)$/.exec(entry)?.[1];
      if (reason !== undefined) tally(reason);
    }
  }
  // The generator still reaches every op and both rotation reasons a file target can see.
  if (runs >= 100) {
    const kinds = [
      "write",
      "partial",
      "rename",
      "truncate",
      "truncateAndRewrite",
      "delete",
      "writeRotated",
      "deleteRotated",
    ];
    for (const key of [...kinds, "recreate", "check", "inode change", "size decrease"]) {
      assert.ok((seen.get(key) ?? 0) > 0, `never seen: ${key}`);
    }
  }
});

/**
 * Replays a fixed op list through the same harness, and checks the entries against the
 * ones written out by hand: a mistake shared by the model and the monitor shows there.
 */
async function replay(
  title: string,
  initial: string,
  ops: readonly Op[],
  expected: readonly string[],
): Promise<void> {
  const { failure, entries } = await runSequence(title, initial, (_, index) => ops[index]);
  if (failure !== undefined) assert.fail(failure);
  assert.deepEqual(entries, expected);
}

Deno.test("monitor model: write, rename, write, check reads both files whole", async () => {
  await replay("rename between writes", "old\npart", [
    { kind: "write", text: "ial\nmore\n" },
    { kind: "partial", text: "tail" },
    { kind: "rename" },
    { kind: "write", text: "new 1\n\nnew 2\n" },
    { kind: "check" },
    { kind: "rename" },
    { kind: "rename" },
    { kind: "write", text: "after two renames\n" },
    { kind: "check" },
  ], [
    "partial",
    "more",
    "Log rotation detected (#1): inode change",
    "new 1",
    "new 2",
    // The renamed file's partial line, flushed once a second rename took its name.
    "tail",
    "Log rotation detected (#2): inode change",
    "after two renames",
  ]);
});

Deno.test("monitor model: truncate and rewrite past the old size is a size decrease", async () => {
  await replay("truncate and rewrite", "0123456789abcdef\n", [
    { kind: "write", text: "first line after start\n" },
    { kind: "check" },
    { kind: "truncateAndRewrite", text: "x".repeat(60) + "\n" },
    { kind: "check" },
  ], [
    "first line after start",
    "Log rotation detected (#1): size decrease",
    "x".repeat(60),
  ]);
});

// The first read after startup (read_from = "end") starts at the last newline with no
// fingerprint: the bytes before that position were never remembered, so a file truncated
// and rewritten past its old size before anything new is read looks merely grown.
Deno.test("monitor model: truncate and rewrite before the first read after startup", async () => {
  await replay("truncate and rewrite right after startup", "0123456789abcdef\n", [
    { kind: "truncateAndRewrite", text: "x".repeat(40) + "\n" },
    { kind: "check" },
  ], ["Log rotation detected (#1): size decrease", "x".repeat(40)]);
});
