/**
 * Cost of a metrics scrape of the real CLI with 1,000 watched files and 1,000 connected
 * clients (500 SSE, 500 TCP), beside the status document of the same stream, and startup to
 * the first port accepting. Prints a markdown table; it never asserts on any figure.
 *
 *   deno run -A bench/metrics_bench.ts
 *
 * @module
 */
import {
  type Client,
  environment,
  LogWisp,
  median,
  note,
  onInterrupt,
  print,
  sseClient,
  tcpClient,
  tempDir,
  waitFor,
} from "./e2e_bench.ts";

const FILES = 1000;
const CLIENTS_PER_TRANSPORT = 500;
const SCRAPES = 30;
const STARTUP_SAMPLES = 10;

function config(dir: string) {
  return (http: number, tcp: number) =>
    `[[streams]]
name = "many"
[streams.monitor]
targets = [{ path = "${dir}", pattern = "*.log" }]
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${http}
max_connections = 2000
max_connections_per_ip = 2000
[streams.tcpserver]
enabled = true
host = "127.0.0.1"
port = ${tcp}
max_connections = 2000
max_connections_per_ip = 2000
`;
}

/** Median time and size of `SCRAPES` requests to `url`. */
async function timeRequests(url: string): Promise<{ ms: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < SCRAPES; i++) {
    const start = performance.now();
    const response = await fetch(url);
    const body = await response.arrayBuffer();
    times.push(performance.now() - start);
    bytes = body.byteLength;
  }
  return { ms: median(times), bytes };
}

async function startupMs(dir: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < STARTUP_SAMPLES; i++) {
    await using logwisp = new LogWisp(dir, config(`${dir}/none`));
    await waitFor(async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: logwisp.httpPort })).close();
        return true;
      } catch {
        return false;
      }
    }, { timeoutMs: 30_000, intervalMs: 1 });
    times.push(performance.now() - logwisp.spawnedAt);
  }
  return median(times);
}

Deno.addSignalListener("SIGINT", onInterrupt);
await using tmp = await tempDir();
const files = `${tmp.path}/files`;
await Deno.mkdir(files);
await Deno.mkdir(`${tmp.path}/none`);
for (let i = 0; i < FILES; i++) await Deno.writeTextFile(`${files}/f${i}.log`, "");

note("startup…");
const startup = await startupMs(tmp.path);

note(`${FILES} files, ${2 * CLIENTS_PER_TRANSPORT} clients…`);
await using logwisp = await LogWisp.start(tmp.path, config(files));
const clients: Client[] = [];
try {
  for (let i = 0; i < CLIENTS_PER_TRANSPORT; i++) {
    clients.push(await sseClient(logwisp.httpPort, false));
    clients.push(await tcpClient(logwisp.tcpPort, false));
  }
  await logwisp.awaitClients("tcp", CLIENTS_PER_TRANSPORT);
  const base = `http://127.0.0.1:${logwisp.httpPort}`;
  const metrics = await timeRequests(`${base}/metrics`);
  const status = await timeRequests(`${base}/status`);
  print(await environment());
  print(`| figure | value |\n| --- | --- |
| startup to first port (ms, median of ${STARTUP_SAMPLES}) | ${startup.toFixed(0)} |
| /metrics with ${FILES} files and ${
    2 * CLIENTS_PER_TRANSPORT
  } clients (ms, median of ${SCRAPES}) | ${metrics.ms.toFixed(1)} |
| /metrics response size (bytes) | ${metrics.bytes} |
| /status of the same stream (ms, median of ${SCRAPES}) | ${status.ms.toFixed(1)} |
| /status response size (bytes) | ${status.bytes} |`);
} finally {
  await Promise.all(clients.map((client) => client[Symbol.asyncDispose]()));
  Deno.removeSignalListener("SIGINT", onInterrupt);
}
