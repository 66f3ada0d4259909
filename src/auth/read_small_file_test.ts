import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "../_test_utils.ts";
import { readSmallFile } from "./read_small_file.ts";

Deno.test("readSmallFile() reads text and says why it cannot", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "users");
  await Deno.writeTextFile(file, "alice:x\n", { mode: 0o640 });
  await Deno.chmod(file, 0o640);
  const read = await readSmallFile(file);
  assert.ok("text" in read);
  assert.equal(read.text, "alice:x\n");
  assert.equal((read.mode ?? 0) & 0o777, 0o640);

  const big = join(dir.path, "big");
  await Deno.writeTextFile(big, "x".repeat(2049));
  assert.deepEqual(await readSmallFile(big, 2048), {
    error: `Cannot read "${big}": it is larger than 2048 bytes`,
  });
  assert.ok("text" in await readSmallFile(big, 2049));

  const binary = join(dir.path, "binary");
  await Deno.writeFile(binary, new Uint8Array([0xc3, 0x28]));
  assert.deepEqual(await readSmallFile(binary), {
    error: `Cannot read "${binary}": it is not text (invalid UTF-8)`,
  });
  assert.deepEqual(await readSmallFile(dir.path), {
    error: `Cannot read "${dir.path}": it is not a regular file`,
  });
  const missing = join(dir.path, "missing");
  assert.deepEqual(await readSmallFile(missing), {
    error: `Cannot read "${missing}": it does not exist`,
  });
});

Deno.test("readSmallFile() refuses a FIFO or a device without opening it", async () => {
  await using dir = await tempDir();
  const fifo = join(dir.path, "fifo");
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.ok(made.success);
  assert.deepEqual(await readSmallFile(fifo), {
    error: `Cannot read "${fifo}": it is not a regular file`,
  });
  assert.deepEqual(await readSmallFile("/dev/zero"), {
    error: `Cannot read "/dev/zero": it is not a regular file`,
  });
});
