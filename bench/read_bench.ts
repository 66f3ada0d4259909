/**
 * How fast the monitor reads and parses a large file: 1,000,000 lines (plain text and JSON,
 * about 100 bytes each) followed from the beginning, timed from start to the last entry.
 * Prints figures; asserts nothing.
 *
 * @module
 */
import { join } from "node:path";
import { Monitor } from "../src/monitor/monitor.ts";

const LINES = 1_000_000;
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);

// deno-lint-ignore no-console
const print = (line: string) => console.log(line);

/** A file of `LINES` lines of about 100 bytes, plain or JSON. */
async function writeFile(path: string, kind: "plain" | "json"): Promise<number> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let bytes = 0;
  for (let start = 0; start < LINES; start += 10_000) {
    let text = "";
    for (let i = start; i < start + 10_000; i++) {
      const n = String(i).padStart(7, "0");
      text += kind === "plain"
        ? `2024-01-01T12:00:00.123Z INFO [worker-3] request ${n} served in 12ms path=/api/v1/items\n`
        : `{"time":"2024-01-01T12:00:00.123Z","level":30,"msg":"request ${n}","path":"/api/v1"}\n`;
    }
    const chunk = encoder.encode(text);
    bytes += chunk.length;
    await file.write(chunk);
  }
  return bytes;
}

/** Seconds from starting a monitor on `path` to its last entry. */
async function readAll(path: string): Promise<number> {
  const controller = new AbortController();
  let seen = 0;
  const done = Promise.withResolvers<void>();
  const start = performance.now();
  const monitor = await Monitor.start({
    config: {
      checkIntervalMs: 100,
      targets: [{ path, pattern: "*", isFile: true }],
      readFrom: "beginning",
      maxLineBytes: 1024 * 1024,
      fsEvents: false,
    },
    onEntries: (entries) => {
      seen += entries.length;
      if (seen >= LINES) done.resolve();
    },
    signal: controller.signal,
  });
  await done.promise;
  const seconds = (performance.now() - start) / 1000;
  controller.abort();
  await monitor.finished;
  return seconds;
}

const dir = await Deno.makeTempDir({ prefix: "logwisp_read_bench_" });
try {
  print(`| file (${LINES.toLocaleString("en")} lines) | lines/s (median) | min–max | MB/s |`);
  print("| --- | --- | --- | --- |");
  for (const kind of ["plain", "json"] as const) {
    const path = join(dir, `${kind}.log`);
    const bytes = await writeFile(path, kind);
    const rates: number[] = [];
    for (let run = 0; run < RUNS; run++) rates.push(LINES / await readAll(path));
    rates.sort((a, b) => a - b);
    const median = rates[Math.floor(rates.length / 2)]!;
    const mb = (median * bytes / LINES) / 1e6;
    const k = (n: number) => `${Math.round(n / 1000).toLocaleString("en")}k`;
    print(`| ${kind} | ${k(median)} | ${k(rates[0]!)}–${k(rates.at(-1)!)} | ${mb.toFixed(0)} |`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
