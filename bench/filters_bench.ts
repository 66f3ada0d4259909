/**
 * Benchmark of filters, transforms and WebSocket through the real CLI: throughput to one
 * WebSocket client beside one SSE client, fan-out of 10,000 lines/s to 100 SSE clients each
 * with its own `grep` beside 100 unfiltered ones (CPU and drops), and throughput to one TCP
 * client with every redaction detector on beside off. Prints a table; never asserts.
 *
 *   deno run -A --v8-flags=... bench/filters_bench.ts
 *
 * @module
 */

import {
  type Client,
  LogWisp,
  print,
  sleep,
  sseClient,
  tcpClient,
  tempDir,
  waitFor,
} from "./e2e_bench.ts";

const BURST_LINES = 200_000;
const LINE_BYTES = 100;
const FANOUT_CLIENTS = 100;
const FANOUT_RATE = 10_000;
const FANOUT_MS = 10_000;
const CLOCK_TICKS = 100;
const encoder = new TextEncoder();

/** Where measured figures go: a name and its value. */
interface Rows {
  push(row: [string, string]): void;
}

function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function config(logPath: string, transform: string) {
  return (http: number, tcp: number) =>
    `[[streams]]
name = "bench"
[streams.monitor]
check_interval_ms = 100
targets = [{ path = ${JSON.stringify(logPath)}, is_file = true }]
${transform}
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${http}
buffer_size = 10000
max_connections_per_ip = 1024
# Status is polled on a kept-alive connection that may idle through a 10 s run.
header_timeout_seconds = 60
[streams.tcpserver]
enabled = true
host = "127.0.0.1"
port = ${tcp}
buffer_size = 10000
`;
}

/** `count` lines of `LINE_BYTES`, numbered, from `line(i)`. */
function payload(count: number, line: (i: number) => string): Uint8Array {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(line(i).padEnd(LINE_BYTES - 1, "x") + "\n");
  return encoder.encode(lines.join(""));
}

async function writeBurst(path: string, bytes: Uint8Array): Promise<number> {
  using file = await Deno.open(path, { append: true });
  const startedAt = performance.now();
  for (let offset = 0; offset < bytes.length;) {
    offset += await file.write(bytes.subarray(offset, offset + (1 << 20)));
  }
  return startedAt;
}

/** A WebSocket client counting entry messages. */
async function wsClient(port: number, query = ""): Promise<Client & { count(): number }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`);
  const tally = { entries: 0, lastAt: 0 };
  socket.onmessage = (event) => {
    if ((event.data as string).startsWith('{"type":"entry"')) {
      tally.entries++;
      tally.lastAt = performance.now();
    }
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const closed = new Promise((resolve) => socket.onclose = resolve);
  return {
    tally: tally as Client["tally"],
    count: () => tally.entries,
    async [Symbol.asyncDispose]() {
      socket.close();
      await closed;
    },
  };
}

/**
 * A burst of `BURST_LINES` to one client: entries/s from the first write to the last entry
 * received, and how many were dropped for a full queue (they never arrive).
 */
async function burst(
  server: LogWisp,
  logPath: string,
  client: Client,
  bytes: Uint8Array,
): Promise<{ rate: number; dropped: number }> {
  const base = Math.max(0, client.tally.entries);
  const before = await server.status();
  const startedAt = await writeBurst(logPath, bytes);
  let dropped = 0;
  let seen = -1;
  let still = 0;
  await waitFor(async () => {
    const status = await server.status();
    if (status.delivery.last_sequence - before.delivery.last_sequence < BURST_LINES) return false;
    dropped = status.monitor.dropped_entries - before.monitor.dropped_entries;
    const got = client.tally.entries - base;
    still = got === seen ? still + 1 : 0;
    seen = got;
    return got >= BURST_LINES - dropped || still >= 10;
  }, {
    timeoutMs: 120_000,
    message: () => `${client.tally.entries - base} arrived`,
    intervalMs: 100,
  });
  const received = client.tally.entries - base;
  return { rate: received / ((client.tally.lastAt - startedAt) / 1000), dropped };
}

function row(rows: Rows, label: string, result: { rate: number; dropped: number }) {
  rows.push([
    `${label} (entries/s; dropped of ${BURST_LINES})`,
    `${fmt(result.rate)}; ${result.dropped}`,
  ]);
}

async function throughput(dir: string, rows: Rows): Promise<void> {
  const logPath = `${dir}/burst.log`;
  Deno.writeFileSync(logPath, new Uint8Array());
  await using server = await LogWisp.start(dir, config(logPath, ""));
  const bytes = payload(BURST_LINES, (i) => `INFO bench line ${String(i).padStart(6, "0")} `);
  {
    await using ws = await wsClient(server.httpPort);
    await server.awaitClients("ws", 1);
    row(rows, "one WebSocket client (Deno's WebSocket)", await burst(server, logPath, ws, bytes));
  }
  await server.awaitClients("ws", 0);
  {
    await using sse = await sseClient(server.httpPort, false);
    await server.awaitClients("sse", 1);
    row(rows, "one SSE client (fetch)", await burst(server, logPath, sse, bytes));
  }
}

async function redaction(dir: string, rows: Rows): Promise<void> {
  const bytes = payload(
    BURST_LINES,
    (i) => `INFO user ${i}@example.com from 10.0.${i % 250}.7 line ${String(i).padStart(6, "0")} `,
  );
  const variants: [string, string][] = [
    ["redaction off", ""],
    [
      "all 7 redaction detectors on",
      `[streams.transform]\nredact = ["email", "ipv4", "ipv6", "bearer_token", "jwt", "credit_card", "aws_access_key"]`,
    ],
  ];
  for (const [label, transform] of variants) {
    const logPath = `${dir}/redact-${label.length}.log`;
    Deno.writeFileSync(logPath, new Uint8Array());
    await using server = await LogWisp.start(dir, config(logPath, transform));
    await using tcp = await tcpClient(server.tcpPort, false);
    await server.awaitClients("tcp", 1);
    row(rows, `one TCP client, ${label}`, await burst(server, logPath, tcp, bytes));
  }
}

async function fanout(dir: string, rows: Rows, filtered: boolean): Promise<void> {
  const logPath = `${dir}/fanout-${filtered}.log`;
  Deno.writeFileSync(logPath, new Uint8Array());
  await using server = await LogWisp.start(dir, config(logPath, ""));
  const clients: Client[] = [];
  try {
    for (let i = 0; i < FANOUT_CLIENTS; i++) {
      if (!filtered) {
        clients.push(await sseClient(server.httpPort, false));
        continue;
      }
      // Each client its own pattern: lines whose number ends with its two digits (1 %).
      const grep = encodeURIComponent(`line \\d{4}${String(i).padStart(2, "0")} `);
      clients.push(await filteredSse(server.httpPort, `?grep=${grep}`));
    }
    await server.awaitStatus(
      (s) => s.delivery.clients.length === FANOUT_CLIENTS,
      30_000,
      "clients",
    );
    const ticks = cpuTicks(server.pid);
    const startedAt = performance.now();
    const total = (FANOUT_RATE * FANOUT_MS) / 1000;
    {
      using file = await Deno.open(logPath, { append: true });
      for (let sent = 0; sent < total;) {
        const due = Math.min(
          total,
          Math.floor(((performance.now() - startedAt) * FANOUT_RATE) / 1000),
        );
        if (due > sent) {
          const lines: string[] = [];
          for (let i = sent; i < due; i++) {
            lines.push(
              `INFO fanout line ${String(i).padStart(6, "0")} `.padEnd(LINE_BYTES - 1, "x") + "\n",
            );
          }
          file.writeSync(encoder.encode(lines.join("")));
          sent = due;
        }
        await sleep(10);
      }
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const cpu = ((cpuTicks(server.pid) - ticks) / CLOCK_TICKS / seconds) * 100;
    const status = await server.awaitStatus(
      (s) => s.delivery.last_sequence >= total,
      30_000,
      "every line published",
    );
    const label = filtered ? "100 SSE clients, each its own grep" : "100 SSE clients, unfiltered";
    rows.push([`${label}: CPU at 10,000 lines/s (% of one core)`, cpu.toFixed(0)]);
    rows.push([`${label}: dropped entries`, String(status.monitor.dropped_entries)]);
  } finally {
    await Promise.all(clients.map((c) => c[Symbol.asyncDispose]()));
  }
}

/** An SSE client with a query, counting bytes only (a filtered client receives little). */
async function filteredSse(port: number, query: string): Promise<Client> {
  const abort = new AbortController();
  const response = await fetch(`http://127.0.0.1:${port}/stream${query}`, {
    signal: abort.signal,
  });
  const reader = response.body!.getReader();
  const tally = { entries: 0, lastAt: 0 };
  const pumping = (async () => {
    try {
      while (!(await reader.read()).done) tally.lastAt = performance.now();
    } catch {
      // Closed by dispose.
    }
  })();
  return {
    tally: tally as Client["tally"],
    async [Symbol.asyncDispose]() {
      await reader.cancel().catch(() => {});
      abort.abort();
      await pumping;
    },
  };
}

function fmt(value: number): string {
  return `${Math.round(value / 1000)} k`;
}

await using dir = await tempDir();
/** Rows are printed as they are measured. */
const rows = {
  push([name, value]: [string, string]): void {
    print(`| ${name} | ${value} |`);
  },
};
print("| figure | value |\n| --- | --- |");
await throughput(dir.path, rows);
await redaction(dir.path, rows);
await fanout(dir.path, rows, false);
await fanout(dir.path, rows, true);
