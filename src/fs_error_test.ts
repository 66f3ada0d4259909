import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./_test_utils.ts";
import { fsErrorReason } from "./fs_error.ts";

Deno.test("fsErrorReason() gives a short reason without Deno's os-error tail", async () => {
  await using tmp = await tempDir("logwisp_fs_error_");
  const loop = join(tmp.path, "loop");
  await Deno.symlink(loop, loop);
  const reasonOf = (action: () => unknown) => {
    try {
      action();
    } catch (error) {
      return fsErrorReason(error);
    }
    assert.fail("expected an error");
  };
  assert.equal(reasonOf(() => Deno.readFileSync(join(tmp.path, "none"))), "it does not exist");
  assert.equal(reasonOf(() => Deno.readFileSync(tmp.path)), "it is a directory");
  assert.equal(reasonOf(() => Deno.statSync(loop)), "too many levels of symbolic links");
  assert.equal(reasonOf(() => Deno.statSync(join(loop, "x"))), "too many levels of symbolic links");
  assert.equal(
    fsErrorReason(new Deno.errors.PermissionDenied("Permission denied (os error 13): open '/x'")),
    "permission denied",
  );
  assert.equal(
    fsErrorReason(new Error("No space left on device (os error 28)")),
    "no space left on device",
  );
});
