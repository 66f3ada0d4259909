/**
 * What security costs, measured on the real CLI: TCP throughput to one client in plain text,
 * over TLS (`Deno.listenTls`) and over mTLS (`node:tls`), and the CPU of a reconnecting
 * authenticated browser (one Basic request per reconnect) with and without the verification
 * cache. Prints a markdown table of medians over `BENCH_RUNS` runs (default 3); it never
 * asserts on timing.
 *
 *   deno run -A bench/tls_bench.ts
 *
 * @module
 */
import { join } from "node:path";
import { createAuthenticator } from "../src/auth/authenticator.ts";
import { makeCertificates } from "../src/tls/testdata/make_certs.ts";
import process from "node:process";
import { freePort, note, print, sleep } from "./e2e_bench.ts";

const LINES = 300_000;
const LINE_BYTES = 150;
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const RECONNECTS = 200;
const repoRoot = new URL("..", import.meta.url).pathname;

const dir = await Deno.makeTempDir({ prefix: "logwisp_tls_bench_" });
try {
  const certs = await makeCertificates(dir);
  const modes = {
    plain: "",
    tls: tlsTable(certs.server.cert, certs.server.key),
    mtls: tlsTable(certs.server.cert, certs.server.key, certs.ca.cert),
  } as const;
  const rows: string[] = [];
  for (const [mode, tls] of Object.entries(modes)) {
    const rates: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      rates.push(await throughput(mode as keyof typeof modes, tls, certs));
    }
    rows.push(
      `| TCP to one client, ${mode} (entries/s, ${LINE_BYTES} B lines) | ${median(rates)} |`,
    );
  }
  const perReconnect = await reconnectCost(dir);
  const server: number[] = [];
  for (let run = 0; run < RUNS; run++) server.push(await serverReconnectCost(certs));
  rows.push(
    `| Basic auth per reconnect, bcrypt cost 10, no cache (ms CPU) | ${perReconnect.cold} |`,
    `| Basic auth per reconnect, cache hit (ms CPU) | ${perReconnect.cached} |`,
    `| LogWisp CPU per HTTPS reconnect with Basic auth, cached (ms, ${RECONNECTS} curl runs) | ${
      median(server).toFixed(2)
    } |`,
  );
  print(`| measure | median of ${RUNS} |\n| --- | --- |\n${rows.join("\n")}`);
} finally {
  await Deno.remove(dir, { recursive: true });
}

function tlsTable(cert: string, key: string, ca?: string): string {
  return `[streams.tcpserver.tls]\nenabled = true\ncert_file = "${cert}"\nkey_file = "${key}"\n` +
    (ca ? `client_ca_file = "${ca}"\n` : "");
}

/** Entries per second from file to one TCP client reading as fast as it can. */
async function throughput(
  mode: "plain" | "tls" | "mtls",
  tls: string,
  certs: Awaited<ReturnType<typeof makeCertificates>>,
): Promise<number> {
  const log = join(dir, `${mode}.log`);
  await Deno.writeTextFile(log, "");
  const port = freePort();
  const config = join(dir, `${mode}.toml`);
  await Deno.writeTextFile(
    config,
    `[[streams]]\nname = "bench"\n[streams.monitor]\ncheck_interval_ms = 10\n` +
      `targets = [{ path = "${log}", is_file = true }]\n` +
      `[streams.tcpserver]\nenabled = true\nhost = "127.0.0.1"\nport = ${port}\n` +
      `buffer_size = ${LINES}\nbuffer_bytes = 1073741824\n${tls}`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${repoRoot}deno.json`,
      `${repoRoot}src/main.ts`,
      "-c",
      config,
      "--quiet",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes(" ready (")) {
    const { value, done } = await stderr.read();
    if (done) throw new Error(`LogWisp did not start: ${seen}`);
    seen += value;
  }
  const drainLog = (async () => {
    while (!(await stderr.read()).done) { /* dropped */ }
  })();
  const conn = mode === "plain"
    ? await Deno.connect({ hostname: "127.0.0.1", port })
    : await Deno.connectTls({
      hostname: "localhost",
      port,
      caCerts: [await Deno.readTextFile(certs.ca.cert)],
      ...(mode === "mtls" && {
        cert: await Deno.readTextFile(certs.client.cert),
        key: await Deno.readTextFile(certs.client.key),
      }),
    });
  await sleep(300);
  const line = `${"x".repeat(LINE_BYTES - 1)}\n`;
  const chunk = line.repeat(5000);
  const start = performance.now();
  const writing = (async () => {
    for (let i = 0; i < LINES / 5000; i++) await Deno.writeTextFile(log, chunk, { append: true });
  })();
  let lines = 0;
  const buffer = new Uint8Array(256 * 1024);
  while (lines < LINES) {
    const count = await conn.read(buffer);
    if (count === null) throw new Error(`${mode}: connection closed after ${lines} lines`);
    for (let i = 0; i < count; i++) if (buffer[i] === 10) lines++;
  }
  const seconds = (performance.now() - start) / 1000;
  await writing;
  conn.close();
  child.kill("SIGTERM");
  await child.status;
  await drainLog;
  const rate = Math.round(LINES / seconds);
  note(`${mode}: ${rate} entries/s`);
  return rate;
}

/** CPU time of verifying one reconnecting browser's Basic credentials, cold and cached. */
async function reconnectCost(dir: string): Promise<{ cold: string; cached: string }> {
  const users = join(dir, "users.htpasswd");
  const { code } = await new Deno.Command("htpasswd", {
    args: ["-B", "-C", "10", "-b", "-c", users, "admin", "password"],
    stderr: "null",
  }).output();
  if (code !== 0) throw new Error("htpasswd failed");
  const header = `Basic ${btoa("admin:password")}`;
  const measure = async (ttlMs: number) => {
    const authenticator = await createAuthenticator(
      { type: "basic", realm: "LogWisp", usersFile: users },
      { cache: { ttlMs } },
    );
    await authenticator.verify({ authorization: header });
    const before = process.cpuUsage();
    for (let i = 0; i < RECONNECTS; i++) await authenticator.verify({ authorization: header });
    const used = process.cpuUsage(before);
    return ((used.user + used.system) / 1000 / RECONNECTS).toFixed(3);
  };
  return { cold: await measure(0), cached: await measure(60_000) };
}

/** Ticks of CPU (user + system) `pid` has used, from `/proc`. */
async function cpuTicks(pid: number): Promise<number> {
  const fields = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * CPU LogWisp spends per browser-like reconnect: a new TLS connection and one request with
 * Basic credentials (answered from the verification cache after the first), measured from
 * `/proc` around `RECONNECTS` sequential curl runs.
 */
async function serverReconnectCost(
  certs: Awaited<ReturnType<typeof makeCertificates>>,
): Promise<number> {
  const users = join(dir, "users.htpasswd");
  const log = join(dir, "auth.log");
  await Deno.writeTextFile(log, "");
  const port = freePort();
  const config = join(dir, "auth.toml");
  await Deno.writeTextFile(
    config,
    `[[streams]]\nname = "bench"\n[streams.monitor]\ntargets = [{ path = "${log}", is_file = true }]\n` +
      `[streams.httpserver]\nenabled = true\nhost = "127.0.0.1"\nport = ${port}\n` +
      `[streams.httpserver.tls]\nenabled = true\ncert_file = "${certs.server.cert}"\n` +
      `key_file = "${certs.server.key}"\n` +
      `[streams.httpserver.auth]\ntype = "basic"\nusers_file = "${users}"\n` +
      `[streams.httpserver.access]\nauth_failures_per_minute_per_ip = 0\n`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${repoRoot}deno.json`,
      `${repoRoot}src/main.ts`,
      "-c",
      config,
      "--quiet",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const curl = () =>
    new Deno.Command("curl", {
      args: [
        "-s",
        "-o",
        "/dev/null",
        "--cacert",
        certs.ca.cert,
        "-u",
        "admin:password",
        `https://localhost:${port}/status`,
      ],
    }).output();
  for (let i = 0; i < 50 && (await curl()).code !== 0; i++) await sleep(100);
  const ticks = await cpuTicks(child.pid);
  for (let i = 0; i < RECONNECTS; i++) await curl();
  const used = (await cpuTicks(child.pid)) - ticks;
  child.kill("SIGTERM");
  await child.status;
  // Linux reports 100 ticks a second.
  const ms = (used * 10) / RECONNECTS;
  note(`server: ${ms.toFixed(2)} ms CPU per reconnect`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
