/**
 * End-to-end benchmark of the real CLI: throughput and latency from a followed file to TCP
 * and SSE clients, startup time, and `tail -F` as a baseline. Prints a markdown table of
 * medians over `BENCH_RUNS` runs (default 3); it never asserts on timing.
 *
 *   deno run -A bench/e2e_bench.ts
 *
 * @module
 */

import { freePort, waitFor } from "../src/_test_utils.ts";
import { REGEX_V8_FLAGS } from "../src/filter/safe_regex.ts";

/** Lines written per throughput run. */
const THROUGHPUT_LINES = 300_000;
/** Bytes per throughput line, newline included. */
const LINE_BYTES = 100;
/** Whole lines per write: about 1 MiB, so every write ends on a line boundary. */
const LINES_PER_WRITE = Math.floor(1_048_576 / LINE_BYTES);
/** Latency runs write this many lines per second... */
const LATENCY_RATE = 1000;
/** ...for this long. */
const LATENCY_MS = 5000;
/** Startup is measured on its own, this many times. */
const STARTUP_SAMPLES = 5;
/** Startup poll period of the HTTP port. */
const STARTUP_POLL_MS = 2;
/** A throughput run that has not delivered by then is reported as failed, not awaited forever. */
const DELIVERY_TIMEOUT_MS = 60_000;
/** LogWisp must exit within 5 s of SIGTERM (README "Signals"); a little slack before SIGKILL. */
const STOP_TIMEOUT_MS = 6000;
const STARTUP_ROW = `Startup to first port (ms, ${STARTUP_SAMPLES} samples)`;
const READY_LINE = " ready (configuration: ";
const STAMP_RE = /latency (\d+\.\d+)/;
const NEWLINE = 10;

const repoRoot = new URL("..", import.meta.url).pathname;
const encoder = new TextEncoder();

/** The one place this script writes to stdout: the results. */
export function print(text: string): void {
  // deno-lint-ignore no-console
  console.log(text);
}

/** Progress goes to stderr so that stdout is just the table. */
export function note(text: string): void {
  Deno.stderr.writeSync(encoder.encode(`${text}\n`));
}

/** Epoch ms on the clock that both writer and clients use (they share this process). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { freePort, waitFor };

// ---------------------------------------------------------------------------------------
// Cleanup: children and the temp dir go away on normal exit, on errors and on Ctrl-C.

/** Children still running, killed on SIGINT (finally blocks do not run then). */
export const liveChildren = new Set<Deno.ChildProcess>();
/** Temp dirs still present, removed on SIGINT. */
const liveDirs = new Set<string>();

export function onInterrupt(): void {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch { /* Already gone. */ }
  }
  for (const dir of liveDirs) Deno.removeSync(dir, { recursive: true });
  Deno.exit(130);
}

/** A temp dir removed with everything in it when disposed. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "logwisp-bench-" });
  liveDirs.add(path);
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
      liveDirs.delete(path);
    },
  };
}

/** Ends `child`: SIGTERM, then SIGKILL if it lingers. Resolves to how long it took, in ms. */
export async function stopChild(child: Deno.ChildProcess, timeoutMs: number): Promise<number> {
  const started = performance.now();
  try {
    child.kill("SIGTERM");
  } catch { /* It already exited. */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) =>
    timer = setTimeout(() => resolve("late"), timeoutMs)
  );
  try {
    if ((await Promise.race([child.status, late])) === "late") {
      child.kill("SIGKILL");
      await child.status;
    }
  } finally {
    clearTimeout(timer);
    liveChildren.delete(child);
  }
  return performance.now() - started;
}

// ---------------------------------------------------------------------------------------
// Receiving: one tally per client counts entries and, for latency runs, parses stamps.

/** How entries are delimited on the wire. */
type Framing = "lines" | "sse";

/** Counts the bytes of `chunk` equal to `byte`; indexOf is native, much faster than a loop. */
function countByte(chunk: Uint8Array, byte: number): number {
  let count = 0;
  for (let i = chunk.indexOf(byte); i !== -1; i = chunk.indexOf(byte, i + 1)) count++;
  return count;
}

/** What one client received: entry count, arrival time of the latest, and latencies. */
export class Tally {
  /** Entries received; SSE starts at -1 for the `connected` event that precedes them. */
  entries: number;
  /** `performance.now()` when the chunk holding the latest entry arrived. */
  lastAt = 0;
  /** Receipt time minus the write time stamped in the line, in ms. */
  readonly latencies: number[] = [];
  /** Parse latency stamps; off for throughput, where parsing would slow the client down. */
  stamps: boolean;
  readonly #framing: Framing;
  readonly #decoder = new TextDecoder();
  /** SSE events end with a blank line, which may straddle two chunks. */
  #endedWithNewline = false;
  /** The unfinished last line of the previous chunk, for stamp parsing. */
  #partial = "";

  constructor(framing: Framing, stamps: boolean) {
    this.#framing = framing;
    this.stamps = stamps;
    this.entries = framing === "sse" ? -1 : 0;
  }

  /** Takes one chunk as read from the wire. */
  add(chunk: Uint8Array): void {
    const at = performance.now();
    const count = this.#framing === "lines" ? countByte(chunk, NEWLINE) : this.#sseEvents(chunk);
    if (count > 0) {
      this.entries += count;
      this.lastAt = at;
    }
    if (this.stamps) this.#parseStamps(chunk, performance.timeOrigin + at);
  }

  /** SSE events in `chunk`: each ends with "\n\n", and data lines never hold a raw newline. */
  #sseEvents(chunk: Uint8Array): number {
    if (chunk.length === 0) return 0;
    let count = 0;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) {
      if (i === 0 ? this.#endedWithNewline : chunk[i - 1] === NEWLINE) count++;
    }
    this.#endedWithNewline = chunk[chunk.length - 1] === NEWLINE;
    return count;
  }

  #parseStamps(chunk: Uint8Array, receivedAt: number): void {
    const lines = (this.#partial + this.#decoder.decode(chunk, { stream: true })).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) {
      const match = STAMP_RE.exec(line);
      if (match) this.latencies.push(receivedAt - Number(match[1]));
    }
  }
}

/** A connected client feeding a tally until disposed. */
export interface Client extends AsyncDisposable {
  readonly tally: Tally;
}

/** Feeds every chunk of `reader` to `tally`; errors after `closing()` are the close itself. */
async function pump(
  read: () => Promise<Uint8Array | null>,
  tally: Tally,
  closing: () => boolean,
): Promise<void> {
  try {
    for (let chunk; (chunk = await read()) !== null;) tally.add(chunk);
  } catch (error) {
    if (!closing()) throw error;
  }
}

/** A raw TCP client of LogWisp's NDJSON port. */
export async function tcpClient(port: number, stamps: boolean): Promise<Client> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const tally = new Tally("lines", stamps);
  const buffer = new Uint8Array(1 << 20);
  let closing = false;
  // One reused buffer: the tally is done with a chunk before the next read overwrites it.
  const read = async () => {
    const n = await conn.read(buffer);
    return n === null ? null : buffer.subarray(0, n);
  };
  const pumping = pump(read, tally, () => closing);
  return {
    tally,
    async [Symbol.asyncDispose]() {
      closing = true;
      conn.close();
      await pumping;
    },
  };
}

/** An SSE client of LogWisp's `/stream`, through fetch as a browser-less client would. */
export async function sseClient(port: number, stamps: boolean): Promise<Client> {
  const abort = new AbortController();
  const response = await fetch(`http://127.0.0.1:${port}/stream`, { signal: abort.signal });
  if (!response.ok || !response.body) {
    throw new Error(`SSE request failed with HTTP ${response.status}`);
  }
  const reader = response.body.getReader();
  const tally = new Tally("sse", stamps);
  let closing = false;
  const read = async () => {
    const { done, value } = await reader.read();
    return done ? null : value;
  };
  const pumping = pump(read, tally, () => closing);
  return {
    tally,
    async [Symbol.asyncDispose]() {
      closing = true;
      await reader.cancel().catch(() => {});
      abort.abort();
      await pumping;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Writing.

/** The throughput input: `INFO bench line 000123 xxxx…`, 99 characters and a newline each. */
function throughputPayload(lines: number): Uint8Array {
  const text: string[] = [];
  for (let i = 0; i < lines; i++) {
    text.push(`INFO bench line ${String(i).padStart(6, "0")} `.padEnd(LINE_BYTES - 1, "x") + "\n");
  }
  return encoder.encode(text.join(""));
}

/** Writes all of `bytes`: a write may be short. */
async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await file.write(bytes.subarray(written));
  }
}

/** Appends `payload` in 1 MiB writes as fast as it goes; resolves to when the first began. */
async function writeBurst(path: string, payload: Uint8Array): Promise<number> {
  using file = await Deno.open(path, { append: true });
  const step = LINES_PER_WRITE * LINE_BYTES;
  const startedAt = performance.now();
  for (let offset = 0; offset < payload.length; offset += step) {
    await writeAll(file, payload.subarray(offset, offset + step));
  }
  return startedAt;
}

/**
 * Appends `LATENCY_RATE` lines a second for `LATENCY_MS`, each stamped with its write time.
 * Timers fire every millisecond or later, so each tick writes however many lines are due.
 */
async function writePaced(path: string): Promise<number> {
  using file = await Deno.open(path, { append: true });
  const total = (LATENCY_RATE * LATENCY_MS) / 1000;
  const startedAt = performance.now();
  for (let sent = 0; sent < total;) {
    const due = Math.min(
      total,
      Math.floor(((performance.now() - startedAt) * LATENCY_RATE) / 1000) + 1,
    );
    if (due > sent) {
      const line = `INFO latency ${wallNow().toFixed(3)}\n`;
      file.writeSync(encoder.encode(line.repeat(due - sent)));
      sent = due;
    }
    await sleep(1);
  }
  return total;
}

// ---------------------------------------------------------------------------------------
// LogWisp under test.

/** The parts of `GET /status` the benchmark reads. */
export interface Status {
  server: { active_clients: number };
  monitor: { active_watchers: number; total_entries: number; dropped_entries: number };
  delivery: {
    last_sequence: number;
    clients: { transport: string; dropped_entries: number }[];
  };
}

/**
 * The TOML of the brief: one stream following one file, with HTTP and TCP servers; without
 * `fsEvents`, the stat poll alone finds new lines.
 */
function configText(logPath: string, httpPort: number, tcpPort: number, fsEvents: boolean): string {
  return `[[streams]]
name = "bench"
[streams.monitor]
check_interval_ms = 100
fs_events = ${fsEvents}
targets = [{ path = ${JSON.stringify(logPath)}, is_file = true }]
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${httpPort}
buffer_size = 10000
[streams.tcpserver]
enabled = true
host = "127.0.0.1"
port = ${tcpPort}
buffer_size = 10000
`;
}

/** Spawns `deno run -A` (with the regexp V8 flags) `src/main.ts --config <configPath> --quiet`, killed on SIGINT. */
export function spawnLogWisp(configPath: string): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--v8-flags=${REGEX_V8_FLAGS}`,
      "src/main.ts",
      "--config",
      configPath,
      "--quiet",
    ],
    cwd: repoRoot,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  liveChildren.add(child);
  return child;
}

/** A running `deno run -A src/main.ts`, stopped with SIGTERM when disposed. */
export class LogWisp implements AsyncDisposable {
  readonly httpPort: number;
  readonly tcpPort: number;
  /** Resolves once the ready line and the endpoint line after it are on stderr. */
  readonly ready: Promise<void>;
  /** `performance.now()` just before the spawn. */
  readonly spawnedAt: number;
  /** How long the stop took, in ms, once stopped. */
  stopMs = NaN;
  readonly #child: Deno.ChildProcess;
  readonly #draining: Promise<void>;
  #stopping: Promise<void> | undefined;
  #stderr = "";

  /** Writes `config(httpPort, tcpPort)` to `dir` and starts LogWisp on it; does not wait. */
  constructor(dir: string, config: (httpPort: number, tcpPort: number) => string) {
    this.httpPort = freePort();
    this.tcpPort = freePort();
    const configPath = `${dir}/logwisp.toml`;
    Deno.writeTextFileSync(configPath, config(this.httpPort, this.tcpPort));
    this.spawnedAt = performance.now();
    this.#child = spawnLogWisp(configPath);
    let markReady!: () => void;
    this.ready = new Promise((resolve) => markReady = resolve);
    this.#draining = this.#drainStderr(markReady);
  }

  /** Starts LogWisp and waits until it is listening. */
  static async start(
    dir: string,
    config: (httpPort: number, tcpPort: number) => string,
  ): Promise<LogWisp> {
    const logwisp = new LogWisp(dir, config);
    try {
      await logwisp.#readyOrExit(30_000);
    } catch (error) {
      await logwisp[Symbol.asyncDispose]();
      throw error;
    }
    return logwisp;
  }

  /** `GET /status`. */
  async status(): Promise<Status> {
    const response = await fetch(`http://127.0.0.1:${this.httpPort}/status`);
    if (!response.ok) throw new Error(`Status request failed with HTTP ${response.status}`);
    return await response.json();
  }

  /** Polls status until `done` holds for it; resolves to that status. */
  async awaitStatus(
    done: (status: Status) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<Status> {
    let status: Status | undefined;
    await waitFor(async () => done(status = await this.status()), {
      timeoutMs,
      message: () => `LogWisp did not show ${what} within ${timeoutMs / 1000} s`,
      intervalMs: 20,
    });
    return status!;
  }

  /** Waits until status lists exactly `count` clients of `transport`. */
  awaitClients(transport: string, count: number): Promise<Status> {
    return this.awaitStatus(
      (status) => status.delivery.clients.filter((c) => c.transport === transport).length === count,
      10_000,
      `${count} ${transport} client(s)`,
    );
  }

  /** The LogWisp process: `deno run` runs the program in the process it was spawned as. */
  get pid(): number {
    return this.#child.pid;
  }

  /** stderr so far, for error messages. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Stops LogWisp; later calls wait for the same stop. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#stopping ??= (async () => {
      this.stopMs = await stopChild(this.#child, STOP_TIMEOUT_MS);
      await this.#draining;
    })();
  }

  async #readyOrExit(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      this.ready.then(() => "ready" as const),
      this.#child.status.then((status) => status),
      new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), timeoutMs)),
    ]);
    clearTimeout(timer);
    if (outcome === "ready") return;
    const why = outcome === "late"
      ? `was not ready within ${timeoutMs / 1000} s`
      : `exited with code ${outcome.code} before it was ready`;
    throw new Error(`LogWisp ${why}; stderr:\n${this.#stderr}`);
  }

  /** Reads stderr to its end (a full pipe would block LogWisp), watching for readiness. */
  async #drainStderr(markReady: () => void): Promise<void> {
    const decoder = new TextDecoder();
    let ready = false;
    for await (const chunk of this.#child.stderr) {
      this.#stderr = (this.#stderr + decoder.decode(chunk, { stream: true })).slice(-65_536);
      if (ready) continue;
      const at = this.#stderr.indexOf(READY_LINE);
      // The endpoint lines follow the ready line: wait for the first one to be complete.
      if (at !== -1 && this.#stderr.slice(at).split("\n").length > 2) {
        ready = true;
        markReady();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Measurements. Each returns figures keyed by row name.

export type Figures = Record<string, number>;

/** Opens a client of `transport` and waits until LogWisp has registered it. */
async function connect(
  logwisp: LogWisp,
  transport: "tcp" | "sse",
  stamps: boolean,
): Promise<Client> {
  const client = transport === "tcp"
    ? await tcpClient(logwisp.tcpPort, stamps)
    : await sseClient(logwisp.httpPort, stamps);
  try {
    await logwisp.awaitClients(transport, 1);
  } catch (error) {
    await client[Symbol.asyncDispose]();
    throw error;
  }
  return client;
}

/** Disposes `client`, then waits until LogWisp no longer lists it, so runs do not overlap. */
async function disconnect(logwisp: LogWisp, transport: string, client: Client): Promise<void> {
  await client[Symbol.asyncDispose]();
  await logwisp.awaitClients(transport, 0);
}

/**
 * 300,000 lines written as fast as possible, timed until the client has the last entry it
 * will get. Entries dropped for a full client queue never arrive, so the expected count is
 * known only once LogWisp has published every line.
 */
async function logwispThroughput(
  logwisp: LogWisp,
  logPath: string,
  transport: "tcp" | "sse",
  payload: Uint8Array,
): Promise<Figures> {
  const label = transport.toUpperCase();
  const client = await connect(logwisp, transport, false);
  try {
    const snapshot = async () => {
      const status = await logwisp.status();
      return {
        last_sequence: status.delivery.last_sequence,
        dropped_entries: status.monitor.dropped_entries,
      };
    };
    const before = await snapshot();
    const startedAt = await writeBurst(logPath, payload);
    let expected = THROUGHPUT_LINES;
    let dropped = 0;
    let published = false;
    let lastPoll = 0;
    await waitFor(async () => {
      if (client.tally.entries >= expected) return true;
      // Status costs LogWisp work: ask at most every 100 ms, only while entries are missing.
      if (published || performance.now() - lastPoll < 100) return false;
      lastPoll = performance.now();
      const now = await snapshot();
      if (now.last_sequence - before.last_sequence < THROUGHPUT_LINES) return false;
      published = true;
      dropped = now.dropped_entries - before.dropped_entries;
      expected = THROUGHPUT_LINES - dropped;
      return client.tally.entries >= expected;
    }, {
      timeoutMs: DELIVERY_TIMEOUT_MS,
      message: () =>
        `${label} client got ${client.tally.entries} of ${expected} entries within ${
          DELIVERY_TIMEOUT_MS / 1000
        } s`,
    });
    if (!published) {
      dropped = (await snapshot()).dropped_entries - before.dropped_entries;
    }
    const seconds = (client.tally.lastAt - startedAt) / 1000;
    return {
      [`${label} throughput (entries/s)`]: client.tally.entries / seconds,
      [`${label} throughput (input MB/s)`]: payload.length / 1e6 / seconds,
      [`${label} dropped entries (of ${THROUGHPUT_LINES})`]: dropped,
    };
  } finally {
    await disconnect(logwisp, transport, client);
  }
}

/** Nearest-rank percentile of sorted `values`. */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

/** p50/p99/max and the share of lines that arrived, as rows named after `label`. */
function latencyFigures(label: string, latencies: readonly number[], written: number): Figures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    [`${label} latency p50 (ms)`]: percentile(sorted, 0.5),
    [`${label} latency p99 (ms)`]: percentile(sorted, 0.99),
    [`${label} latency max (ms)`]: sorted[sorted.length - 1] ?? NaN,
    [`${label} latency lines lost`]: written - latencies.length,
  };
}

/**
 * Waits until every one of the `written` stamped lines has arrived, or 10 s: lines still
 * missing then are reported as lost, not waited for.
 */
async function settle(tally: Tally, written: number): Promise<void> {
  await waitFor(() => tally.latencies.length >= written, { timeoutMs: 10_000, intervalMs: 20 })
    .catch(() => {});
}

/** 1,000 stamped lines a second for 5 s through LogWisp to one client. */
async function logwispLatency(
  logwisp: LogWisp,
  logPath: string,
  transport: "tcp" | "sse",
  label = transport.toUpperCase(),
): Promise<Figures> {
  const client = await connect(logwisp, transport, true);
  try {
    const written = await writePaced(logPath);
    await settle(client.tally, written);
    return latencyFigures(label, client.tally.latencies, written);
  } finally {
    await disconnect(logwisp, transport, client);
  }
}

/** One LogWisp process: throughput, then latency, for TCP and for SSE. */
async function logwispRun(dir: string, payload: Uint8Array): Promise<Figures> {
  const logPath = `${dir}/app.log`;
  // Empty before start: read_from "end" then misses nothing.
  Deno.writeFileSync(logPath, new Uint8Array());
  const figures: Figures = {};
  {
    await using logwisp = await LogWisp.start(
      dir,
      (http, tcp) => configText(logPath, http, tcp, true),
    );
    Object.assign(figures, await logwispThroughput(logwisp, logPath, "tcp", payload));
    Object.assign(figures, await logwispThroughput(logwisp, logPath, "sse", payload));
    Object.assign(figures, await logwispLatency(logwisp, logPath, "tcp"));
    Object.assign(figures, await logwispLatency(logwisp, logPath, "sse"));
    await logwisp[Symbol.asyncDispose]();
    figures["Shutdown on SIGTERM (ms)"] = logwisp.stopMs;
  }
  {
    // fs_events = false: the 100 ms stat poll alone, the safety net's own latency.
    await using polling = await LogWisp.start(
      dir,
      (http, tcp) => configText(logPath, http, tcp, false),
    );
    Object.assign(figures, await logwispLatency(polling, logPath, "tcp", "TCP polling-only"));
    Object.assign(figures, await logwispLatency(polling, logPath, "sse", "SSE polling-only"));
  }
  return figures;
}

/** `tail -n0 -F`, the baseline: stdout is the client. */
class Tail implements Client {
  readonly tally: Tally = new Tally("lines", true);
  readonly #child: Deno.ChildProcess;
  readonly #pumping: Promise<void>;

  constructor(path: string) {
    this.#child = new Deno.Command("tail", {
      args: ["-n0", "-F", path],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    liveChildren.add(this.#child);
    const reader = this.#child.stdout.getReader();
    const read = async () => {
      const { done, value } = await reader.read();
      return done ? null : value;
    };
    // stdout ends when tail is killed: nothing to tell apart from an error there.
    this.#pumping = pump(read, this.tally, () => true);
  }

  /**
   * Lines written before tail opened the file are never shown: write probes until one
   * comes through, then let stragglers arrive and start counting from zero.
   */
  async following(path: string): Promise<void> {
    using file = await Deno.open(path, { append: true });
    let probes = 0;
    await waitFor(() => {
      if (this.tally.entries > 0) return true;
      file.writeSync(encoder.encode("INFO probe\n"));
      probes++;
      return false;
    }, { timeoutMs: 10_000, message: "tail -F showed no line within 10 s", intervalMs: 50 });
    // Probes written before tail opened the file never come; the rest are let through.
    await waitFor(() => this.tally.entries >= probes, { timeoutMs: 1000, intervalMs: 10 }).catch(
      () => {},
    );
    this.tally.entries = 0;
    this.tally.latencies.length = 0;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await stopChild(this.#child, STOP_TIMEOUT_MS);
    await this.#pumping;
  }
}

/** The baseline's throughput and latency, with the same writers as LogWisp's runs. */
async function tailRun(dir: string, payload: Uint8Array): Promise<Figures> {
  const path = `${dir}/tail.log`;
  Deno.writeFileSync(path, new Uint8Array());
  await using tail = new Tail(path);
  await tail.following(path);
  tail.tally.stamps = false;
  const startedAt = await writeBurst(path, payload);
  await waitFor(() => tail.tally.entries >= THROUGHPUT_LINES, {
    timeoutMs: DELIVERY_TIMEOUT_MS,
    message: () =>
      `tail -F showed ${tail.tally.entries} of ${THROUGHPUT_LINES} lines within ${
        DELIVERY_TIMEOUT_MS / 1000
      } s`,
  });
  const seconds = (tail.tally.lastAt - startedAt) / 1000;
  const figures: Figures = {
    "tail -F throughput (lines/s)": tail.tally.entries / seconds,
    "tail -F throughput (input MB/s)": payload.length / 1e6 / seconds,
  };
  tail.tally.stamps = true;
  const written = await writePaced(path);
  await settle(tail.tally, written);
  return { ...figures, ...latencyFigures("tail -F", tail.tally.latencies, written) };
}

/** Spawn to the HTTP port accepting a connection, `STARTUP_SAMPLES` times (a warm cache). */
async function startupTimes(dir: string): Promise<number[]> {
  const logPath = `${dir}/startup.log`;
  Deno.writeFileSync(logPath, new Uint8Array());
  const times: number[] = [];
  for (let i = 0; i < STARTUP_SAMPLES; i++) {
    await using logwisp = new LogWisp(dir, (http, tcp) => configText(logPath, http, tcp, true));
    await waitFor(async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: logwisp.httpPort })).close();
        return true;
      } catch {
        return false;
      }
    }, {
      timeoutMs: 30_000,
      message: () =>
        `LogWisp's HTTP port did not accept a connection within 30 s; stderr:\n${logwisp.stderr}`,
      intervalMs: STARTUP_POLL_MS,
    });
    times.push(performance.now() - logwisp.spawnedAt);
  }
  return times;
}

// ---------------------------------------------------------------------------------------
// Report.

/** Rows in print order; figures not listed here are appended after them. */
const ROW_ORDER = [
  "TCP throughput (entries/s)",
  "TCP throughput (input MB/s)",
  `TCP dropped entries (of ${THROUGHPUT_LINES})`,
  "SSE throughput (entries/s)",
  "SSE throughput (input MB/s)",
  `SSE dropped entries (of ${THROUGHPUT_LINES})`,
  "tail -F throughput (lines/s)",
  "tail -F throughput (input MB/s)",
  "TCP latency p50 (ms)",
  "TCP latency p99 (ms)",
  "TCP latency max (ms)",
  "TCP latency lines lost",
  "SSE latency p50 (ms)",
  "SSE latency p99 (ms)",
  "SSE latency max (ms)",
  "SSE latency lines lost",
  "tail -F latency p50 (ms)",
  "tail -F latency p99 (ms)",
  "tail -F latency max (ms)",
  "tail -F latency lines lost",
  STARTUP_ROW,
  "Shutdown on SIGTERM (ms)",
];

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Large figures as whole numbers with separators, small ones with two decimals. */
function format(value: number): string {
  const digits = Math.abs(value) >= 1000 || Number.isInteger(value) ? 0 : 2;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** The markdown table: median and min–max of every figure over the runs. */
export function table(samples: Map<string, number[]>): string {
  const names = [
    ...ROW_ORDER.filter((name) => samples.has(name)),
    ...[...samples.keys()].filter((name) => !ROW_ORDER.includes(name)),
  ];
  const rows = names.map((name) => {
    const values = samples.get(name)!;
    return [
      name,
      format(median(values)),
      `${format(Math.min(...values))}–${format(Math.max(...values))}`,
    ];
  });
  const header = ["figure", "median", "min–max"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `| ${
      cells.map((cell, i) => i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)).join(
        " | ",
      )
    } |`;
  const rule = `|${
    widths.map((w, i) => i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`).join("|")
  }|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/** A command's stdout, or undefined when it cannot run or fails. */
async function outputOf(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { success, stdout } = await new Deno.Command(command, {
      args,
      cwd: repoRoot,
      stdin: "null",
      stderr: "null",
    }).output();
    return success ? new TextDecoder().decode(stdout) : undefined;
  } catch {
    return undefined;
  }
}

/** The first line of a command's stdout, or "unknown". */
async function firstLine(command: string, args: string[]): Promise<string> {
  return (await outputOf(command, args))?.split("\n")[0]?.trim() || "unknown";
}

/** Date, Deno, CPU, cores and commit: what the figures depend on. */
export async function environment(): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const cpu = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  const commit = await firstLine("git", ["rev-parse", "--short", "HEAD"]);
  // Others may be editing the tree: say so, the figures are then not of the commit alone.
  const dirty = ((await outputOf("git", ["status", "--porcelain"])) ?? "").trim() !== "";
  return [
    new Date().toISOString(),
    await firstLine(Deno.execPath(), ["--version"]),
    `CPU ${cpu}`,
    `${navigator.hardwareConcurrency} cores`,
    `commit ${commit}${dirty ? " (with uncommitted changes)" : ""}`,
  ].join(" · ");
}

/** `BENCH_RUNS`, a positive integer, default `fallback`. */
export function runCount(fallback = 3): number {
  const value = Deno.env.get("BENCH_RUNS") ?? String(fallback);
  const runs = Number(value);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`BENCH_RUNS must be a positive integer, got "${value}"`);
  }
  return runs;
}

/** Every run's value of each figure, in the order figures first appear. */
export function sampler(): { samples: Map<string, number[]>; add: (figures: Figures) => void } {
  const samples = new Map<string, number[]>();
  const add = (figures: Figures) => {
    for (const [name, value] of Object.entries(figures)) {
      samples.set(name, [...(samples.get(name) ?? []), value]);
    }
  };
  return { samples, add };
}

async function main(): Promise<void> {
  const runs = runCount();
  Deno.addSignalListener("SIGINT", onInterrupt);
  const began = performance.now();
  const { samples, add } = sampler();
  const header = await environment();
  const payload = throughputPayload(THROUGHPUT_LINES);
  try {
    await using tmp = await tempDir();
    for (let run = 1; run <= runs; run++) {
      const dir = `${tmp.path}/run-${run}`;
      await Deno.mkdir(dir);
      note(`run ${run}/${runs}: LogWisp…`);
      add(await logwispRun(dir, payload));
      note(`run ${run}/${runs}: tail -F…`);
      add(await tailRun(dir, payload));
      // Each run leaves 60 MB of log behind: free it before the next.
      await Deno.remove(dir, { recursive: true });
    }
    note("startup…");
    samples.set(STARTUP_ROW, await startupTimes(tmp.path));
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  print(`LogWisp end-to-end benchmark · ${header}`);
  print(
    `${runs} run(s); throughput: ${THROUGHPUT_LINES.toLocaleString("en-US")} lines of ` +
      `${LINE_BYTES} B in ~1 MiB writes, MB = 10^6 B; latency: ${LATENCY_RATE} lines/s for ` +
      `${LATENCY_MS / 1000} s; LogWisp polls every 100 ms, with fs events on except in the ` +
      `polling-only rows (fs_events = false)`,
  );
  print("");
  print(table(samples));
  print("");
  print(`Benchmark took ${((performance.now() - began) / 1000).toFixed(1)} s.`);
}

if (import.meta.main) await main();
