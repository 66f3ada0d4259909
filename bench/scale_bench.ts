/**
 * Scale benchmark of the real CLI: fan-out of a steady line rate to 200 clients, memory per
 * idle SSE client, and idle CPU with 1,000 watched files. Prints a markdown table of medians
 * over `BENCH_RUNS` runs (default 1: each run is heavy); it never asserts on any figure.
 *
 *   deno run -A bench/scale_bench.ts
 *
 * `BENCH_IDLE_CLIENTS` (default 10,000) sets the idle-client count; it is capped to the soft
 * open-file limit minus 200, which LogWisp inherits from this process.
 *
 * @module
 */

import {
  type Client,
  environment,
  type Figures,
  LogWisp,
  median,
  note,
  onInterrupt,
  print,
  runCount,
  sampler,
  sleep,
  sseClient,
  table,
  tcpClient,
  tempDir,
  waitFor,
  wallNow,
} from "./e2e_bench.ts";

/** Fan-out: clients of each transport. */
const FANOUT_CLIENTS_PER_TRANSPORT = 100;
/** Fan-out: lines written per second... */
const FANOUT_RATE = 10_000;
/** ...for this long... */
const FANOUT_MS = 10_000;
/** ...in writes this far apart. */
const FANOUT_TICK_MS = 10;
/** Bytes per fan-out line, newline included. */
const LINE_BYTES = 100;
/** Idle clients asked for when `BENCH_IDLE_CLIENTS` is not set. */
const IDLE_CLIENTS_DEFAULT = 10_000;
/** File descriptors kept free below the soft limit, for each process. */
const FD_RESERVE = 200;
/** Idle clients are held this long (past one 5 s heartbeat) before RSS is read. */
const IDLE_HOLD_MS = 6000;
/** Idle clients connect this many at a time. */
const CONNECT_BATCH = 250;
/** Files in the watched directory. */
const MANY_FILES = 1000;
/** Idle CPU is measured this long after startup settles... */
const MANY_FILES_SETTLE_MS = 2000;
/** ...for this long. */
const MANY_FILES_IDLE_MS = 10_000;
/** Single appends timed across the files, one every `APPEND_GAP_MS`. */
const APPENDS = 20;
const APPEND_GAP_MS = 100;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ). */
const CLOCK_TICKS = 100;

const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------
// The process under test, read through /proc.

/** utime + stime of `pid`, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line; field 3 is fields[0] here.
  return Number(fields[11]) + Number(fields[12]);
}

/** Percent of one core that `pid` used over `run()`. */
async function cpuPercent(pid: number, run: () => Promise<unknown>): Promise<number> {
  const ticks = cpuTicks(pid);
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  return ((cpuTicks(pid) - ticks) / CLOCK_TICKS / seconds) * 100;
}

/** Resident set size of `pid`, in KiB. */
function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`No VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/** HTTP (and TCP, when `tcp`) servers on the given ports, for a stream of `monitor`. */
function configText(
  monitor: string,
  httpPort: number,
  tcpPort: number,
  options: { tcp: boolean; heartbeat: boolean },
): string {
  return `[[streams]]
name = "scale"
[streams.monitor]
check_interval_ms = 100
${monitor}
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${httpPort}
buffer_size = 10000
${options.heartbeat ? "[streams.httpserver.heartbeat]\nenabled = true\ninterval_seconds = 5\n" : ""}
[streams.tcpserver]
enabled = ${options.tcp}
host = "127.0.0.1"
port = ${tcpPort}
buffer_size = 10000
`;
}

// ---------------------------------------------------------------------------------------
// Row 1: fan-out.

/** Appends `FANOUT_RATE` lines/s for `FANOUT_MS`, whatever is due every `FANOUT_TICK_MS`. */
async function writeSteady(path: string): Promise<number> {
  using file = await Deno.open(path, { append: true });
  const total = (FANOUT_RATE * FANOUT_MS) / 1000;
  const line = "INFO fanout line ".padEnd(LINE_BYTES - 1, "x") + "\n";
  const startedAt = performance.now();
  for (let sent = 0; sent < total;) {
    const due = Math.min(total, Math.floor(((performance.now() - startedAt) * FANOUT_RATE) / 1000));
    if (due > sent) {
      const bytes = encoder.encode(line.repeat(due - sent));
      for (let written = 0; written < bytes.length;) {
        written += file.writeSync(bytes.subarray(written));
      }
      sent = due;
    }
    await sleep(FANOUT_TICK_MS);
  }
  return total;
}

async function fanout(dir: string): Promise<Figures> {
  const logPath = `${dir}/fanout.log`;
  Deno.writeFileSync(logPath, new Uint8Array());
  const monitor = `targets = [{ path = ${JSON.stringify(logPath)}, is_file = true }]`;
  await using server = await LogWisp.start(
    dir,
    (http, tcp) => configText(monitor, http, tcp, { tcp: true, heartbeat: false }),
  );
  const clients: Client[] = [];
  try {
    for (let i = 0; i < FANOUT_CLIENTS_PER_TRANSPORT; i++) {
      clients.push(await sseClient(server.httpPort, false));
      clients.push(await tcpClient(server.tcpPort, false));
    }
    const count = clients.length;
    await server.awaitStatus(
      (s) => s.delivery.clients.length === count,
      30_000,
      `${count} clients`,
    );
    // SSE tallies start at -1 for the `connected` event: wait until every one has it.
    await waitFor(() => clients.every((c) => c.tally.entries === 0), {
      timeoutMs: 10_000,
      message: "connected events",
    });
    const before = (await server.status()).monitor.dropped_entries;
    const startedAt = performance.now();
    let written = 0;
    const cpu = await cpuPercent(server.pid, async () => written = await writeSteady(logPath));
    // Let the queues drain: done once every entry not dropped has arrived, or nothing moves.
    const received = () => clients.reduce((sum, c) => sum + c.tally.entries, 0);
    let dropped = 0;
    let seen = -1;
    let still = 0;
    await waitFor(async () => {
      const status = await server.status();
      dropped = status.monitor.dropped_entries - before;
      const now = received();
      still = now === seen ? still + 1 : 0;
      seen = now;
      return now >= written * count - dropped || still >= 10;
    }, { timeoutMs: 60_000, message: "Fan-out entries kept arriving for 60 s", intervalMs: 200 });
    const lastAt = Math.max(...clients.map((c) => c.tally.lastAt));
    const rss = rssKiB(server.pid) / 1024;
    return {
      "Fan-out: deliveries/s (200 clients, 10,000 lines/s)": received() /
        ((lastAt - startedAt) / 1000),
      "Fan-out: entries missing (written × clients − received)": written * count - received(),
      "Fan-out: dropped entries (status)": dropped,
      "Fan-out: LogWisp CPU during the 10 s (% of one core)": cpu,
      "Fan-out: LogWisp RSS at end (MiB)": rss,
    };
  } finally {
    await Promise.all(clients.map((c) => c[Symbol.asyncDispose]()));
  }
}

// ---------------------------------------------------------------------------------------
// Row 2: idle SSE clients.

/** The soft open-file limit, as a shell started from here sees it. */
async function openFileLimit(): Promise<number> {
  const { stdout } = await new Deno.Command("bash", { args: ["-c", "ulimit -n"] }).output();
  const text = new TextDecoder().decode(stdout).trim();
  return text === "unlimited" ? Infinity : Number(text);
}

/** How many idle clients to open, and the label saying why. */
async function idleCount(): Promise<{ count: number; label: string }> {
  const value = Deno.env.get("BENCH_IDLE_CLIENTS") ?? String(IDLE_CLIENTS_DEFAULT);
  const wanted = Number(value);
  if (!Number.isInteger(wanted) || wanted < 1) {
    throw new Error(`BENCH_IDLE_CLIENTS must be a positive integer, got "${value}"`);
  }
  const limit = await openFileLimit();
  const cap = limit - FD_RESERVE;
  const count = Math.min(wanted, cap);
  return {
    count,
    label: `${count.toLocaleString("en-US")} clients, cap ${
      cap.toLocaleString("en-US")
    } = ulimit -n ${limit} − ${FD_RESERVE}`,
  };
}

/** A raw SSE request whose response is read once (the first chunk) and then left alone. */
async function idleClient(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    const first = await conn.read(new Uint8Array(4096));
    if (first === null) throw new Error("LogWisp closed an idle SSE connection at once");
    return conn;
  } catch (error) {
    conn.close();
    throw error;
  }
}

async function idleClients(dir: string): Promise<Figures> {
  const { count, label } = await idleCount();
  const logPath = `${dir}/idle.log`;
  Deno.writeFileSync(logPath, new Uint8Array());
  const monitor = `targets = [{ path = ${JSON.stringify(logPath)}, is_file = true }]`;
  await using server = await LogWisp.start(
    dir,
    (http, tcp) => configText(monitor, http, tcp, { tcp: false, heartbeat: true }),
  );
  await sleep(1000);
  const before = rssKiB(server.pid);
  const conns: Deno.TcpConn[] = [];
  try {
    const started = performance.now();
    for (let opened = 0; opened < count; opened += CONNECT_BATCH) {
      const batch = Math.min(CONNECT_BATCH, count - opened);
      conns.push(
        ...await Promise.all(Array.from({ length: batch }, () => idleClient(server.httpPort))),
      );
    }
    await server.awaitStatus(
      (s) => s.server.active_clients === count,
      120_000,
      `${count} active SSE clients`,
    );
    const connectSeconds = (performance.now() - started) / 1000;
    await sleep(IDLE_HOLD_MS);
    const after = rssKiB(server.pid);
    const active = (await server.status()).server.active_clients;
    return {
      [`Idle SSE (${label}): RSS before (MiB)`]: before / 1024,
      [`Idle SSE (${label}): RSS after 6 s held (MiB)`]: after / 1024,
      [`Idle SSE (${label}): KiB per client`]: (after - before) / count,
      [`Idle SSE (${label}): active after 6 s held (status)`]: active,
      [`Idle SSE (${label}): time to connect all (s)`]: connectSeconds,
    };
  } finally {
    for (const conn of conns) conn.close();
  }
}

// ---------------------------------------------------------------------------------------
// Row 3: many watched files.

async function manyFiles(dir: string): Promise<Figures> {
  const logDir = `${dir}/many`;
  await Deno.mkdir(logDir);
  const paths: string[] = [];
  for (let i = 0; i < MANY_FILES; i++) {
    const path = `${logDir}/file-${String(i).padStart(4, "0")}.log`;
    Deno.writeTextFileSync(path, `INFO ${i} one\nINFO ${i} two\nINFO ${i} three\n`);
    paths.push(path);
  }
  const monitor = `targets = [{ path = ${JSON.stringify(logDir)}, pattern = "*.log" }]`;
  await using server = await LogWisp.start(
    dir,
    (http, tcp) => configText(monitor, http, tcp, { tcp: true, heartbeat: false }),
  );
  await sleep(MANY_FILES_SETTLE_MS);
  const watchers = (await server.status()).monitor.active_watchers;
  const cpu = await cpuPercent(server.pid, () => sleep(MANY_FILES_IDLE_MS));
  const rss = rssKiB(server.pid) / 1024;
  await using client = await tcpClient(server.tcpPort, true);
  await server.awaitStatus((s) => s.delivery.clients.length === 1, 10_000, "1 TCP client");
  for (let i = 0; i < APPENDS; i++) {
    const path = paths[(i * 37) % paths.length]!;
    using file = await Deno.open(path, { append: true });
    file.writeSync(encoder.encode(`INFO latency ${wallNow().toFixed(3)}\n`));
    await sleep(APPEND_GAP_MS);
  }
  await waitFor(() => client.tally.latencies.length >= APPENDS, { timeoutMs: 5000, intervalMs: 20 })
    .catch(() => {});
  return {
    "1,000 files: active watchers (status, 2 s after ready)": watchers,
    "1,000 files: LogWisp CPU idle over 10 s (% of one core)": cpu,
    "1,000 files: LogWisp RSS (MiB)": rss,
    "1,000 files: append-to-receipt latency, median of 20 (ms)": median(client.tally.latencies),
    "1,000 files: appends not received (of 20)": APPENDS - client.tally.latencies.length,
  };
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  // Heavy rows: one run unless asked for more.
  const runs = runCount(1);
  Deno.addSignalListener("SIGINT", onInterrupt);
  const began = performance.now();
  const { samples, add } = sampler();
  const header = await environment();
  try {
    await using tmp = await tempDir();
    for (let run = 1; run <= runs; run++) {
      for (
        const [name, measure] of [["fan-out", fanout], ["idle clients", idleClients], [
          "many files",
          manyFiles,
        ]] as const
      ) {
        note(`run ${run}/${runs}: ${name}…`);
        const dir = `${tmp.path}/run-${run}-${name.replace(" ", "-")}`;
        await Deno.mkdir(dir);
        add(await measure(dir));
        await Deno.remove(dir, { recursive: true });
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  print(`LogWisp scale benchmark · ${header}`);
  print(
    `${runs} run(s); fan-out: ${FANOUT_CLIENTS_PER_TRANSPORT} SSE + ` +
      `${FANOUT_CLIENTS_PER_TRANSPORT} TCP clients, ${
        FANOUT_RATE.toLocaleString("en-US")
      } lines/s of ${LINE_BYTES} B for ${FANOUT_MS / 1000} s in ${FANOUT_TICK_MS} ms ticks, ` +
      `buffer_size 10000; idle: raw SSE connections, heartbeat every 5 s, held ${
        IDLE_HOLD_MS / 1000
      } s; many files: ${MANY_FILES} files, check_interval_ms 100; CPU from /proc/<pid>/stat ` +
      `(utime+stime), RSS from VmRSS`,
  );
  print("");
  print(table(samples));
  print("");
  print(`Benchmark took ${((performance.now() - began) / 1000).toFixed(1)} s.`);
}

if (import.meta.main) await main();
