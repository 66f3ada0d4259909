/**
 * A name in a followed directory swapped between a file and a link to a secret as fast as a
 * shell can: Deno resolves links itself when it opens a file, after LogWisp looked at the
 * name, so only the file's identity shows what was opened. None of the opens may read the
 * secret (README "Security").
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "../src/_test_utils.ts";
import { ROOT } from "./_cli.ts";

Deno.test("a name swapped between a file and a link outside --allow-read never opens the link", async () => {
  await using dir = await tempDir("logwisp_race_");
  const logs = join(dir.path, "logs");
  await Deno.mkdir(logs);
  await Deno.writeTextFile(join(dir.path, "secret"), "secret\n");
  const swapper = new Deno.Command("bash", {
    args: [
      "-c",
      'cd "$1"; while :; do echo normal > f.tmp; mv -f f.tmp app.log; ' +
      "ln -sf ../secret l.tmp; mv -fT l.tmp app.log; done",
      "swap",
      logs,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${logs},${ROOT}`,
        `${ROOT}src/monitor/testdata/open_race.ts`,
        join(logs, "app.log"),
        "3000",
      ],
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const { leaks, opened } = JSON.parse(new TextDecoder().decode(stdout));
    assert.ok(opened > 0, "the file was opened at times");
    assert.equal(leaks, 0);
  } finally {
    swapper.kill();
    await swapper.status;
  }
});
