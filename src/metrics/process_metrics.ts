/**
 * The standard process metrics, as the Prometheus client libraries define them, and
 * `logwisp_build_info`, read at scrape time with no permission beyond LogWisp's own:
 *
 * - `process_resident_memory_bytes`: `Deno.memoryUsage().rss` (which Deno reads from `/proc`
 *   without asking for a permission).
 * - `process_cpu_seconds_total`: user + system time of every thread (`getrusage`, through
 *   `node:process`).
 * - `process_start_time_seconds`: `performance.timeOrigin`, the moment the runtime
 *   started, fixed for the life of the process (about 0.1 s after `exec`).
 * - `process_open_fds`: the entries of `/proc/self/fd`. Deno 2 lets a program read
 *   `/proc` only under `--allow-all`; without it the family is left out rather than guessed.
 *
 * @module
 */
import { VERSION } from "../version.ts";
import { defineCounter, defineGauge, type Exposition, type MetricFamily } from "./exposition.ts";

/** `process_resident_memory_bytes`. */
export const RESIDENT_MEMORY: MetricFamily<"gauge", never> = defineGauge(
  "process_resident_memory_bytes",
  "Resident memory size in bytes.",
);

/** `process_cpu_seconds_total`. */
export const CPU_SECONDS: MetricFamily<"counter", never> = defineCounter(
  "process_cpu_seconds_total",
  "Total user and system CPU time spent in seconds.",
);

/** `process_open_fds`; left out when `/proc/self/fd` cannot be read. */
export const OPEN_FDS: MetricFamily<"gauge", never> = defineGauge(
  "process_open_fds",
  "Number of open file descriptors.",
);

/** `process_start_time_seconds`. */
export const START_TIME: MetricFamily<"gauge", never> = defineGauge(
  "process_start_time_seconds",
  "Start time of the process since unix epoch in seconds.",
);

/** `logwisp_build_info{version,deno}`: always 1; the labels are the information. */
export const BUILD_INFO: MetricFamily<"gauge", "version" | "deno"> = defineGauge(
  "logwisp_build_info",
  "LogWisp's version and the Deno version it runs on; always 1.",
  ["version", "deno"],
);

const FD_DIR = "/proc/self/fd";

/**
 * `node:process` costs ~15 ms to load under Deno: it is loaded by the first scrape, not at
 * startup.
 */
let nodeProcess: Promise<typeof import("node:process")> | undefined;
/** Set once reading `/proc/self/fd` has been refused: permissions do not grow unasked. */
let fdsRefused = false;

/**
 * Adds the process families and `logwisp_build_info` to `exposition`. What cannot be known
 * is left out: `process_open_fds` needs `/proc/self/fd`, which Deno lets a program read
 * only under `--allow-all` (a narrower `--allow-read` grant is not enough), and neither it
 * nor `process_resident_memory_bytes` can be read while the process has no descriptor
 * left.
 */
export async function addProcessMetrics(exposition: Exposition): Promise<void> {
  nodeProcess ??= import("node:process");
  const cpu = (await nodeProcess).cpuUsage();
  const fds = await countOpenFds();
  // Deno reads the RSS from /proc itself and says 0 when it cannot (descriptors exhausted).
  const rss = Deno.memoryUsage().rss;
  exposition
    .add(CPU_SECONDS, {}, (cpu.user + cpu.system) / 1e6)
    .add(START_TIME, {}, performance.timeOrigin / 1000)
    .add(BUILD_INFO, { version: VERSION, deno: Deno.version.deno }, 1);
  if (rss > 0) exposition.add(RESIDENT_MEMORY, {}, rss);
  if (fds !== undefined) exposition.add(OPEN_FDS, {}, fds);
}

async function countOpenFds(): Promise<number | undefined> {
  if (fdsRefused) return undefined;
  // Asking first never prompts; reading an ungranted path could, on a terminal.
  if (Deno.permissions.querySync({ name: "read", path: FD_DIR }).state !== "granted") {
    fdsRefused = true;
    return undefined;
  }
  try {
    let count = 0;
    for await (const _ of Deno.readDir(FD_DIR)) count++;
    return count;
  } catch (error) {
    // NotCapable: granted by --allow-read, still refused for lack of --allow-all.
    // NotFound, PermissionDenied: no procfs (not Linux), or one that hides it.
    fdsRefused = error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied;
    // Anything else (descriptors exhausted, say) leaves this scrape without the count: the
    // other metrics matter most at such a moment.
    return undefined;
  }
}
