/**
 * A running LogWisp for end-to-end tests: the real CLI as a child process, its log read
 * line by line, and the clients the tests use against it (SSE over fetch, raw TCP).
 *
 * @module
 */
import { join } from "node:path";
import { SseReader, TcpLines, waitFor, which } from "../src/_test_utils.ts";
import { cliCommand, type CliOptions, ROOT } from "./_cli.ts";

export { freePort } from "../src/_test_utils.ts";

/** `config.example.toml` (the original README's example) with its paths and ports replaced. */
export async function exampleConfig(
  logDir: string,
  ports: { app: number; systemTcp: number; systemHttp: number },
): Promise<string> {
  const text = await Deno.readTextFile(`${ROOT}config.example.toml`);
  return text
    .replaceAll('"/var/log', `"${logDir}`)
    .replace(/^port = 8080 /m, `port = ${ports.app} `)
    .replace(/^port = 9090 /m, `port = ${ports.systemTcp} `)
    .replace(/^port = 8443$/m, `port = ${ports.systemHttp}`);
}

/** A stream following `<dir>/<name>.log`, polled every 50 ms, with the given servers. */
export function streamToml(dir: string, name: string, servers: string): string {
  return `
[[streams]]
name = "${name}"
[streams.monitor]
check_interval_ms = 50
targets = [{ path = "${join(dir, `${name}.log`)}", is_file = true }]
${servers}`;
}

/** Writes `text` as `<dir>/logwisp.toml`, the config file of a test, and returns its path. */
export async function writeConfig(dir: string, text: string): Promise<string> {
  const path = join(dir, "logwisp.toml");
  await Deno.writeTextFile(path, text);
  return path;
}

/** Server tables on 127.0.0.1 for the ports given. */
export function serversToml(
  options: { httpPort?: number; tcpPort?: number; bufferSize?: number },
): string {
  const table = (kind: string, port: number) =>
    `[streams.${kind}]\nenabled = true\nhost = "127.0.0.1"\nport = ${port}\n` +
    (options.bufferSize === undefined ? "" : `buffer_size = ${options.bufferSize}\n`);
  return (options.httpPort === undefined ? "" : table("httpserver", options.httpPort)) +
    (options.tcpPort === undefined ? "" : table("tcpserver", options.tcpPort));
}

/** How a run ended. */
export interface Exit {
  readonly code: number;
  /** From the signal to the exit. */
  readonly elapsedMs: number;
}

/** LogWisp started with `args`; disposing it stops it (SIGTERM, then SIGKILL). */
export interface LogWisp extends AsyncDisposable {
  /** Every line written to stderr so far. */
  readonly log: readonly string[];
  /** The process id (of `deno`, or of `sh` that exec'd it). */
  readonly pid: number;
  /** Waits for a log line matching `pattern`; fails early when LogWisp exits. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<Exit>;
}

/** Starts the CLI and (unless `ready: false`) waits for its "ready" line. */
export async function startLogWisp(
  args: readonly string[],
  options: CliOptions & { readonly ready?: boolean } = {},
): Promise<LogWisp> {
  const child = cliCommand(args, options).spawn();
  const log: string[] = [];
  const reading = (async () => {
    let partial = "";
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      log.push(...lines);
    }
    if (partial) log.push(partial);
  })();
  const draining = child.stdout.pipeTo(new WritableStream());
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then(async (value) => {
    await Promise.all([reading, draining]);
    exited = value;
    return value;
  });

  const waitForLog = async (pattern: RegExp, timeoutMs = 15_000): Promise<string> => {
    const found = () => log.find((candidate) => pattern.test(candidate));
    await waitFor(() => {
      if (found() !== undefined) return true;
      if (exited) {
        throw new Error(
          `LogWisp exited with ${exited.code} before logging ${pattern}:\n${log.join("\n")}`,
        );
      }
      return false;
    }, { timeoutMs, message: () => `LogWisp to log ${pattern}; its log:\n${log.join("\n")}` });
    return found()!;
  };

  const stop = async (signal: Deno.Signal = "SIGTERM"): Promise<Exit> => {
    const start = Date.now();
    if (!exited) {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    }
    const { code } = await status;
    return { code, elapsedMs: Date.now() - start };
  };

  const running: LogWisp = {
    log,
    pid: child.pid,
    waitForLog,
    stop,
    async [Symbol.asyncDispose]() {
      if (exited) return;
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await stop();
      clearTimeout(killer);
    },
  };
  try {
    if (options.ready !== false) await waitForLog(/ ready \(configuration: /);
  } catch (error) {
    await running[Symbol.asyncDispose]();
    throw error;
  }
  return running;
}

/** An SSE client over fetch: `events` reads the stream; disposing it disconnects. */
export async function connectSse(
  url: string,
  headers: HeadersInit = {},
): Promise<{ response: Response; events: SseReader } & AsyncDisposable> {
  const response = await fetch(url, { headers });
  if (!response.body) throw new Error(`No body from ${url}: ${response.status}`);
  const events = new SseReader(response.body);
  return {
    response,
    events,
    async [Symbol.asyncDispose]() {
      await events.cancel().catch(() => {});
    },
  };
}

/** A TCP client reading NDJSON lines; disposing it closes the connection. */
export async function connectTcp(port: number): Promise<TcpLines> {
  return new TcpLines(await Deno.connect({ hostname: "127.0.0.1", port }));
}

/** Reads a JSON document (status) from `url`. */
export async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return await response.json();
}

/** `prefix 0` … `prefix <count - 1>`. */
export function numbered(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix} ${i}`);
}

/** Appends numbered lines `from`..`to` (exclusive) with `prefix` to `path` in one write. */
export async function appendNumbered(
  path: string,
  prefix: string,
  from: number,
  to: number,
): Promise<void> {
  let text = "";
  for (let i = from; i < to; i++) text += `${prefix} ${i}\n`;
  await Deno.writeTextFile(path, text, { append: true });
}

/** A client program (curl, nc) whose stdout is collected line by line; disposing kills it. */
export class ClientProcess implements AsyncDisposable {
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<Deno.CommandStatus>;

  constructor(command: string, args: readonly string[]) {
    if (!which(command)) {
      throw new Error(
        `Client "${command}" is not installed: these tests drive real clients (curl, nc, python3); ` +
          ".ci/run installs them",
      );
    }
    const child = new Deno.Command(command, {
      args: [...args],
      // Kept open: nc would otherwise see end of input.
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#child = child;
    const reading = (async () => {
      let partial = "";
      for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        this.lines.push(...lines);
      }
    })();
    this.#done = child.status.then(async (status) => {
      await reading;
      return status;
    });
  }

  /** Writes `text` to the program's input (what nc sends to the server). */
  async send(text: string): Promise<void> {
    const writer = this.#child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(text));
    } finally {
      writer.releaseLock();
    }
  }

  /** Waits until `count` lines match `pattern`; returns them. */
  async waitForLines(pattern: RegExp, count: number, timeoutMs = 15_000): Promise<string[]> {
    const matching = () => this.lines.filter((line) => pattern.test(line));
    await waitFor(() => matching().length >= count, {
      timeoutMs,
      message: () => `${count} lines matching ${pattern}; got:\n${this.lines.join("\n")}`,
    });
    return matching();
  }

  /** Resolves when the program exits by itself. */
  get exited(): Promise<Deno.CommandStatus> {
    return this.#done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Exited already.
    }
    await this.#child.stdin.close().catch(() => {});
    await this.#done;
  }
}

/**
 * A TCP client that never reads, with a small kernel receive buffer so that its queue in
 * LogWisp fills after a few MB instead of many.
 */
export async function stuckTcpClient(port: number): Promise<ClientProcess> {
  const client = new ClientProcess("python3", [
    "-c",
    "import socket,time\n" +
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n" +
    `s.connect(("127.0.0.1", ${port})); print("connected", flush=True); time.sleep(120)`,
  ]);
  await client.waitForLines(/^connected$/, 1);
  return client;
}
