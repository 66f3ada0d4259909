import assert from "node:assert/strict";
import { parseCliArgs, UsageError } from "./args.ts";

Deno.test("parseCliArgs() reads every option of SPEC §1", () => {
  assert.deepEqual(parseCliArgs([]), {
    router: false,
    check: false,
    quiet: false,
    version: false,
    help: false,
  });
  for (
    const args of [
      ["--config", "a.toml"],
      ["--config=a.toml"],
      ["-c", "a.toml"],
      ["-ca.toml"],
    ]
  ) {
    assert.equal(parseCliArgs(args).config, "a.toml", args.join(" "));
  }
  assert.equal(parseCliArgs(["--config=-odd.toml"]).config, "-odd.toml");
  const all = parseCliArgs(["--router", "--check", "--quiet", "--version", "--help"]);
  assert.deepEqual([all.router, all.check, all.quiet, all.version, all.help], [
    true,
    true,
    true,
    true,
    true,
  ]);
});

Deno.test("parseCliArgs() turns bad command lines into one-line usage errors", () => {
  const cases: [args: string[], message: RegExp][] = [
    [["--nope"], /^Unknown option "--nope"$/],
    [["--confg", "x"], /^Unknown option "--confg": did you mean "--config"\?$/],
    [["--routr"], /did you mean "--router"\?/],
    [["--config"], /^Option "--config" needs a file path$/],
    [["--config="], /^Option "--config" needs a file path$/],
    [["--router=yes"], /^Option "--router" takes no value$/],
    [["-c"], /^Option "--config" needs a file path$/],
    [
      ["-c", "--check"],
      /^Option "-c" needs a file path \(for one starting with "-", write --config=-FILE\)$/,
    ],
    [["--config", "-x.toml"], /^Option "--config" needs a file path \(for one starting/],
    [["-c", "a.toml", "--config=b.toml"], /^Option "--config" is given 2 times: name one file$/],
    [["a\nb"], /^Unexpected argument "a\\nb"/],
    [["app.toml"], /^Unexpected argument "app\.toml": name a configuration file with --config$/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseCliArgs(args), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
      return true;
    }, args.join(" "));
  }
});
