/**
 * Opens `Deno.args[0]` with `TailFile.open` again and again for `Deno.args[1]` ms while
 * something swaps that name between a file and a link to a secret; prints how often the
 * secret was read. Run with `--allow-read` narrowed to the file's directory and this repo.
 *
 * @module
 */
import { TailFile } from "../tail_file.ts";

const [path, duration] = Deno.args;
let leaks = 0;
let opened = 0;
const end = Date.now() + Number(duration);
const buffer = new Uint8Array(64);
while (Date.now() < end) {
  try {
    const { file } = await TailFile.open(path!);
    const count = (await file.read(buffer)) ?? 0;
    file.close();
    opened++;
    if (new TextDecoder().decode(buffer.subarray(0, count)).startsWith("secret")) leaks++;
  } catch {
    // Refused or changed meanwhile: what the swap is expected to cause.
  }
}
// deno-lint-ignore no-console
console.log(JSON.stringify({ leaks, opened }));
