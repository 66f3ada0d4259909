/**
 * copytruncate, LogWisp beside `tail -n0 -F`: one writer at 4,000 lines/s, the real
 * logrotate forced 20 times with copytruncate, both readers on the same file in the same
 * run. Lines written after a reader's last read and before the truncation are lost to it
 * unless it finds them in the copy, so the loss measures how far a reader lags behind the
 * writer. LogWisp may lose at most twice what `tail -F` loses, plus two writer batches (80
 * lines of 24,000): where both expect to lose almost nothing, one or two unlucky batches
 * decide a run. It never sends a line twice.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TcpLines, tempDir, waitFor, which } from "../src/_test_utils.ts";
import { freePort, startLogWisp, writeConfig } from "./_logwisp.ts";

const WRITER = fileURLToPath(
  new URL("../src/monitor/testdata/rotating_writer.ts", import.meta.url),
);
const RATE = 4000;
/** The writer writes a batch every 10 ms. */
const BATCH = RATE / 100;
const ROTATIONS = 20;
const TOTAL = 24_000;

/** logrotate lives in /usr/sbin, which is not on every user's PATH. */
const logrotate = which("logrotate") ??
  ["/usr/sbin/logrotate", "/sbin/logrotate"].find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });

Deno.test({
  name: "copytruncate: LogWisp loses at most twice what tail -F loses on the same run",
  ignore: logrotate === undefined || which("tail") === undefined,
  fn: async () => {
    await using dir = await tempDir("logwisp_copytruncate_");
    const log = join(dir.path, "app.log");
    await Deno.writeTextFile(log, "");
    const conf = join(dir.path, "logrotate.conf");
    await Deno.writeTextFile(conf, `${log} {\n  rotate 30\n  nocompress\n  copytruncate\n}\n`);
    const port = freePort();
    const config = await writeConfig(
      dir.path,
      `[[streams]]
name = "app"
[streams.monitor]
targets = [{ path = "${log}", is_file = true }]
[streams.tcpserver]
enabled = true
host = "127.0.0.1"
port = ${port}
buffer_size = 100000
`,
    );
    await using _logwisp = await startLogWisp(["--config", config, "--quiet"]);
    using client = new TcpLines(await Deno.connect({ hostname: "127.0.0.1", port }));
    const tail = new Deno.Command("tail", {
      args: ["-n0", "-F", log],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const tailLines: string[] = [];
    const tailReading = (async () => {
      let partial = "";
      for await (const text of tail.stdout.pipeThrough(new TextDecoderStream())) {
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        tailLines.push(...lines);
      }
    })();
    try {
      // tail says nothing when it starts: lines show when it follows the file.
      await waitFor(async () => {
        await Deno.writeTextFile(log, "ready\n", { append: true });
        return tailLines.includes("ready");
      }, { intervalMs: 100 });
      const logwispLines: string[] = [];
      const reading = (async () => {
        try {
          for (;;) {
            const [line] = await client.take(1);
            if (line === undefined) return;
            logwispLines.push(JSON.parse(line).message);
          }
        } catch {
          // Closed by the test once it has what it needs.
        }
      })();
      await waitFor(() => logwispLines.includes("ready"));

      const writer = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          WRITER,
          log,
          "external",
          String(RATE),
          String(TOTAL),
          "0",
        ],
        stdout: "null",
      }).spawn();
      const state = join(dir.path, "state");
      let rotations = 0;
      while (rotations < ROTATIONS) {
        // Spread over the writer's 6 s; each forced run copies and truncates at once.
        await new Promise((resolve) => setTimeout(resolve, 250));
        const { success } = await new Deno.Command(logrotate!, {
          args: ["--force", "--state", state, conf],
          stderr: "null",
        }).output();
        assert.ok(success, "logrotate runs");
        rotations++;
      }
      assert.ok((await writer.status).success, "the writer finishes");
      const numbers = (lines: readonly string[]) =>
        lines.flatMap((line) => {
          const match = /^line (\d{6})$/.exec(line);
          return match ? [Number(match[1])] : [];
        });
      await waitFor(
        () => numbers(logwispLines).at(-1) === TOTAL && numbers(tailLines).at(-1) === TOTAL,
        {
          timeoutMs: 20_000,
          message: () =>
            `last lines: LogWisp ${numbers(logwispLines).at(-1)}, tail ${
              numbers(tailLines).at(-1)
            }`,
        },
      );
      const ours = numbers(logwispLines);
      const theirs = numbers(tailLines);
      assert.equal(new Set(ours).size, ours.length, "LogWisp sends no line twice");
      assert.ok(ours.every((n, i) => i === 0 || n > ours[i - 1]!), "LogWisp keeps the order");
      const lost = TOTAL - ours.length;
      const tailLost = TOTAL - new Set(theirs).size;
      // deno-lint-ignore no-console
      console.log(
        `copytruncate, ${rotations} forced logrotate runs under ${RATE} lines/s: ` +
          `LogWisp lost ${lost} of ${TOTAL} lines, tail -F lost ${tailLost}`,
      );
      assert.ok(
        lost <= 2 * tailLost + 2 * BATCH,
        `LogWisp lost ${lost} lines, tail -F ${tailLost}`,
      );
      client[Symbol.dispose]();
      await reading;
    } finally {
      tail.kill();
      await tail.status;
      await tailReading;
    }
  },
});
