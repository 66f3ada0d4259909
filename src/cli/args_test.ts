import assert from "node:assert/strict";
import { parseCliArgs, UsageError } from "./args.ts";

Deno.test("parseCliArgs() reads every option of the README's Command line", () => {
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
    [["-x"], /^Unknown option "-x"$/],
    [["--confg", "x"], /^Unknown option "--confg": did you mean "--config"\?$/],
    [["--confg=x"], /^Unknown option "--confg": did you mean "--config"\?$/],
    [["--routr"], /did you mean "--router"\?/],
    [["--it's"], /^Unknown option "--it's"$/],
    [["--config"], /^Option "--config" needs a file path$/],
    [["-c"], /^Option "-c" needs a file path$/],
    [["--check", "-c"], /^Option "-c" needs a file path$/],
    [["--config="], /^Option "--config" needs a file path$/],
    [
      ["-c", "--check"],
      /^Option "-c" needs a file path, not "--check" \(for a file starting with "-", write --config=--check\)$/,
    ],
    [["--config", "-x.toml"], /^Option "--config" needs a file path, not "-x\.toml"/],
    [
      ["-c=a.toml"],
      /^Option "-c" takes its file without "=": write -c a\.toml or --config=a\.toml$/,
    ],
    [["-c="], /^Option "-c" needs a file path$/],
    [
      ["-c=-1"],
      /^Option "-c" needs a file path, not "-1" \(for a file starting with "-", write --config=-1\)$/,
    ],
    [["-h=1"], /^Option "-h" takes no value$/],
    [["-Vh=1"], /^Option "-Vh" takes no value$/],
    [["-x=1"], /^Unknown option "-x"$/],
    [
      ["-c", "a.toml", "--config=b.toml"],
      /^Option "--config" is given more than once: name one file$/,
    ],
    [["--router=yes"], /^Option "--router" takes no value$/],
    [["--help=1"], /^Option "--help" takes no value$/],
    [["--version=x"], /^Option "--version" takes no value$/],
    [
      ["app.toml"],
      /^Unexpected argument "app\.toml": LogWisp takes no arguments; name the configuration file with --config$/,
    ],
    [["don't.toml"], /^Unexpected argument "don't\.toml"/],
    [["--", "app.toml"], /^Unexpected argument "app\.toml"/],
    [["a\nb"], /^Unexpected argument "a\\nb"/],
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
