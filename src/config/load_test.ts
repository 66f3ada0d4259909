import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "./config_error.ts";
import { loadConfig, type LoadOptions } from "./load.ts";

const MINIMAL = (name: string) => `
[[streams]]
name = "${name}"
[streams.monitor]
targets = [{ path = "logs", pattern = "*.log" }]
[streams.httpserver]
enabled = true
port = 8080
`;

/** A temp dir holding `files`, removed when disposed. */
async function tempTree(files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "logwisp_load_" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function configError(options: LoadOptions): Promise<ConfigError> {
  const error = await loadConfig(options).then(() => undefined, (error) => error);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  return error;
}

Deno.test("loadConfig() looks for the file in the documented order", async (t) => {
  await using tree = await tempTree({
    "flag.toml": MINIMAL("flag"),
    "confdir/named.toml": MINIMAL("named"),
    "confdir/logwisp.toml": MINIMAL("confdir"),
    "home/.config/logwisp.toml": MINIMAL("home"),
    "work/logwisp.toml": MINIMAL("cwd"),
  });
  const { dir } = tree;
  const cwd = join(dir, "work");
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const all = {
    LOGWISP_CONFIG_FILE: "named.toml",
    LOGWISP_CONFIG_DIR: join(dir, "confdir"),
    HOME: join(dir, "home"),
  };
  const nameFrom = async (options: LoadOptions) => {
    const config = await loadConfig({ cwd, ...options });
    return [config.streams[0]?.name, config.source.kind === "file" && config.source.via];
  };

  await t.step("--config first", async () => {
    assert.deepEqual(await nameFrom({ flag: "../flag.toml", env: env(all) }), [
      "flag",
      "--config",
    ]);
  });
  await t.step("then LOGWISP_CONFIG_FILE, relative to LOGWISP_CONFIG_DIR", async () => {
    assert.deepEqual(await nameFrom({ env: env(all) }), ["named", "LOGWISP_CONFIG_FILE"]);
  });
  await t.step("then $LOGWISP_CONFIG_DIR/logwisp.toml", async () => {
    const { LOGWISP_CONFIG_FILE: _, ...rest } = all;
    assert.deepEqual(await nameFrom({ env: env(rest) }), ["confdir", "LOGWISP_CONFIG_DIR"]);
  });
  await t.step("then ~/.config/logwisp.toml", async () => {
    assert.deepEqual(await nameFrom({ env: env({ HOME: all.HOME }) }), ["home", "~/.config"]);
  });
  await t.step("then ./logwisp.toml", async () => {
    assert.deepEqual(await nameFrom({ env: env({}) }), ["cwd", "the working directory"]);
  });
  await t.step("else the built-in default, naming where it searched", async () => {
    const config = await loadConfig({ cwd: dir, env: env({ HOME: all.HOME + "-none" }) });
    assert.equal(config.source.kind, "default");
    assert.deepEqual(config.source.kind === "default" && config.source.searched, [
      { path: join(dir, "home-none/.config/logwisp.toml") },
      { path: join(dir, "logwisp.toml") },
    ]);
    const [stream] = config.streams;
    assert.equal(stream?.name, "default");
    assert.deepEqual(stream?.monitor?.targets, [{ path: dir, pattern: "*.log", isFile: false }]);
    assert.equal(stream?.http?.port, 8080);
    assert.equal(stream?.http?.streamPath, "/stream");
    assert.equal(stream?.http?.statusPath, "/status");
    assert.deepEqual(stream?.http?.heartbeat, {
      enabled: true,
      intervalSeconds: 30,
      includeTimestamp: true,
      includeStats: false,
      format: "comment",
    });
  });
});

Deno.test("loadConfig() fails on a named file that does not exist, never falling back", async () => {
  await using tree = await tempTree({ "logwisp.toml": MINIMAL("cwd") });
  const fromFlag = await configError({ cwd: tree.dir, flag: "missing.toml", env: () => undefined });
  assert.equal(fromFlag.issues[0]?.key, "--config");
  assert.match(fromFlag.message, /configuration file ".*missing\.toml" does not exist/);

  const fromEnv = await configError({
    cwd: tree.dir,
    env: (name) => name === "LOGWISP_CONFIG_FILE" ? "/nowhere/x.toml" : undefined,
  });
  assert.equal(fromEnv.issues[0]?.key, "LOGWISP_CONFIG_FILE");
  assert.match(fromEnv.message, /"\/nowhere\/x\.toml" does not exist/);

  const directory = await configError({ cwd: tree.dir, flag: ".", env: () => undefined });
  assert.match(directory.message, /is not a regular file/);
});

Deno.test("loadConfig() reports TOML syntax errors with file, line, column and the lines", async () => {
  await using tree = await tempTree({
    "bad.toml": '[[streams]]\nname = "app"\nport = = 1\n',
  });
  const error = await configError({ cwd: tree.dir, flag: "bad.toml", env: () => undefined });
  const [issue] = error.issues;
  assert.equal(issue?.file, join(tree.dir, "bad.toml"));
  assert.equal(issue?.line, 3);
  assert.equal(issue?.column, 8);
  assert.match(issue.message, /^invalid TOML: /);
  assert.match(issue.detail ?? "", /port = = 1/);
  assert.match(error.message, /bad\.toml:3:8: invalid TOML/);
});

Deno.test("loadConfig() names the file in validation errors", async () => {
  await using tree = await tempTree({ "x.toml": MINIMAL("a b") });
  const error = await configError({ cwd: tree.dir, flag: "x.toml", env: () => undefined });
  assert.match(error.message, /x\.toml: streams\[0\]\.name: "a b" is not a valid name/);
});

Deno.test("loadConfig() loads config.example.toml as written and freezes the result", async () => {
  const config = await loadConfig({
    flag: new URL("../../config.example.toml", import.meta.url).pathname,
    env: () => undefined,
  });
  assert.deepEqual(config.streams.map((stream) => stream.name), ["app", "system"]);
  const [app, system] = config.streams;
  assert.equal(app?.http?.bufferSize, 2000);
  assert.equal(app?.monitor?.targets.length, 2);
  assert.equal(system?.monitor?.checkIntervalMs, 50);
  assert.equal(system?.tcp?.port, 9090);
  assert.equal(system?.tcp?.bufferSize, 5000);
  assert.equal(system?.http?.streamPath, "/logs");
  assert.equal(system?.http?.statusPath, "/health");
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(app?.monitor?.targets[0]));
  assert.throws(() => {
    (config.streams as unknown as unknown[]).push({});
  }, TypeError);
});

Deno.test("loadConfig() skips lookup steps it cannot use and fails on files it was told to use", async () => {
  await using tree = await tempTree({ "file": "", "home/.config/logwisp.toml/x": "" });
  const { dir } = tree;
  const env = (vars: Record<string, string>) => (name: string) => vars[name];

  // Empty variables count as unset; a directory where the file should be is skipped, named.
  const config = await loadConfig({
    cwd: dir,
    env: env({ HOME: join(dir, "home"), LOGWISP_CONFIG_FILE: "", LOGWISP_CONFIG_DIR: "" }),
  });
  assert.deepEqual(config.source.kind === "default" && config.source.searched, [
    { path: join(dir, "home/.config/logwisp.toml"), skipped: "not a regular file" },
    { path: join(dir, "logwisp.toml") },
  ]);

  // A path through a regular file is as absent as a missing one.
  const throughFile = await configError({ cwd: dir, flag: "file/x.toml", env: env({}) });
  assert.match(throughFile.message, /"[^"]*file\/x\.toml" does not exist/);

  // LOGWISP_CONFIG_DIR names where the operator put it: a directory there is an error.
  const confDir = await configError({
    cwd: dir,
    env: env({ LOGWISP_CONFIG_DIR: join(dir, "home/.config") }),
  });
  assert.equal(confDir.issues[0]?.key, "LOGWISP_CONFIG_DIR");
  assert.match(confDir.message, /logwisp\.toml" is not a regular file/);

  const fileAsDir = await configError({ cwd: dir, env: env({ LOGWISP_CONFIG_DIR: "file" }) });
  assert.equal(fileAsDir.issues[0]?.key, "LOGWISP_CONFIG_DIR");
  assert.match(fileAsDir.message, /"[^"]*\/file" is a file, not a directory/);
  const missingDir = await configError({ cwd: dir, env: env({ LOGWISP_CONFIG_DIR: "nowhere" }) });
  assert.match(missingDir.message, /LOGWISP_CONFIG_DIR: "[^"]*\/nowhere" does not exist/);

  // HOME is not LogWisp's variable: one it cannot read skips ~/.config, named.
  const homeless = await loadConfig({
    cwd: dir,
    env: (name) => {
      if (name === "HOME") throw new ConfigError([{ key: "HOME", message: "not valid UTF-8" }]);
      return undefined;
    },
  });
  assert.deepEqual(homeless.source.kind === "default" && homeless.source.searched, [
    { path: "~/.config/logwisp.toml", skipped: "HOME is not valid UTF-8" },
    { path: join(dir, "logwisp.toml") },
  ]);
});

Deno.test("loadConfig() keeps a binary or odd file off the terminal", async () => {
  await using tree = await tempTree({
    "binary.toml": "\x7fELF\x02\x01\x01\0\0\0",
    "escape.toml": `[monitor]\ncheck_interval_ms = 1\x1b[31m${"x".repeat(300)}\n`,
  });
  const binary = await configError({ cwd: tree.dir, flag: "binary.toml", env: () => undefined });
  assert.equal(binary.issues[0]?.message, "not a TOML file: it holds NUL bytes");

  const escape = await configError({ cwd: tree.dir, flag: "escape.toml", env: () => undefined });
  const detail = escape.issues[0]?.detail ?? "";
  assert.match(detail, /check_interval_ms = 1\\x1b\[31mx+…$/m);
  assert.ok(!detail.includes("\x1b"), "no raw escape character");
  assert.ok(detail.split("\n").every((line) => line.length < 200), detail);
});
