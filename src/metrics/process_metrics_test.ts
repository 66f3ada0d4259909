import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { waitFor } from "../_test_utils.ts";
import { VERSION } from "../version.ts";
import { Exposition } from "./exposition.ts";
import { addProcessMetrics } from "./process_metrics.ts";
import { parseSamples } from "./testdata/logwisp_sample.ts";

const PRINTER = fileURLToPath(new URL("./testdata/print_process_metrics.ts", import.meta.url));

async function scrape(): Promise<Map<string, number>> {
  const exposition = new Exposition();
  await addProcessMetrics(exposition);
  return valuesOf(exposition.text());
}

function valuesOf(text: string): Map<string, number> {
  return new Map(
    parseSamples(text).map((sample) => [
      sample.labels === "" ? sample.name : `${sample.name}{${sample.labels}}`,
      sample.value,
    ]),
  );
}

/**
 * Runs the printer under `permissions`, waits until `delayMs` after it is loaded, then has
 * it scrape; returns the spawn time, its ready time and the samples.
 */
async function scrapeChild(
  permissions: string[],
  options: { delayMs?: number; maxFds?: number } = {},
): Promise<{ spawnedMs: number; readyMs: number; values: Map<string, number> }> {
  const delayMs = options.delayMs ?? 0;
  const spawnedMs = Date.now();
  const deno = [Deno.execPath(), "run", "--no-prompt", ...permissions, PRINTER];
  const [command, ...args] = options.maxFds === undefined
    ? deno
    : ["sh", "-c", `ulimit -n ${options.maxFds} && exec "$@" --exhaust-fds`, "sh", ...deno];
  const child = new Deno.Command(command!, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const errors = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    text += value;
  }
  const readyMs = JSON.parse(text.slice(0, text.indexOf("\n"))).ready as number;
  await waitFor(() => Date.now() >= readyMs + delayMs, { timeoutMs: delayMs + 10_000 });
  const stdin = child.stdin.getWriter();
  await stdin.write(new TextEncoder().encode("scrape\n"));
  await stdin.close();
  for (let read = await lines.read(); !read.done; read = await lines.read()) text += read.value;
  const { code } = await child.status;
  assert.equal(code, 0, await errors);
  return { spawnedMs, readyMs, values: valuesOf(text.slice(text.indexOf("\n") + 1)) };
}

const BUILD_INFO = `logwisp_build_info{version="${VERSION}",deno="${Deno.version.deno}"}`;

Deno.test("addProcessMetrics: memory, CPU, start time and build info, in this process", async () => {
  const first = await scrape();
  let spin = 0;
  const until = performance.now() + 20;
  while (performance.now() < until) spin++;
  const second = await scrape();
  assert.ok(spin > 0);
  assert.ok(first.get("process_resident_memory_bytes")! > 10 * 2 ** 20);
  assert.ok(first.get("process_cpu_seconds_total")! > 0);
  assert.ok(second.get("process_cpu_seconds_total")! > first.get("process_cpu_seconds_total")!);
  assert.equal(first.get("process_start_time_seconds"), performance.timeOrigin / 1000);
  assert.equal(second.get("process_start_time_seconds"), first.get("process_start_time_seconds"));
  assert.equal(first.get(BUILD_INFO), 1);
});

Deno.test("Under --allow-read=/var/log --allow-net everything but process_open_fds is known", async () => {
  const { values } = await scrapeChild(["--allow-read=/var/log", "--allow-net"]);
  assert.deepEqual([...values.keys()].sort(), [
    BUILD_INFO,
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
  ]);
});

Deno.test("A read grant of /proc/self/fd is not enough: Deno wants --allow-all for /proc", async () => {
  const { values } = await scrapeChild(["--allow-read=/proc/self/fd,/proc/self/stat"]);
  assert.equal(values.has("process_open_fds"), false);
  assert.ok(values.has("process_resident_memory_bytes"));
});

Deno.test("Under --allow-all process_open_fds counts the entries of /proc/self/fd", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  const { values } = await scrapeChild(["--allow-all"]);
  // At least stdin, stdout, stderr and the directory being read.
  assert.ok(values.get("process_open_fds")! >= 4, `${values.get("process_open_fds")}`);
});

Deno.test("With no descriptor left, what cannot be read is left out, not written as 0", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  const { values } = await scrapeChild(["--allow-all"], { maxFds: 64 });
  assert.deepEqual([...values.keys()].sort(), [
    BUILD_INFO,
    "process_cpu_seconds_total",
    "process_start_time_seconds",
  ]);
});

Deno.test("process_start_time_seconds is when the process started, not when it was scraped", async () => {
  const { spawnedMs, readyMs, values } = await scrapeChild(["--allow-read=/var/log"], {
    delayMs: 1000,
  });
  const start = values.get("process_start_time_seconds")! * 1000;
  // Wall-clock readings in two processes: a few ms apart at most. The scrape came a second
  // after `readyMs`.
  assert.ok(start >= spawnedMs - 5, `started ${start}, spawned ${spawnedMs}`);
  assert.ok(start <= readyMs, `started ${start}, ready ${readyMs}`);
});
