/**
 * Prints `{"ready": <ms>}` once loaded, waits for a line on stdin, then prints the process
 * metrics: run under the permissions a test wants to check.
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
const exposition = new Exposition();
await addProcessMetrics(exposition);
await Deno.stdout.write(encoder.encode(exposition.text()));
