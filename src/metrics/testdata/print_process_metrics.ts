/**
 * Prints `{"ready": <ms>}` once loaded, waits for a line on stdin, then prints the process
 * metrics: run under the permissions a test wants to check. With `--exhaust-fds` it opens
 * files until none is left before that scrape (and after a first one, which loads what the
 * scrape needs).
 *
 * @module
 */
import { Exposition } from "../exposition.ts";
import { addProcessMetrics } from "../process_metrics.ts";

const encoder = new TextEncoder();
await Deno.stdout.write(encoder.encode(`${JSON.stringify({ ready: Date.now() })}\n`));
for await (const chunk of Deno.stdin.readable) {
  if (chunk.includes(10)) break;
}
const held: Deno.FsFile[] = [];
if (Deno.args.includes("--exhaust-fds")) {
  await addProcessMetrics(new Exposition());
  try {
    for (;;) held.push(Deno.openSync(import.meta.filename!));
  } catch {
    // No descriptor left.
  }
}
const exposition = new Exposition();
await addProcessMetrics(exposition);
for (const file of held) file.close();
await Deno.stdout.write(encoder.encode(exposition.text()));
