import assert from "node:assert/strict";
import { join } from "node:path";
import { VERSION } from "../src/version.ts";
import { tempDir, which } from "../src/_test_utils.ts";
import { cliArgs, ROOT, runCli } from "./_cli.ts";

const EXAMPLE = `${ROOT}config.example.toml`;

Deno.test("--help prints usage on stdout and exits 0", async () => {
  const { code, stdout, stderr } = await runCli(["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^LogWisp .*\n\nUsage: logwisp \[--config FILE \| -c FILE\]/);
  for (const flag of ["--config", "--router", "--check", "--quiet", "--version", "--help"]) {
    assert.ok(stdout.includes(flag), flag);
  }
  assert.equal(stderr, "");
});

Deno.test("--version prints the version on stdout and exits 0", async () => {
  const { code, stdout, stderr } = await runCli(["--version"]);
  assert.equal(code, 0);
  assert.match(stdout, new RegExp(`^logwisp ${VERSION.replaceAll(".", "\\.")} \\(deno \\S+\\)\n$`));
  assert.equal(stderr, "");
});

Deno.test("--check passes the original README example under the narrow permissions", async () => {
  const { code, stdout, stderr } = await runCli(["--check", "--config", EXAMPLE], {
    permissions: [`--allow-read=/var/log,${EXAMPLE}`, "--allow-net"],
  });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  assert.match(stdout, /^Configuration: .*config\.example\.toml \(from --config\)$/m);
  assert.match(stdout, /^stream "app"$/m);
  assert.match(stdout, /target {3}directory \/var\/log\/myapp, files matching "\*\.log"/);
  assert.match(
    stdout,
    /http {5}0\.0\.0\.0:8080 {2}stream \/stream {2}status \/status {2}buffer 2000/,
  );
  assert.match(stdout, /tcp {6}0\.0\.0\.0:9090 {2}buffer 5000/);
  assert.match(stdout, /stream \/logs {2}status \/health/);
  assert.match(stdout, /Configuration OK\n$/);
});

Deno.test("--check --router shows the routed paths", async () => {
  const { code, stdout } = await runCli(["--check", "--router", `--config=${EXAMPLE}`]);
  assert.equal(code, 0);
  assert.match(stdout, /stream \/system\/logs {2}status \/system\/health/);
  assert.match(stdout, /Router: 0\.0\.0\.0:8080, global status \/status/);
});

Deno.test("--check says when a stream polls without file-system events", async () => {
  await using tmp = await tempDir("logwisp_cli_");
  const dir = tmp.path;
  const file = join(dir, "polling.toml");
  await Deno.writeTextFile(
    file,
    `[monitor]\nfs_events = false\n[[streams]]\nname = "a"\n[streams.monitor]\n` +
      `targets = [{ path = "${dir}" }]\n[streams.tcpserver]\nenabled = true\nport = 9000\n`,
  );
  const { code, stdout } = await runCli(["--check", "--config", file]);
  assert.equal(code, 0);
  assert.match(
    stdout,
    /monitor {2}check every 100 ms, .*, no file-system events \(polling only\)$/m,
  );
});

Deno.test("--check warns of targets that are missing, FIFOs, not directories or only archives", async () => {
  await using tmp = await tempDir("logwisp_cli_");
  const dir = tmp.path;
  await new Deno.Command("mkfifo", { args: [join(dir, "pipe.log")] }).output();
  await Deno.mkdir(join(dir, "archives"));
  await Deno.writeFile(join(dir, "archives", "app.log.1.gz"), new Uint8Array([0x1f, 0x8b]));
  await Deno.writeTextFile(join(dir, "plain.log"), "");
  const file = join(dir, "warnings.toml");
  await Deno.writeTextFile(
    file,
    `[[streams]]\nname = "a"\n[streams.monitor]\ntargets = [\n` +
      `  { path = "${dir}/missing.log", is_file = true },\n` +
      `  { path = "${dir}/pipe.log", is_file = true },\n` +
      `  { path = "${dir}/plain.log" },\n` +
      `  { path = "${dir}/archives", pattern = "*.gz" },\n` +
      `  { path = "${dir}/nowhere" },\n` +
      `]\n[streams.tcpserver]\nenabled = true\nport = 9000\n`,
  );
  const { code, stdout } = await runCli(["--check", "--config", file]);
  assert.equal(code, 0);
  const warnings = stdout.split("\n").filter((line) => line.startsWith("Warning: "));
  assert.deepEqual(warnings, [
    `Warning: stream "a": file "${dir}/missing.log" does not exist (yet): it is followed once it appears`,
    `Warning: stream "a": file "${dir}/pipe.log" is a FIFO: it is not followed`,
    `Warning: stream "a": directory "${dir}/plain.log" is not a directory: use is_file = true for a single file`,
    `Warning: stream "a": directory "${dir}/archives" has no file matching "*.gz" yet; ` +
    `1 compressed archive(s) matching "*.gz" are not followed`,
    `Warning: stream "a": directory "${dir}/nowhere" does not exist (yet): it is followed once it appears`,
  ]);
  assert.match(stdout, /Configuration OK\n$/);
});

Deno.test("--check on a bad file exits 2 naming file and every key, on stderr only", async () => {
  await using tmp = await tempDir("logwisp_cli_");
  const dir = tmp.path;
  const file = join(dir, "bad.toml");
  await Deno.writeTextFile(
    file,
    `[[streams]]\nname = "a"\n[streams.monitor]\ntargets = [{ path = "/tmp" }]\n` +
      `[streams.httpserver]\nenabled = true\nport = 99999\nstream_pth = "/s"\n`,
  );
  const { code, stdout, stderr } = await runCli(["--check", "-c", file]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /^logwisp: configuration errors \(2\):$/m);
  assert.ok(stderr.includes(`${file}: streams[0].httpserver.port: 99999 is out of range`));
  assert.ok(stderr.includes(`${file}: streams[0].httpserver.stream_pth: unknown key: did you`));
  assert.doesNotMatch(stderr, /\bat .*\.ts:\d+/, "no stack trace");
});

Deno.test("a TOML syntax error names line and column and exits 2", async () => {
  await using tmp = await tempDir("logwisp_cli_");
  const dir = tmp.path;
  const file = join(dir, "syntax.toml");
  await Deno.writeTextFile(file, "[monitor]\ncheck_interval_ms = \n");
  const { code, stderr } = await runCli(["--check", "--config", file]);
  assert.equal(code, 2);
  assert.ok(stderr.includes(`${file}:2:`), stderr);
  assert.match(stderr, /invalid TOML/);
});

Deno.test("a missing --config file exits 2 instead of falling back to defaults", async () => {
  const { code, stdout, stderr } = await runCli(["--check", "--config", "/nonexistent/x.toml"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /configuration file "\/nonexistent\/x\.toml" does not exist/);
});

Deno.test("an unknown flag exits 2 with a one-line hint", async () => {
  const { code, stdout, stderr } = await runCli(["--verbose"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(stderr, 'logwisp: Unknown option "--verbose"\nRun "logwisp --help" for usage.\n');
});

Deno.test("a target outside --allow-read exits 2 naming the path and the flag", async () => {
  await using tmp = await tempDir("logwisp_cli_");
  const dir = tmp.path;
  const file = join(dir, "outside.toml");
  await Deno.writeTextFile(
    file,
    `[[streams]]\nname = "a"\n[streams.monitor]\ntargets = [{ path = "/srv/app/logs" }]\n` +
      `[streams.tcpserver]\nenabled = true\nport = 9000\n`,
  );
  const { code, stderr } = await runCli(["--check", "--config", file], {
    permissions: [`--allow-read=${dir}`, "--allow-net"],
  });
  assert.equal(code, 2);
  assert.match(
    stderr,
    /streams\[0\]\.monitor\.targets\[0\]\.path: "\/srv\/app\/logs" is outside/,
  );
  assert.match(stderr, /--allow-read=\/srv\/app\/logs/);
  assert.doesNotMatch(stderr, /NotCapable/);
});

Deno.test("without --allow-env the environment lookups are skipped, not fatal", async () => {
  await using tmp = await tempDir("logwisp_cli_");
  const dir = tmp.path;
  const { code, stdout, stderr } = await runCli(["--check"], {
    cwd: dir,
    permissions: [`--allow-read=${dir}`, "--allow-net"],
    env: { LOGWISP_CONFIG_FILE: "/nonexistent.toml" },
  });
  assert.equal(code, 0, stderr);
  assert.match(stdout, /Configuration: built-in default/);
  assert.match(stdout, /target {3}directory .*, files matching "\*\.log"/);
});

Deno.test("LOGWISP_CONFIG_FILE is used when --allow-env permits", async () => {
  const { code, stdout } = await runCli(["--check"], {
    env: { LOGWISP_CONFIG_FILE: "config.example.toml", LOGWISP_CONFIG_DIR: ROOT },
  });
  assert.equal(code, 0);
  assert.match(stdout, /config\.example\.toml \(from LOGWISP_CONFIG_FILE\)/);
});

Deno.test("a configuration directory outside --allow-read is an error, not a fall-back", async () => {
  await using tmp = await tempDir("logwisp_cli_");
  const confDir = join(tmp.path, "conf");
  await Deno.mkdir(confDir);
  await Deno.copyFile(EXAMPLE, join(confDir, "logwisp.toml"));
  const { code, stdout, stderr } = await runCli(["--check"], {
    cwd: tmp.path,
    permissions: [`--allow-read=${tmp.path}/work`, "--allow-env"],
    env: { LOGWISP_CONFIG_DIR: confDir },
  });
  assert.equal(code, 2, stdout);
  assert.equal(
    stderr,
    "logwisp: configuration error:\n" +
      `  LOGWISP_CONFIG_DIR: configuration file "${confDir}/logwisp.toml" is outside the read ` +
      `permission: grant it with --allow-read=${confDir}/logwisp.toml\n`,
  );
});

/** Runs the CLI with `args` through `sh -c script`, which ends with `exec "$@"`. */
async function viaShell(script: string, args: readonly string[], cwd = ROOT) {
  const { code, stdout, stderr } = await new Deno.Command("sh", {
    args: ["-c", script, "sh", Deno.execPath(), ...cliArgs(args)],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("a lookup variable that is not UTF-8 exits 2 naming it; a HOME like that is skipped", async () => {
  const { code, stdout, stderr } = await viaShell(
    'LOGWISP_CONFIG_FILE="$(printf "a\\377b")" exec "$@"',
    ["--check"],
  );
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    "logwisp: configuration error:\n" +
      "  LOGWISP_CONFIG_FILE: the environment variable is not valid UTF-8\n",
  );
  // Deno finds its cache through HOME: keep that where it was. In a temp dir, as a relative
  // HOME would land anything written under it there.
  await using tmp = await tempDir("logwisp_cli_");
  const home = await viaShell(
    'export DENO_DIR="${DENO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deno}"; ' +
      'HOME="$(printf "a\\377b")" exec "$@"',
    ["--check"],
    tmp.path,
  );
  assert.equal(home.code, 0, home.stderr);
  assert.match(home.stdout, /"~\/\.config\/logwisp\.toml" \(skipped: HOME is not valid UTF-8\)/);
});

Deno.test("a lookup that meets a symlink loop or a file for a directory never shows a trace", async () => {
  await using tmp = await tempDir("logwisp_cli_");
  const loop = join(tmp.path, "loop.toml");
  await Deno.symlink(loop, loop);
  const looped = await runCli(["--check", "--config", loop]);
  assert.equal(looped.code, 2);
  assert.match(
    looped.stderr,
    /"[^"]*loop\.toml" cannot be read: too many levels of symbolic links/,
  );

  await Deno.writeTextFile(join(tmp.path, "file"), "");
  const below = await runCli(["--check", "--config", join(tmp.path, "file", "x.toml")]);
  assert.equal(below.code, 2);
  assert.match(below.stderr, /"[^"]*file\/x\.toml" does not exist/);

  // An empty variable counts as unset: the default is used.
  const skipped = await runCli(["--check"], {
    cwd: tmp.path,
    env: { HOME: "", LOGWISP_CONFIG_DIR: "" },
  });
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(skipped.stdout, /^Configuration: built-in default/);
  for (const { stderr } of [looped, below, skipped]) {
    assert.doesNotMatch(stderr, /Uncaught|\bat .*\.ts:\d+/, "no stack trace");
  }
});

Deno.test("a full stdout exits 1 with one line; a closed one is a reader that stopped", async (t) => {
  await t.step({
    name: "full: /dev/full",
    ignore: Deno.build.os !== "linux",
    fn: async () => {
      const { code, stderr } = await viaShell('exec "$@" > /dev/full', ["--help"]);
      assert.equal(code, 1);
      assert.equal(stderr, "logwisp: Cannot write to stdout: no space left on device\n");
    },
  });
  const python = which("python3");
  await t.step({
    name: "closed: a pipe with no reader",
    ignore: !python,
    fn: async () => {
      const script = "import os, subprocess, sys\n" +
        "r, w = os.pipe(); os.close(r)\n" +
        "p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)\n" +
        "sys.stderr.buffer.write(p.stderr); sys.exit(p.returncode)\n";
      const { code, stderr } = await new Deno.Command("python3", {
        args: ["-c", script, Deno.execPath(), ...cliArgs(["--help"])],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(stderr), "");
      assert.equal(code, 0);
    },
  });
});
