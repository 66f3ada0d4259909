/**
 * Packaging (README "Permissions" and "Deployment"): the permissions `deno task compile` bakes in, the compiled binary, the
 * systemd unit (checked by systemd itself and run inside an emulation of its sandbox), the
 * Dockerfile with its HEALTHCHECK, `.dockerignore` and `docker-compose.yml`.
 *
 * Whatever needs something a machine may lack (root to write under /var/log, a denort runtime
 * for `deno compile`, systemd-analyze, a C compiler, Linux >= 6.3 for PR_SET_MDWE) is decided
 * before the tests are registered and reported as ignored where it is missing, so the summary
 * counts only what ran.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { VERSION } from "../src/version.ts";
import { freePort, which } from "../src/_test_utils.ts";
import { MAIN, ROOT, runCli } from "./_cli.ts";

const UNIT = `${ROOT}deploy/logwisp.service`;
const DOCKERFILE = `${ROOT}Dockerfile`;
const COMPOSE = `${ROOT}docker-compose.yml`;
const EXAMPLE = `${ROOT}config.example.toml`;

/** A line for people reading the test output (skips, measurements). */
function note(line: string): void {
  // deno-lint-ignore no-console
  console.log(line);
}

const decoder = new TextDecoder();

interface Output {
  readonly code: number;
  readonly signal: Deno.Signal | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion with piped output. */
async function run(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; clearEnv?: boolean; cwd?: string } = {},
): Promise<Output> {
  const { code, signal, stdout, stderr } = await new Deno.Command(command, {
    args: [...args],
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    clearEnv: options.clearEnv ?? false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, signal, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** What a child `deno` needs from this environment to find its cache and reach a registry. */
function denoEnv(): Record<string, string> {
  const names = ["PATH", "HOME", "DENO_DIR", "DENO_CERT", "SSL_CERT_FILE", "SSL_CERT_DIR"];
  return Object.fromEntries(names.flatMap((name) => {
    const value = Deno.env.get(name);
    return value === undefined ? [] : [[name, value]];
  }));
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "logwisp-packaging-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A minimal valid configuration: one stream following `target`, on a TCP port. */
function configFor(target: string): string {
  return `[[streams]]\nname = "app"\n[streams.monitor]\n` +
    `targets = [{ path = ${JSON.stringify(target)}, pattern = "*.log" }]\n` +
    `[streams.tcpserver]\nenabled = true\nport = 9000\n`;
}

// ---- deno.json's compile task ---------------------------------------------------------

interface CompileTask {
  /** Everything after `deno compile`. */
  readonly args: readonly string[];
  /** The flags that become the binary's permissions. */
  readonly permissions: readonly string[];
  /** The `--allow-read=` scope. */
  readonly readScope: readonly string[];
  readonly output: string;
  readonly entry: string;
}

async function compileTask(): Promise<CompileTask> {
  const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const task: unknown = denoJson.tasks?.compile;
  assert.equal(typeof task, "string", "deno.json has a compile task");
  const words = (task as string).trim().split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "compile"]);
  assert.ok(!/["'$`\\]/.test(task as string), "the task is plain words (no quoting to undo)");
  const args = words.slice(2);
  const permissions = args.filter((arg) =>
    /^--(no-prompt$|allow-|deny-)/.test(arg) || arg === "-A"
  );
  const outputAt = args.indexOf("--output");
  assert.ok(outputAt >= 0 && args[outputAt + 1], "the task names its --output");
  const readFlag = permissions.find((flag) => flag.startsWith("--allow-read="));
  return {
    args,
    permissions,
    readScope: readFlag ? readFlag.slice("--allow-read=".length).split(",") : [],
    output: args[outputAt + 1]!,
    entry: args[args.length - 1]!,
  };
}

function inScope(path: string, scope: readonly string[]): boolean {
  return scope.some((dir) => path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`));
}

// ---- what this machine offers, decided before the tests are registered -----------------

/** Whether a temp dir can be made under /var/log, the baked read scope (needs root). */
const VAR_LOG_WRITABLE = await (async () => {
  const dir = await tempDirInVarLog();
  if (typeof dir !== "string") return false;
  await Deno.remove(dir);
  return true;
})();

/**
 * Whether `deno compile` has a runtime to build with without the network: `DENORT_BIN`, or a
 * `denort` a previous compile left in Deno's cache.
 */
const DENORT_AVAILABLE = await (async () => {
  if (Deno.env.get("DENORT_BIN")) return true;
  const info = await run(Deno.execPath(), ["info", "--json"]);
  const denoDir = info.code === 0 ? JSON.parse(info.stdout).denoDir as string : undefined;
  if (!denoDir) return false;
  try {
    await Deno.stat(
      join(denoDir, "dl", "release", `v${Deno.version.deno}`, `denort-${Deno.build.target}.zip`),
    );
    return true;
  } catch {
    return false;
  }
})();

const SYSTEMD_ANALYZE = which("systemd-analyze");
/** `systemd-analyze security --offline` needs systemd >= 250. */
const SYSTEMD_OFFLINE = SYSTEMD_ANALYZE !== undefined &&
  (await run(SYSTEMD_ANALYZE, ["--help"])).stdout.includes("--offline");
const BASH = which("bash");
/** The sandbox helper is C for x86_64 Linux, with libc and kernel headers. */
const SANDBOX_BUILDABLE = Deno.build.os === "linux" && Deno.build.arch === "x86_64" &&
  (which("cc") ?? which("gcc")) !== undefined &&
  await Promise.all(
    ["/usr/include/linux/seccomp.h", "/usr/include/stdio.h"].map((header) =>
      Deno.stat(header).then(() => true, () => false)
    ),
  ).then((found) => found.every(Boolean));
/** PR_SET_MDWE came with Linux 6.3. */
const PRCTL_MDWE = Deno.build.os === "linux" && await (async () => {
  const release = (await run("uname", ["-r"])).stdout;
  const [major = 0, minor = 0] = release.split(/[.-]/).map(Number);
  return major > 6 || (major === 6 && minor >= 3);
})();

/** A temp dir inside /var/log (the baked read scope), or why there is none. */
async function tempDirInVarLog(): Promise<string | { skip: string }> {
  try {
    return await Deno.makeTempDir({ dir: "/var/log", prefix: "logwisp-test-" });
  } catch (error) {
    return { skip: `/var/log is not writable here (${(error as Error).name}; run as root)` };
  }
}

Deno.test("deno task compile bakes in exactly the permissions the README gives", async () => {
  const task = await compileTask();
  assert.equal(task.entry, "src/main.ts");
  assert.equal(task.output, "dist/logwisp");
  assert.deepEqual([...task.readScope].sort(), ["/etc/logwisp", "/var/log"]);
  assert.deepEqual(task.permissions, [
    "--no-prompt",
    "--allow-read=/var/log,/etc/logwisp",
    "--allow-net",
    "--allow-env=LOGWISP_CONFIG_FILE,LOGWISP_CONFIG_DIR,HOME",
  ]);
});

Deno.test("baked permissions: --version works, a config outside the scope exits 2", async () => {
  const { permissions } = await compileTask();
  const version = await runCli(["--version"], { permissions, env: denoEnv() });
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `logwisp ${VERSION} (deno ${Deno.version.deno})\n`);

  await withTempDir(async (dir) => {
    const file = join(dir, "logwisp.toml");
    await Deno.writeTextFile(file, configFor(dir));
    const { code, stdout, stderr } = await runCli(["--check", "--config", file], {
      permissions,
      env: denoEnv(),
    });
    assert.equal(code, 2, stderr);
    assert.equal(stdout, "");
    assert.ok(stderr.includes(`"${file}" is outside the read permission`), stderr);
    assert.ok(stderr.includes(`--allow-read=${file}`), stderr);
    assert.doesNotMatch(stderr, /NotCapable|\bat .*\.ts:\d+/, "no exception, no stack trace");
  });
});

Deno.test({
  name: "baked permissions: configs under /var/log pass --check, targets outside exit 2",
  ignore: !VAR_LOG_WRITABLE,
  fn: async () => {
    const { permissions } = await compileTask();
    const dir = await tempDirInVarLog();
    assert.equal(typeof dir, "string", "a temp dir under /var/log");
    if (typeof dir !== "string") return;
    try {
      const inside = join(dir, "inside.toml");
      await Deno.writeTextFile(inside, configFor(dir));
      const ok = await runCli(["--check", "--config", inside], { permissions, env: denoEnv() });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /Configuration OK\n$/);

      // The image's default configuration (config.example.toml) in the baked scope.
      const example = join(dir, "example.toml");
      await Deno.copyFile(EXAMPLE, example);
      const exampleCheck = await runCli(["--check", "--config", example], {
        permissions,
        env: denoEnv(),
      });
      assert.equal(exampleCheck.code, 0, exampleCheck.stderr);

      const outside = join(dir, "outside.toml");
      await Deno.writeTextFile(outside, configFor("/srv/app/logs"));
      const bad = await runCli(["--check", "--config", outside], { permissions, env: denoEnv() });
      assert.equal(bad.code, 2);
      assert.ok(bad.stderr.includes(`${outside}: streams[0].monitor.targets[0].path`), bad.stderr);
      assert.ok(bad.stderr.includes(`"/srv/app/logs" is outside the read permission`), bad.stderr);
      assert.ok(bad.stderr.includes("--allow-read=/srv/app/logs"), bad.stderr);
      assert.doesNotMatch(bad.stderr, /NotCapable/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---- the compiled binary --------------------------------------------------------------

Deno.test({
  name: "compiled binary: version, read scope, size and startup time",
  ignore: !DENORT_AVAILABLE,
  fn: async () => {
    const task = await compileTask();
    await withTempDir(async (dir) => {
      const binary = join(dir, "logwisp");
      const args = [...task.args];
      args[args.indexOf("--output") + 1] = binary;
      const compiled = await run(Deno.execPath(), ["compile", "-q", ...args]);
      assert.equal(compiled.code, 0, `deno compile failed:\n${compiled.stderr}`);

      const version = await run(binary, ["--version"], { clearEnv: true });
      assert.equal(
        version.stdout,
        `logwisp ${VERSION} (deno ${Deno.version.deno})\n`,
        "the binary runs LogWisp (a DENORT_BIN pointing at `deno` itself yields a plain deno)",
      );

      const outside = join(dir, "logwisp.toml");
      await Deno.writeTextFile(outside, configFor(dir));
      const denied = await run(binary, ["--check", "--config", outside], { clearEnv: true });
      assert.equal(denied.code, 2, denied.stderr);
      assert.ok(denied.stderr.includes(`--allow-read=${outside}`), denied.stderr);

      const varLog = await tempDirInVarLog();
      if (typeof varLog === "string") {
        try {
          const inside = join(varLog, "logwisp.toml");
          await Deno.writeTextFile(inside, configFor(varLog));
          const ok = await run(binary, ["--check", "--config", inside], { clearEnv: true });
          assert.equal(ok.code, 0, ok.stderr);
          assert.match(ok.stdout, /Configuration OK\n$/);
          const sandbox = SANDBOX_BUILDABLE ? await unitSandbox(dir) : undefined;
          if (sandbox && !("skip" in sandbox)) {
            const boxed = await run(sandbox.helper, [
              ...sandbox.args,
              binary,
              "--check",
              "--config",
              inside,
            ], { clearEnv: true });
            assert.equal(boxed.code, 0, `in the unit's sandbox: ${boxed.stderr}`);
          }
        } finally {
          await Deno.remove(varLog, { recursive: true });
        }
      }

      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        const { code } = await run(binary, ["--version"], { clearEnv: true });
        times.push(performance.now() - start);
        assert.equal(code, 0);
      }
      times.sort((a, b) => a - b);
      const { size } = await Deno.stat(binary);
      note(
        `compiled binary: ${(size / 1024 / 1024).toFixed(1)} MiB, --version in ` +
          `${times[0]!.toFixed(0)} ms (best of 5, median ${times[2]!.toFixed(0)} ms)`,
      );
    });
  },
});

Deno.test("deno compile embeds the web viewer's page, styles and script", async () => {
  const task = await compileTask();
  const viewer = new URL("../src/viewer/", import.meta.url);
  const assets = [...Deno.readDirSync(viewer)]
    .filter((entry) => /\.(html|css|js)$/.test(entry.name))
    .map((entry) => entry.name);
  assert.ok(assets.includes("viewer.js"), `viewer assets: ${assets}`);
  await withTempDir(async (dir) => {
    const args = [...task.args];
    args[args.indexOf("--output") + 1] = join(dir, "logwisp");
    // What is embedded is listed before the runtime is needed; with no `denort` to hand
    // (offline), `deno` stands in for it: the listing is what this test reads, not the binary.
    const env = DENORT_AVAILABLE ? {} : { DENORT_BIN: Deno.execPath() };
    const compiled = await run(Deno.execPath(), ["compile", ...args], { env });
    assert.equal(compiled.code, 0, `deno compile failed:\n${compiled.stderr}`);
    const listing = compiled.stdout + compiled.stderr;
    for (const asset of assets) {
      assert.match(listing, new RegExp(`── ${asset.replace(".", "\\.")} \\(`), asset);
    }
  });
});

// ---- the systemd unit -----------------------------------------------------------------

type Unit = Map<string, [key: string, value: string][]>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: [string, string][] | undefined;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    const where = `logwisp.service:${index + 1}`;
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    assert.ok(!line.endsWith("\\"), `${where}: no continuation lines`);
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      assert.ok(!unit.has(header[1]!), `${where}: section [${header[1]}] appears once`);
      section = [];
      unit.set(header[1]!, section);
      return;
    }
    const entry = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    assert.ok(entry, `${where}: "${line}" is Key=Value`);
    assert.ok(section, `${where}: inside a section`);
    section.push([entry[1]!, entry[2]!]);
  });
  return unit;
}

/** Every value of `key` in `section`, in order. */
function values(unit: Unit, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

function value(unit: Unit, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

Deno.test("systemd unit: sections, Key=Value lines and the hardening it promises", async () => {
  const unit = parseUnit(await Deno.readTextFile(UNIT));
  assert.deepEqual([...unit.keys()], ["Unit", "Service", "Install"]);
  const { readScope } = await compileTask();

  const execStart = value(unit, "Service", "ExecStart")?.split(/\s+/) ?? [];
  assert.equal(execStart[0], "/usr/local/bin/logwisp");
  const config = execStart[execStart.indexOf("--config") + 1] ?? "";
  assert.ok(inScope(config, readScope), `${config} is inside --allow-read=${readScope}`);

  const expected: Record<string, string> = {
    Type: "exec",
    User: "logwisp",
    Group: "logwisp",
    SupplementaryGroups: "adm",
    Restart: "always",
    RestartPreventExitStatus: "2",
    KillSignal: "SIGTERM",
    TimeoutStopSec: "10",
    NoNewPrivileges: "true",
    ProtectSystem: "strict",
    ProtectHome: "true",
    PrivateTmp: "true",
    ReadOnlyPaths: "/var/log",
    CapabilityBoundingSet: "",
    AmbientCapabilities: "",
    RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
    SystemCallArchitectures: "native",
    SystemCallErrorNumber: "EPERM",
    LockPersonality: "true",
    RestrictRealtime: "true",
    RestrictNamespaces: "true",
    ProtectKernelTunables: "true",
    ProtectKernelModules: "true",
    ProtectKernelLogs: "true",
    ProtectControlGroups: "true",
    ProtectClock: "true",
    ProtectHostname: "true",
    PrivateDevices: "true",
    RestrictSUIDSGID: "true",
    UMask: "0077",
    MemoryDenyWriteExecute: "false",
  };
  for (const [key, want] of Object.entries(expected)) {
    assert.equal(value(unit, "Service", key), want, `[Service] ${key}=`);
  }
  assert.deepEqual(values(unit, "Service", "SystemCallFilter"), [
    "@system-service @pkey",
    "~@privileged @resources",
  ]);
  assert.equal(value(unit, "Service", "ExecReload"), undefined, "no reload: SIGHUP is ignored");
  assert.equal(value(unit, "Install", "WantedBy"), "multi-user.target");
  const stop = Number(value(unit, "Service", "TimeoutStopSec"));
  assert.ok(stop > 5, "TimeoutStopSec leaves room for LogWisp's 5 s shutdown");
});

Deno.test({
  name: "systemd unit: systemd-analyze verify and security accept it",
  ignore: SYSTEMD_ANALYZE === undefined,
  fn: async (t) => {
    const analyze = SYSTEMD_ANALYZE!;
    const { permissions } = await compileTask();
    await withTempDir(async (dir) => {
      // verify wants ExecStart= to be executable. /usr/local/bin/logwisp is not installed
      // here, so a drop-in runs the same program the way it runs without compiling:
      // `deno run` with the baked permissions.
      await Deno.copyFile(UNIT, join(dir, "logwisp.service"));
      await Deno.mkdir(join(dir, "logwisp.service.d"));
      await Deno.writeTextFile(
        join(dir, "logwisp.service.d", "deno-run.conf"),
        `[Service]\nExecStart=\nExecStart=${Deno.execPath()} run ${permissions.join(" ")} ` +
          `${MAIN} --config /etc/logwisp/logwisp.toml\n`,
      );
      // The trailing ":" keeps the system's unit directories (targets like sysinit.target).
      const env = { SYSTEMD_UNIT_PATH: `${dir}:`, SYSTEMD_LOG_COLOR: "0" };
      const verify = await run(analyze, ["verify", "--man=no", "logwisp.service"], { env });
      assert.equal(verify.code, 0, verify.stderr);
      // Unknown keys, bad values and unknown syscall groups are warnings with exit 0.
      assert.equal(verify.stderr + verify.stdout, "", "systemd-analyze verify has no complaint");

      await t.step({
        name: "systemd-analyze security --offline (systemd >= 250)",
        ignore: !SYSTEMD_OFFLINE,
        fn: async () => {
          const security = await run(analyze, [
            "security",
            "--offline=true",
            "--no-pager",
            join(dir, "logwisp.service"),
          ], { env });
          assert.equal(security.code, 0, security.stderr);
          const exposure = /Overall exposure level for logwisp\.service: (\d+\.\d+)/.exec(
            security.stdout,
          );
          assert.ok(exposure, security.stdout);
          note(`systemd-analyze security: exposure ${exposure[1]} (0 = locked down, 10 = unsafe)`);
          assert.ok(Number(exposure[1]) <= 2, "exposure stays at 2.0 or below");
        },
      });
    });
  },
});

// ---- an emulation of the unit's sandbox ------------------------------------------------

/**
 * Applies what systemd applies for the unit's SystemCallFilter=, SystemCallErrorNumber=,
 * SystemCallArchitectures=native, RestrictAddressFamilies=, MemoryDenyWriteExecute= and
 * NoNewPrivileges=, then execs the command. MemoryDenyWriteExecute= comes two ways, as in
 * systemd: --mdwe is prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN) (systemd >= 254 on Linux
 * >= 6.3), --mdwe-seccomp the older seccomp filter (EPERM for mmap with PROT_WRITE|PROT_EXEC,
 * mprotect or pkey_mprotect with PROT_EXEC).
 *
 * usage: sandbox [--mdwe] [--mdwe-seccomp] [--families=N,...] [--syscalls=N,... [--errno=N]]
 *                -- CMD [ARG...]
 * Exits 121 (usage), 122 (PR_SET_MDWE unsupported), 123 (seccomp failed), 127 (exec failed).
 */
const SANDBOX_C = String.raw`
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#endif
#ifndef PR_MDWE_REFUSE_EXEC_GAIN
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif
#define MAX_RULES 1024
#define LOAD(field) \
  (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))

static int parse_list(const char *text, unsigned *out) {
  int n = 0;
  while (*text && n < MAX_RULES) {
    char *end;
    out[n++] = (unsigned)strtoul(text, &end, 10);
    if (end == text) return -1;
    text = *end == ',' ? end + 1 : end;
  }
  return n;
}

static int install(struct sock_filter *code, int len) {
  struct sock_fprog prog = {.len = (unsigned short)len, .filter = code};
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv) {
  static unsigned families[MAX_RULES], syscalls[MAX_RULES];
  static struct sock_filter code[2 * MAX_RULES + 16];
  int mdwe = 0, mdwe_seccomp = 0, nfamilies = -1, nsyscalls = -1, i;
  long errno_value = -1;
  for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--mdwe") == 0) mdwe = 1;
    else if (strcmp(argv[i], "--mdwe-seccomp") == 0) mdwe_seccomp = 1;
    else if (strncmp(argv[i], "--families=", 11) == 0) nfamilies = parse_list(argv[i] + 11, families);
    else if (strncmp(argv[i], "--syscalls=", 11) == 0) nsyscalls = parse_list(argv[i] + 11, syscalls);
    else if (strncmp(argv[i], "--errno=", 8) == 0) errno_value = strtol(argv[i] + 8, NULL, 10);
    else { fprintf(stderr, "sandbox: unknown option %s\n", argv[i]); return 121; }
  }
  if (i + 1 >= argc || nfamilies < -1 || nsyscalls < -1) { fprintf(stderr, "sandbox: usage\n"); return 121; }
  if (mdwe && prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0L, 0L, 0L) != 0) {
    perror("sandbox: prctl(PR_SET_MDWE)");
    return 122;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) { perror("sandbox: no_new_privs"); return 123; }
  if (mdwe_seccomp) {
    struct sock_filter deny_wx[] = {
      LOAD(nr),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 0, 5),
      LOAD(args[2]),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pkey_mprotect, 0, 3),
      LOAD(args[2]),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    if (install(deny_wx, sizeof deny_wx / sizeof deny_wx[0]) != 0) {
      perror("sandbox: seccomp (mdwe)");
      return 123;
    }
  }
  if (nfamilies >= 0) {  /* RestrictAddressFamilies=: socket() in other families fails */
    int n = 0;
    code[n++] = LOAD(nr);
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 1, 0);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    code[n++] = LOAD(args[0]);
    for (int f = 0; f < nfamilies; f++) {
      code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, families[f], 0, 1);
      code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT);
    if (install(code, n) != 0) { perror("sandbox: seccomp (families)"); return 123; }
  }
  if (nsyscalls >= 0) {  /* SystemCallFilter= allow list, SystemCallArchitectures=native */
    unsigned deny = errno_value < 0 ? SECCOMP_RET_KILL_PROCESS
                                    : SECCOMP_RET_ERRNO | ((unsigned)errno_value & SECCOMP_RET_DATA);
    int n = 0;
    code[n++] = LOAD(arch);
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    code[n++] = LOAD(nr);
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    for (int s = 0; s < nsyscalls; s++) {
      code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, syscalls[s], 0, 1);
      code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
    if (install(code, n) != 0) { perror("sandbox: seccomp (syscalls)"); return 123; }
  }
  execvp(argv[i + 1], argv + i + 1);
  perror("sandbox: exec");
  return 127;
}
`;

const UNISTD = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
const FAMILIES: Record<string, number> = {
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  AF_NETLINK: 16,
  AF_PACKET: 17,
};
const ERRNOS: Record<string, number> = { EPERM: 1, EACCES: 13, ENOSYS: 38 };

/** Compiles the sandbox helper into `dir`, or says why it cannot. */
async function sandboxHelper(dir: string): Promise<string | { skip: string }> {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    return { skip: `the emulation is written for x86_64 Linux, not ${Deno.build.target}` };
  }
  const cc = which("cc") ?? which("gcc");
  if (!cc) return { skip: "no C compiler (install gcc)" };
  const source = join(dir, "sandbox.c");
  const helper = join(dir, "sandbox");
  await Deno.writeTextFile(source, SANDBOX_C);
  for (const header of ["/usr/include/linux/seccomp.h", "/usr/include/stdio.h"]) {
    try {
      await Deno.stat(header);
    } catch {
      return { skip: `${header} is missing (install libc6-dev)` };
    }
  }
  const built = await run(cc, ["-O2", "-Wall", "-Werror", "-o", helper, source]);
  assert.equal(built.code, 0, `the sandbox helper compiles:\n${built.stderr}`);
  return helper;
}

/** Expands a systemd syscall group (recursively) into syscall names. */
async function expandSyscalls(
  analyze: string,
  item: string,
  seen = new Set<string>(),
): Promise<Set<string>> {
  const names = new Set<string>();
  if (!item.startsWith("@")) return names.add(item);
  if (seen.has(item)) return names;
  seen.add(item);
  const { code, stdout, stderr } = await run(analyze, ["syscall-filter", item]);
  assert.equal(code, 0, `systemd-analyze syscall-filter ${item}: ${stderr}`);
  for (const line of stdout.split("\n").slice(1)) {
    const name = line.trim();
    if (name === "" || name.startsWith("#")) continue;
    for (const inner of await expandSyscalls(analyze, name, seen)) names.add(inner);
  }
  return names;
}

interface Sandbox {
  readonly helper: string;
  /** Options for the helper, ending in "--": append the command. */
  readonly args: readonly string[];
  readonly allowed: ReadonlySet<string>;
}

/** The sandbox deploy/logwisp.service asks systemd for, as helper arguments. */
async function unitSandbox(dir: string): Promise<Sandbox | { skip: string }> {
  const helper = await sandboxHelper(dir);
  if (typeof helper !== "string") return helper;
  const analyze = which("systemd-analyze");
  if (!analyze) return { skip: "systemd-analyze is not installed (it expands syscall groups)" };
  let header: string;
  try {
    header = await Deno.readTextFile(UNISTD);
  } catch {
    return { skip: `${UNISTD} is missing (install linux-libc-dev)` };
  }
  const numbers = new Map(
    [...header.matchAll(/^#define __NR_(\w+) (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]),
  );
  const unit = parseUnit(await Deno.readTextFile(UNIT));

  const allowed = new Set<string>();
  const filters = values(unit, "Service", "SystemCallFilter");
  assert.ok(filters.length > 0 && !filters[0]!.startsWith("~"), "starts with an allow list");
  for (const filter of filters) {
    const deny = filter.startsWith("~");
    for (const item of filter.replace(/^~/, "").split(/\s+/)) {
      for (const name of await expandSyscalls(analyze, item)) {
        if (deny) allowed.delete(name);
        else allowed.add(name);
      }
    }
  }
  // Names of other architectures (chown32, ...) do not exist here, as systemd ignores them.
  const syscalls = [...allowed].flatMap((name) => numbers.get(name) ?? []);
  const args = [`--syscalls=${syscalls.join(",")}`];
  const errnoName = value(unit, "Service", "SystemCallErrorNumber");
  if (errnoName !== undefined) {
    assert.ok(errnoName in ERRNOS, `SystemCallErrorNumber=${errnoName} is one this test knows`);
    args.push(`--errno=${ERRNOS[errnoName]}`);
  }
  const families = value(unit, "Service", "RestrictAddressFamilies");
  if (families !== undefined) {
    const list = families.split(/\s+/).map((name) => {
      assert.ok(name in FAMILIES, `RestrictAddressFamilies: ${name} is one this test knows`);
      return FAMILIES[name];
    });
    args.push(`--families=${list.join(",")}`);
  }
  if (value(unit, "Service", "MemoryDenyWriteExecute") === "true") args.push("--mdwe-seccomp");
  return { helper, args: [...args, "--"], allowed };
}

/**
 * What the service does, for the syscalls it makes: poll-stat, read and list a log
 * directory, serve HTTP and TCP on 0.0.0.0, answer a client by name, JSON-encode entries,
 * catch SIGHUP and SIGTERM. Prints "workload ok" last.
 */
const WORKLOAD_TS = `
const dir = Deno.args[0];
const file = dir + "/app.log";
await Deno.writeTextFile(file, "first\\n");
let position = 0;
const buffer = new Uint8Array(65536);
for (let i = 0; i < 20; i++) {
  const info = await Deno.stat(file);
  if (info.size > position) {
    using handle = await Deno.open(file);
    await handle.seek(position, Deno.SeekMode.Start);
    position += (await handle.read(buffer)) ?? 0;
  }
  for await (const _ of Deno.readDir(dir)) { /* scan */ }
  await Deno.writeTextFile(file, "line " + i + "\\n", { append: true });
  await new Promise((resolve) => setTimeout(resolve, 0));
}
let encoded = 0;
for (let i = 0; i < 20000; i++) {
  encoded += JSON.stringify({ time: new Date(i).toISOString(), level: "INFO", message: "m" + i }).length;
}
const abort = new AbortController();
const http = Deno.serve(
  { hostname: "0.0.0.0", port: 0, signal: abort.signal, onListen() {} },
  () => Response.json({ service: "LogWisp" }),
);
const tcp = Deno.listen({ hostname: "0.0.0.0", port: 0 });
const response = await fetch("http://localhost:" + http.addr.port + "/status");
if (response.status !== 200 || (await response.json()).service !== "LogWisp") throw new Error("http");
const client = await Deno.connect({ hostname: "127.0.0.1", port: tcp.addr.port });
const server = await tcp.accept();
await server.write(new TextEncoder().encode("entry\\n"));
await client.read(buffer);
client.close();
server.close();
tcp.close();
const hup = Promise.withResolvers();
const term = Promise.withResolvers();
Deno.addSignalListener("SIGHUP", () => hup.resolve());
Deno.addSignalListener("SIGTERM", () => term.resolve());
Deno.kill(Deno.pid, "SIGHUP");
await hup.promise;
Deno.kill(Deno.pid, "SIGTERM");
await term.promise;
abort.abort();
await http.finished;
console.log("workload ok", position, encoded);
`;

Deno.test({
  name: "systemd unit: Deno runs LogWisp inside an emulation of the unit's sandbox",
  ignore: !SANDBOX_BUILDABLE || SYSTEMD_ANALYZE === undefined,
  fn: async () => {
    await withTempDir(async (dir) => {
      const sandbox = await unitSandbox(dir);
      assert.ok(!("skip" in sandbox), `the unit sandbox: ${"skip" in sandbox && sandbox.skip}`);

      const { permissions } = await compileTask();
      const config = join(dir, "logwisp.toml");
      await Deno.writeTextFile(config, configFor(dir));
      const check = await run(sandbox.helper, [
        ...sandbox.args,
        Deno.execPath(),
        "run",
        "-q",
        ...permissions.map((flag) => flag.replace(/^--allow-read=/, `--allow-read=${dir},`)),
        MAIN,
        "--check",
        "--config",
        config,
      ], {
        clearEnv: true,
        env: denoEnv(),
      });
      assert.equal(check.code, 0, `${check.stderr} (signal ${check.signal})`);
      assert.match(check.stdout, /Configuration OK\n$/);

      const logs = join(dir, "logs");
      await Deno.mkdir(logs);
      const workload = join(dir, "workload.ts");
      await Deno.writeTextFile(workload, WORKLOAD_TS);
      const served = await run(sandbox.helper, [
        ...sandbox.args,
        Deno.execPath(),
        "run",
        "-q",
        "--no-config",
        `--allow-read=${logs}`,
        `--allow-write=${logs}`,
        "--allow-net",
        "--allow-run",
        workload,
        logs,
      ], {
        clearEnv: true,
        env: denoEnv(),
      });
      assert.equal(served.code, 0, `${served.stderr} (signal ${served.signal})`);
      assert.match(served.stdout, /^workload ok \d+ \d+\n$/);
      // With SystemCallErrorNumber=EPERM V8 survives without pkey_alloc, but only with the
      // call allowed can it guard its JIT code with memory protection keys where the CPU has them.
      assert.ok(sandbox.allowed.has("pkey_alloc"), "V8 calls pkey_alloc at startup: allow @pkey");
    });
  },
});

Deno.test({
  name: "MemoryDenyWriteExecute: the unit's setting matches what V8 does under it",
  ignore: !SANDBOX_BUILDABLE,
  fn: async (t) => {
    await withTempDir(async (dir) => {
      const helper = await sandboxHelper(dir);
      assert.equal(typeof helper, "string", "the sandbox helper builds");
      if (typeof helper !== "string") return;
      const script = join(dir, "hello.ts");
      await Deno.writeTextFile(script, 'console.log("hello");\n');
      const unit = parseUnit(await Deno.readTextFile(UNIT));
      const task = await compileTask();
      const variants = [
        ["--mdwe", "prctl(PR_SET_MDWE) as systemd >= 254 applies it"],
        ["--mdwe-seccomp", "the seccomp filter of systemd < 254"],
      ] as const;
      for (const [flag, mechanism] of variants) {
        await t.step({
          name: `MDWE via ${mechanism}`,
          // PR_SET_MDWE came with Linux 6.3; the seccomp filter works on any kernel.
          ignore: flag === "--mdwe" && !PRCTL_MDWE,
          fn: async () => {
            const denoRun = [flag, "--", Deno.execPath(), "run", "-q", "--no-config"];
            const jit = await run(helper, [...denoRun, script], { clearEnv: true, env: denoEnv() });
            assert.notEqual(jit.code, 122, `${mechanism}: ${jit.stderr.trim()}`);
            const jitless = await run(helper, [...denoRun, "--v8-flags=--jitless", script], {
              clearEnv: true,
              env: denoEnv(),
            });
            assert.equal(
              jitless.code,
              0,
              `--v8-flags=--jitless runs under ${mechanism}: ${jitless.stderr}`,
            );
            assert.equal(jitless.stdout, "hello\n");

            const jitWorks = jit.code === 0 && jit.stdout === "hello\n";
            const lines = jit.stderr.split("\n");
            const message = lines.find((line) => line.includes("Check failed")) ??
              lines.find((line) => line.trim() !== "");
            note(
              `MDWE via ${mechanism}: deno run ${
                jitWorks ? "works" : `fails, exit ${jit.code} (${message?.trim() ?? "no message"})`
              }; with --v8-flags=--jitless: works`,
            );
            if (value(unit, "Service", "MemoryDenyWriteExecute") === "true") {
              assert.ok(
                jitWorks || task.args.includes("--v8-flags=--jitless"),
                "MemoryDenyWriteExecute=true needs a binary compiled with --v8-flags=--jitless",
              );
            } else if (jitWorks) {
              note(`NOTE V8 runs under ${mechanism}: the unit may set MemoryDenyWriteExecute=true`);
            }
          },
        });
      }
    });
  },
});

// ---- Dockerfile -----------------------------------------------------------------------

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** Index of the FROM that starts this instruction's stage. */
  readonly stage: number;
}

function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = "";
  let stage = -1;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (line === "" && pending === "")) continue;
    pending += (pending ? " " : "") + line.replace(/\\$/, "").trim();
    if (line.endsWith("\\")) continue;
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(pending);
    assert.ok(match, `Dockerfile: "${pending}" is an instruction`);
    const keyword = match[1]!.toUpperCase();
    if (keyword === "FROM") stage++;
    instructions.push({ keyword, args: match[2]!, stage });
    pending = "";
  }
  assert.equal(pending, "", "Dockerfile: no dangling continuation");
  return instructions;
}

function all(instructions: readonly Instruction[], keyword: string): Instruction[] {
  return instructions.filter((instruction) => instruction.keyword === keyword);
}

function one(instructions: readonly Instruction[], keyword: string): Instruction {
  const found = all(instructions, keyword);
  assert.equal(found.length, 1, `one ${keyword} in the Dockerfile`);
  return found[0]!;
}

/** `COPY [--flags] SRC... DEST` split into its parts. */
function copyParts(args: string): { flags: string[]; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((word) => word.startsWith("--"));
  const paths = words.filter((word) => !word.startsWith("--"));
  return { flags, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

function envOf(instructions: readonly Instruction[], stage: number): Map<string, string> {
  const env = new Map<string, string>();
  for (const { args } of all(instructions, "ENV").filter((i) => i.stage === stage)) {
    for (const pair of args.split(/\s+/)) {
      const [key, ...rest] = pair.split("=");
      assert.ok(rest.length > 0, `ENV ${pair} is KEY=value`);
      env.set(key!, rest.join("="));
    }
  }
  return env;
}

interface HttpServer {
  readonly port: number;
}

async function exampleConfig(): Promise<{ http: HttpServer[]; ports: number[] }> {
  const config = parseToml(await Deno.readTextFile(EXAMPLE)) as {
    streams: {
      httpserver?: { enabled?: boolean; port: number };
      tcpserver?: { enabled?: boolean; port: number };
    }[];
  };
  const http = config.streams.flatMap((stream) =>
    stream.httpserver?.enabled ? [{ port: stream.httpserver.port }] : []
  );
  const tcp = config.streams.flatMap((stream) =>
    stream.tcpserver?.enabled ? [stream.tcpserver.port] : []
  );
  return { http, ports: [...http.map((server) => server.port), ...tcp].sort((a, b) => a - b) };
}

async function exposedPorts(): Promise<number[]> {
  const instructions = parseDockerfile(await Deno.readTextFile(DOCKERFILE));
  return one(instructions, "EXPOSE").args.split(/\s+/).map(Number).sort((a, b) => a - b);
}

/** The HEALTHCHECK's command as an argv array (exec form). */
async function healthcheck(): Promise<{ argv: string[]; env: Map<string, string> }> {
  const instructions = parseDockerfile(await Deno.readTextFile(DOCKERFILE));
  const instruction = one(instructions, "HEALTHCHECK");
  const exec = /^(?:--[a-z-]+=\S+\s+)*CMD\s+(\[.*\])$/.exec(instruction.args);
  assert.ok(exec, "HEALTHCHECK [options] CMD [exec form]");
  const argv: unknown = JSON.parse(exec[1]!);
  assert.ok(Array.isArray(argv) && argv.every((word) => typeof word === "string"));
  return { argv, env: envOf(instructions, instruction.stage) };
}

Deno.test("Dockerfile: stages, paths, permissions and user agree with deno.json", async () => {
  const instructions = parseDockerfile(await Deno.readTextFile(DOCKERFILE));
  const task = await compileTask();
  const froms = all(instructions, "FROM").map(({ args }) => args);
  assert.equal(froms.length, 2, "a build stage and a runtime stage");

  // Build stage: the official image of the Deno version CI installs, frozen dependencies.
  const build = /^denoland\/deno:(\S+) AS (\w+)$/i.exec(froms[0]!);
  assert.ok(build, `build stage FROM denoland/deno:<version> AS <name>: ${froms[0]}`);
  const ciVersion = /^DENO_VERSION=(\S+)$/m.exec(await Deno.readTextFile(`${ROOT}.ci/run`));
  assert.ok(ciVersion, ".ci/run sets DENO_VERSION=");
  assert.equal(build[1], ciVersion[1], "the build image's Deno is the version CI tests with");
  const runs = all(instructions, "RUN").filter((i) => i.stage === 0).map(({ args }) => args);
  assert.ok(runs.some((r) => /\bdeno install --frozen\b/.test(r)), "deno install --frozen");
  assert.ok(
    runs.some((r) => /\bdeno install --frozen --entrypoint src\/main\.ts\b/.test(r)),
    "the entry point's whole module graph is checked against deno.lock",
  );
  assert.ok(runs.some((r) => /\bdeno task compile\b/.test(r)), "the binary is deno task compile");
  const workdir = all(instructions, "WORKDIR").find((i) => i.stage === 0)?.args;
  assert.ok(workdir?.startsWith("/"), "the build stage has an absolute WORKDIR");
  const copies = all(instructions, "COPY").map((i) => ({ ...copyParts(i.args), stage: i.stage }));
  const depsFirst = copies.findIndex((c) => c.sources.includes("deno.lock"));
  const sources = copies.findIndex((c) => c.sources.some((s) => s.startsWith("src")));
  assert.ok(depsFirst >= 0 && depsFirst < sources, "deno.json/deno.lock are copied before src/");

  // Runtime stage: glibc, the compile task's output at the path CMD runs.
  assert.equal(froms[1], "debian:bookworm-slim");
  const binary = copies.find((c) => c.flags.includes(`--from=${build[2]}`));
  assert.ok(binary, "the runtime stage copies from the build stage");
  assert.deepEqual(binary.sources, [`${workdir}/${task.output}`]);
  const cmd: unknown = JSON.parse(one(instructions, "CMD").args);
  assert.ok(Array.isArray(cmd));
  assert.equal(binary.dest, `/usr/local/bin/${cmd[0]}`, "CMD runs the copied binary by name");
  assert.ok(!all(instructions, "ENV").some((i) => /\bPATH=/.test(i.args)), "default PATH kept");
  assert.equal(cmd[1], "--config");
  const config = cmd[2] as string;
  const configCopy = copies.find((c) => c.dest === config);
  assert.deepEqual(configCopy?.sources, ["config.example.toml"], "the default config is baked in");
  assert.ok(inScope(config, task.readScope), `${config} is inside --allow-read=${task.readScope}`);
  assert.equal(
    envOf(instructions, 1).get("LOGWISP_CONFIG_DIR"),
    config.slice(0, config.lastIndexOf("/")),
    "`logwisp --check` in the container finds the same file",
  );

  // A system user, not root, for everything after the build.
  const user = all(instructions, "USER").filter((i) => i.stage === 1);
  assert.deepEqual(user.map((i) => i.args), ["logwisp"]);
  assert.ok(
    all(instructions, "RUN").some((i) =>
      i.stage === 1 && /useradd --system\b.*\blogwisp$/.test(i.args)
    ),
    "useradd --system ... logwisp",
  );
  assert.ok(instructions.indexOf(user[0]!) < instructions.indexOf(one(instructions, "CMD")));

  // Ports, stop signal, healthcheck target.
  const example = await exampleConfig();
  assert.deepEqual(await exposedPorts(), example.ports, "EXPOSE = the example config's ports");
  assert.equal(one(instructions, "STOPSIGNAL").args, "SIGTERM");
  const { env } = await healthcheck();
  const port = Number(env.get("HEALTHCHECK_PORT"));
  assert.ok(
    example.http.some((s) => s.port === port),
    `HEALTHCHECK_PORT=${port} is an HTTP port of config.example.toml`,
  );
  assert.equal(env.get("HEALTHCHECK_PATH"), "/readyz", "the probe asks for readiness");
  for (const { keyword, args } of instructions) {
    assert.ok(!/\b(curl|wget)\b/.test(args), `no curl or wget: ${keyword} ${args}`);
  }
});

Deno.test({
  name: "Dockerfile HEALTHCHECK: bash /dev/tcp against real servers",
  ignore: BASH === undefined,
  fn: async () => {
    const bash = BASH!;
    const { argv, env } = await healthcheck();
    assert.equal(argv[0], "bash", "debian:bookworm-slim has bash, not curl");
    const probe = (port: number, path = env.get("HEALTHCHECK_PATH")!) =>
      run(bash, argv.slice(1), {
        clearEnv: true,
        env: { HEALTHCHECK_PORT: String(port), HEALTHCHECK_PATH: path },
      });

    const requests: string[] = [];
    let status = 200;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const path = new URL(request.url).pathname;
      requests.push(`${request.method} ${path}`);
      if (path !== "/readyz") return new Response("not found", { status: 404 });
      return Response.json({ status: "ready" }, { status });
    });
    try {
      const healthy = await probe(server.addr.port);
      assert.equal(healthy.code, 0, healthy.stderr);
      assert.equal((await probe(server.addr.port, "/elsewhere")).code, 1, "404 is unhealthy");
      status = 503;
      assert.equal((await probe(server.addr.port)).code, 1, "503 is unhealthy");
      assert.deepEqual(requests, ["GET /readyz", "GET /elsewhere", "GET /readyz"]);
    } finally {
      await server.shutdown();
    }

    // Nothing listening: unhealthy at once.
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closedPort = closed.addr.port;
    closed.close();
    assert.notEqual((await probe(closedPort)).code, 0, "connection refused is unhealthy");

    // A server that accepts and never answers: the probe gives up by itself (read -t).
    const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted = silent.accept();
    try {
      const hung = await probe(silent.addr.port);
      assert.notEqual(hung.code, 0, "no answer is unhealthy");
      // It gives up by itself, before Docker's --timeout kills it.
      const dockerfile = await Deno.readTextFile(DOCKERFILE);
      const timeout = Number(/--timeout=(\d+)s/.exec(dockerfile)?.[1]);
      const readTimeout = Number(/read -r -t (\d+)/.exec(dockerfile)?.[1]);
      assert.ok(
        readTimeout < timeout,
        `read -t ${readTimeout} is shorter than --timeout=${timeout}s`,
      );
    } finally {
      (await accepted).close();
      silent.close();
    }
  },
});

// ---- .dockerignore --------------------------------------------------------------------

/** Docker's .dockerignore rules (last match wins, `!` re-includes, a match covers subpaths). */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text.split("\n").map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const include = line.startsWith("!");
      const pattern = line.replace(/^!/, "").replace(/^\/+|\/+$/g, "");
      const source = pattern.split(/(\*\*\/|\*\*|\*|\?)/).map((part) =>
        part === "**/"
          ? "(?:.*/)?"
          : part === "**"
          ? ".*"
          : part === "*"
          ? "[^/]*"
          : part === "?"
          ? "[^/]"
          : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")
      ).join("");
      return { include, regexp: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const prefixes = path.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
    let ignored = false;
    for (const rule of rules) {
      if (prefixes.some((prefix) => rule.regexp.test(prefix))) ignored = !rule.include;
    }
    return ignored;
  };
}

Deno.test(".dockerignore sends only what the Dockerfile copies", async () => {
  const ignored = dockerignore(await Deno.readTextFile(`${ROOT}.dockerignore`));
  const instructions = parseDockerfile(await Deno.readTextFile(DOCKERFILE));
  const fromContext = all(instructions, "COPY").map((i) => copyParts(i.args))
    .filter((copy) => !copy.flags.some((flag) => flag.startsWith("--from=")))
    .flatMap((copy) => copy.sources.map((source) => source.replace(/\/$/, "")));
  for (const source of fromContext) assert.ok(!ignored(source), `${source} is in the context`);
  for (const path of ["src/main.ts", "src/config/load.ts", "deno.lock"]) {
    assert.ok(!ignored(path), `${path} is in the context`);
  }
  for (
    const path of [
      ".git",
      ".git/HEAD",
      "dist/logwisp",
      "tests/cli_test.ts",
      ".ci/run",
      "node_modules/x/index.js",
      "logwisp.toml",
      "src/config/load_test.ts",
      "src/monitor/line_splitter_bench.ts",
      "src/monitor/testdata/rotating_writer.ts",
    ]
  ) {
    assert.ok(ignored(path), `${path} stays out of the build context`);
  }
});

// ---- docker-compose.yml ---------------------------------------------------------------

type Yaml = string | boolean | Yaml[] | { [key: string]: Yaml };

/** The YAML docker-compose.yml uses: block maps and lists, flow lists, plain/quoted scalars. */
function parseYaml(text: string): Yaml {
  const lines = text.split("\n").map((raw) => raw.replace(/(^|\s)#.*$/, ""))
    .filter((line) => line.trim() !== "")
    .map((line) => ({ indent: line.length - line.trimStart().length, text: line.trim() }));
  let at = 0;
  const scalar = (word: string): Yaml => {
    if (word.startsWith("[") && word.endsWith("]")) {
      return word.slice(1, -1).split(",").map((item) => scalar(item.trim()));
    }
    if (word.startsWith('"')) return JSON.parse(word) as string;
    if (word.startsWith("'")) return word.slice(1, -1);
    return word === "true" ? true : word === "false" ? false : word;
  };
  const block = (indent: number): Yaml => {
    if (lines[at]!.text.startsWith("- ")) {
      const list: Yaml[] = [];
      while (
        at < lines.length && lines[at]!.indent === indent && lines[at]!.text.startsWith("- ")
      ) {
        const item = lines[at]!.text.slice(2);
        if (/^[\w.-]+:(\s|$)/.test(item)) {
          // "- key: value" opens a map whose other keys sit two columns further in.
          lines[at] = { indent: indent + 2, text: item };
          list.push(block(indent + 2));
        } else {
          list.push(scalar(item));
          at++;
        }
      }
      return list;
    }
    const map: { [key: string]: Yaml } = {};
    while (at < lines.length && lines[at]!.indent === indent) {
      const entry = /^([\w.-]+):(?:\s+(.*))?$/.exec(lines[at]!.text);
      assert.ok(entry, `docker-compose.yml: "${lines[at]!.text}" is key: value`);
      assert.ok(!(entry[1]! in map), `docker-compose.yml: ${entry[1]} appears once`);
      at++;
      map[entry[1]!] = entry[2] !== undefined
        ? scalar(entry[2])
        : at < lines.length && lines[at]!.indent > indent
        ? block(lines[at]!.indent)
        : "";
    }
    assert.ok(at === lines.length || lines[at]!.indent < indent, "docker-compose.yml: indentation");
    return map;
  };
  return block(0);
}

Deno.test("docker-compose.yml agrees with the Dockerfile and locks the container down", async () => {
  const compose = parseYaml(await Deno.readTextFile(COMPOSE)) as Record<string, Yaml>;
  assert.deepEqual(Object.keys(compose), ["services"], "no obsolete version: key");
  const services = compose.services as Record<string, Record<string, Yaml>>;
  const service = services.logwisp;
  assert.ok(service, "a logwisp service");
  assert.equal(service.build, ".");

  const instructions = parseDockerfile(await Deno.readTextFile(DOCKERFILE));
  const cmd = JSON.parse(one(instructions, "CMD").args) as string[];
  assert.deepEqual(service.command, cmd, "the same command as the image");

  const volumes = service.volumes as Yaml[];
  assert.ok(volumes.includes("/var/log:/var/log:ro"), "host logs read-only at /var/log");
  const configMount = volumes.find((v) => typeof v === "object" && !Array.isArray(v)) as
    | Record<string, Yaml>
    | undefined;
  assert.deepEqual(configMount, {
    type: "bind",
    source: "./logwisp.toml",
    target: cmd[2]!,
    read_only: true,
  });

  const published = (service.ports as string[]).map((mapping) => {
    const parts = mapping.split(":");
    assert.ok(parts.length >= 2, `${mapping} is HOST:CONTAINER`);
    return Number(parts.at(-1));
  }).sort((a, b) => a - b);
  assert.deepEqual(published, await exposedPorts(), "compose publishes what the image exposes");

  assert.equal(service.restart, "unless-stopped");
  assert.equal(service.read_only, true);
  assert.deepEqual(service.cap_drop, ["ALL"]);
  assert.deepEqual(service.security_opt, ["no-new-privileges:true"]);
  assert.equal(service.stop_signal, "SIGTERM");
  assert.ok(Array.isArray(service.tmpfs) && service.tmpfs.includes("/tmp"));
});

// ---- the running service ---------------------------------------------------------------

/** Collects a child's output as it arrives. */
function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let text = "";
  const done = stream.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (text += chunk) }),
  );
  return { text: () => text, done };
}

/** Polls `condition` until it holds or `ms` pass. */
async function until(condition: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return await condition();
}

Deno.test({
  name: "service: HEALTHCHECK passes, SIGHUP is ignored, SIGTERM exits 0 within 5 s",
  ignore: BASH === undefined,
  fn: async () => {
    const bash = BASH!;
    const { argv, env } = await healthcheck();
    await withTempDir(async (dir) => {
      const port = freePort();
      const config = join(dir, "logwisp.toml");
      await Deno.writeTextFile(
        config,
        `[[streams]]\nname = "app"\n[streams.monitor]\ntargets = [{ path = ${
          JSON.stringify(dir)
        }, pattern = "*.log" }]\n[streams.httpserver]\nenabled = true\nport = ${port}\n`,
      );
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-q",
          `--config=${ROOT}deno.json`,
          `--allow-read=${dir}`,
          "--allow-net",
          MAIN,
          "--quiet",
          "-c",
          config,
        ],
        cwd: dir,
        clearEnv: true,
        env: { ...denoEnv(), NO_COLOR: "1" },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = collect(child.stderr);
      let exited: Deno.CommandStatus | undefined;
      const status = child.status.then((s) => (exited = s));
      // A function, so that TypeScript does not keep a narrowing across the awaits.
      const exit = (): Deno.CommandStatus | undefined => exited;
      const healthy = async () =>
        (await run(bash, argv.slice(1), {
          clearEnv: true,
          env: { HEALTHCHECK_PORT: String(port), HEALTHCHECK_PATH: env.get("HEALTHCHECK_PATH")! },
        })).code === 0;
      try {
        const served = await until(async () => exit() !== undefined || await healthy(), 15_000);
        assert.ok(served && exit() === undefined, `LogWisp is ready: ${stderr.text()}`);

        child.kill("SIGHUP");
        assert.ok(
          await until(() => stderr.text().includes("SIGHUP received"), 5_000),
          `SIGHUP is logged: ${stderr.text()}`,
        );
        assert.equal(exit(), undefined, "SIGHUP does not stop LogWisp");
        assert.ok(await healthy(), "still healthy after SIGHUP");

        const start = performance.now();
        child.kill("SIGTERM");
        assert.ok(await until(() => exit() !== undefined, 6_000), "SIGTERM stops LogWisp");
        const elapsed = performance.now() - start;
        assert.equal(exit()?.code, 0, stderr.text());
        // The clean path, not the 5 s watchdog, ended it.
        assert.ok(
          !stderr.text().includes("Shutdown took over"),
          `exited by the watchdog after ${elapsed.toFixed(0)} ms: ${stderr.text()}`,
        );
      } finally {
        if (exit() === undefined) {
          try {
            child.kill("SIGKILL");
          } catch {
            // it exited in between
          }
        }
        await status;
        await stderr.done;
      }
    });
  },
});
