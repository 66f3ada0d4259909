/**
 * A log writer for rotation tests, run as its own process so that writing, rotating and
 * reading really race:
 *
 *   deno run --allow-read --allow-write rotating_writer.ts PATH MODE RATE PER_ROTATION ROTATIONS
 *
 * Appends `line 000001` … at RATE lines/s in batches 10 ms apart, and after every
 * PER_ROTATION lines rotates PATH by MODE: `rename` (to PATH.1, then a new PATH), `delete`
 * (then a new PATH), `symlink` (PATH is a symlink swapped to a new PATH.dataN), `copytruncate`
 * (copy to PATH.1, truncate PATH), `truncate`, or `external` (never rotates itself; opens
 * PATH for each batch so that an outside rotator such as logrotate can rename it). Writes
 * (ROTATIONS + 1) × PER_ROTATION lines in all, then prints `{"total":N,"rotatedAfter":[…]}`
 * (the last line number before each rotation) and exits.
 *
 * @module
 */

if (Deno.args.length !== 5) {
  throw new Error("Usage: rotating_writer.ts PATH MODE RATE PER_ROTATION ROTATIONS");
}
const [path, mode, ...numbers] = Deno.args as [string, string, string, string, string];
const [rate, perRotation, rotations] = numbers.map(Number) as [number, number, number];
const batchLines = Math.max(1, Math.round(rate / 100));
const encoder = new TextEncoder();

let dataIndex = 0;
const dataPath = () => `${path}.data${dataIndex}`;

async function open(): Promise<Deno.FsFile> {
  if (mode === "symlink") {
    const file = await Deno.open(dataPath(), { create: true, append: true });
    await Deno.remove(`${path}.tmp`).catch(() => {});
    await Deno.symlink(dataPath(), `${path}.tmp`);
    await Deno.rename(`${path}.tmp`, path);
    return file;
  }
  return await Deno.open(path, { create: true, append: true });
}

async function rotate(file: Deno.FsFile): Promise<Deno.FsFile> {
  switch (mode) {
    case "rename":
      file.close();
      await Deno.rename(path, `${path}.1`);
      return await open();
    case "delete":
      file.close();
      await Deno.remove(path);
      return await open();
    case "symlink":
      file.close();
      dataIndex++;
      return await open();
    case "copytruncate":
      await Deno.copyFile(path, `${path}.1`);
      await Deno.truncate(path, 0);
      return file;
    case "truncate":
      await Deno.truncate(path, 0);
      return file;
    case "external":
      return file;
    default:
      throw new Error(`Unknown mode "${mode}"`);
  }
}

async function writeAll(target: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await target.write(bytes.subarray(done));
}

const total = (rotations + 1) * perRotation;
let file: Deno.FsFile | undefined = mode === "external" ? undefined : await open();
let written = 0;
const rotatedAfter: number[] = [];
// Paced from one batch to the next, never catching up after a stall: a burst of catch-up
// batches would rotate several times within milliseconds, faster than any reader checks.
let batchStart = performance.now();
while (written < total) {
  const wait = batchStart + 10 - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  batchStart = performance.now();
  let text = "";
  for (let i = 0; i < batchLines; i++) {
    text += `line ${String(++written).padStart(6, "0")}\n`;
    if (written % perRotation === 0) break;
  }
  const bytes = encoder.encode(text);
  if (mode === "external") {
    using once = await Deno.open(path, { create: true, append: true });
    await writeAll(once, bytes);
  } else {
    await writeAll(file!, bytes);
  }
  if (written % perRotation === 0 && written < total) {
    rotatedAfter.push(written);
    file = await rotate(file!);
  }
}
file?.close();
Deno.stdout.writeSync(encoder.encode(JSON.stringify({ total: written, rotatedAfter }) + "\n"));
