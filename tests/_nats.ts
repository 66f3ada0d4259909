/**
 * Real `nats-server -js` processes for tests: a single node or a cluster, on free ports
 * with their own store directories, that can be killed and restarted on the same ports and
 * store (to test what survives a NATS restart). Disposing stops every process and removes
 * every directory. Also the publisher and gateway configs the NATS end-to-end tests start
 * LogWisp with.
 *
 * @module
 */
import { join } from "node:path";
import { jetstream, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { freePort, waitFor, which } from "../src/_test_utils.ts";
import type { NatsSourceConfig, PublishConfig } from "../src/config/types.ts";
import type { Log } from "../src/log.ts";
import { type LogWisp, startLogWisp } from "./_logwisp.ts";

const NATS_SERVER = "nats-server";

/** Who may connect: a token, or one user with a password. Absent: anyone. */
export type NatsAuth =
  | { readonly token: string }
  | { readonly user: string; readonly password: string };

/** How to start a node. */
export interface NatsServerOptions {
  /** Who may connect; absent: anyone. */
  readonly auth?: NatsAuth;
  /** Extra configuration text appended to the generated file, e.g. a `tls {}` block. */
  readonly extraConfig?: string;
  /** How long to wait for the node to be ready; default 20 s. */
  readonly readyTimeoutMs?: number;
}

/** One `nats-server` process with JetStream; its ports and store outlive a kill. */
export interface NatsServer extends AsyncDisposable {
  /** `server_name`. */
  readonly name: string;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  /** The client port. */
  readonly port: number;
  /** The HTTP monitoring port (`/healthz`, `/varz`, `/jsz`). */
  readonly monitorPort: number;
  /** The JetStream store, kept across restarts. */
  readonly storeDir: string;
  /** Everything the server logged, for failure messages. */
  readonly logFile: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /** Stops the process with `signal` (default `SIGKILL`, a crash) and waits for its exit. */
  kill(signal?: Deno.Signal): Promise<void>;
  /** Starts the process again on the same ports and store and waits until it is ready. */
  restart(): Promise<void>;
  /** Waits until the monitoring endpoint says the node and its JetStream are healthy. */
  ready(timeoutMs?: number): Promise<void>;
}

/** Several nodes routed to each other as one JetStream cluster. */
export interface NatsCluster extends AsyncDisposable {
  /** The nodes, named `n1`, `n2`, …. */
  readonly nodes: readonly NatsServer[];
  /** Every node's client URL. */
  readonly urls: readonly string[];
}

interface NodeSpec {
  readonly name: string;
  readonly dir: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly cluster?: { readonly name: string; readonly port: number; readonly routes: number[] };
  readonly options: NatsServerOptions;
}

/** Starts a single JetStream node in a new temporary directory. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  requireNatsServer();
  const dir = await Deno.makeTempDir({ prefix: "logwisp_nats_" });
  const node = new NatsNode({
    name: "n1",
    dir,
    port: freePort(),
    monitorPort: freePort(),
    options,
  }, () => Deno.remove(dir, { recursive: true }));
  try {
    await node.restart();
  } catch (error) {
    await node[Symbol.asyncDispose]();
    throw error;
  }
  return node;
}

/** Starts `size` (default 3) JetStream nodes forming one cluster, and waits for all of them. */
export async function startNatsCluster(
  size = 3,
  options: NatsServerOptions = {},
): Promise<NatsCluster> {
  requireNatsServer();
  const dir = await Deno.makeTempDir({ prefix: "logwisp_nats_cluster_" });
  const clusterPorts = Array.from({ length: size }, () => freePort());
  const nodes = clusterPorts.map((clusterPort, i) =>
    new NatsNode({
      name: `n${i + 1}`,
      dir: join(dir, `n${i + 1}`),
      port: freePort(),
      monitorPort: freePort(),
      cluster: {
        name: "logwisp_test",
        port: clusterPort,
        routes: clusterPorts.filter((port) => port !== clusterPort),
      },
      options,
    })
  );
  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((node) => node.url),
    async [Symbol.asyncDispose]() {
      await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
      await Deno.remove(dir, { recursive: true });
    },
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
    await Promise.all(nodes.map((node) => node.ready(options.readyTimeoutMs)));
  } catch (error) {
    await cluster[Symbol.asyncDispose]();
    throw error;
  }
  return cluster;
}

function requireNatsServer(): void {
  if (!which(NATS_SERVER) && !which(`/usr/sbin/${NATS_SERVER}`)) {
    throw new Error(`"${NATS_SERVER}" is not installed: these tests run a real NATS server`);
  }
}

class NatsNode implements NatsServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  /** The JetStream store, kept across restarts. */
  readonly storeDir: string;
  readonly logFile: string;
  readonly #spec: NodeSpec;
  readonly #cleanup: () => Promise<void>;
  #child: Deno.ChildProcess | undefined;
  #exit: Promise<Deno.CommandStatus> | undefined;

  constructor(spec: NodeSpec, cleanup: () => Promise<void> = () => Promise.resolve()) {
    this.#spec = spec;
    this.#cleanup = cleanup;
    this.name = spec.name;
    this.port = spec.port;
    this.monitorPort = spec.monitorPort;
    this.url = `nats://127.0.0.1:${spec.port}`;
    this.storeDir = join(spec.dir, "store");
    this.logFile = join(spec.dir, "server.log");
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Spawns the process without waiting for it to be ready. */
  async start(): Promise<void> {
    if (this.#child) throw new Error(`NATS node ${JSON.stringify(this.name)} is running already`);
    await Deno.mkdir(this.storeDir, { recursive: true });
    const configFile = join(this.#spec.dir, "server.conf");
    await Deno.writeTextFile(configFile, serverConfig(this.#spec, this.storeDir, this.logFile));
    const executable = which(NATS_SERVER) ?? `/usr/sbin/${NATS_SERVER}`;
    const child = new Deno.Command(executable, {
      args: ["-c", configFile],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.#child = child;
    this.#exit = child.status;
  }

  async restart(): Promise<void> {
    await this.start();
    await this.ready(this.#spec.options.readyTimeoutMs);
  }

  async ready(timeoutMs = this.#spec.options.readyTimeoutMs ?? 20_000): Promise<void> {
    let exited: Deno.CommandStatus | undefined;
    this.#exit?.then((status) => exited = status);
    let last = "no answer yet";
    await waitFor(async () => {
      if (exited) {
        throw new Error(
          `NATS node ${JSON.stringify(this.name)} exited with ${exited.code}:\n${await this
            .#tail()}`,
        );
      }
      try {
        const response = await fetch(`http://127.0.0.1:${this.monitorPort}/healthz`);
        last = `${response.status} ${await response.text()}`;
        return response.ok;
      } catch (error) {
        last = String(error);
        return false;
      }
    }, {
      timeoutMs,
      intervalMs: 25,
      message: () => `NATS node ${JSON.stringify(this.name)} to be healthy (${last})`,
    });
  }

  async kill(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    try {
      child.kill(signal);
    } catch {
      // Exited on its own already.
    }
    await this.#exit;
    this.#child = undefined;
    this.#exit = undefined;
  }

  async #tail(): Promise<string> {
    try {
      return (await Deno.readTextFile(this.logFile)).split("\n").slice(-20).join("\n");
    } catch {
      return "(no log)";
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill("SIGKILL");
    await this.#cleanup();
  }
}

function serverConfig(spec: NodeSpec, storeDir: string, logFile: string): string {
  const lines = [
    `server_name: ${spec.name}`,
    `listen: "127.0.0.1:${spec.port}"`,
    `http: "127.0.0.1:${spec.monitorPort}"`,
    `log_file: ${JSON.stringify(logFile)}`,
    `jetstream {`,
    `  store_dir: ${JSON.stringify(storeDir)}`,
    `  max_memory_store: 256MB`,
    `  max_file_store: 2GB`,
    `}`,
  ];
  if (spec.cluster) {
    const routes = spec.cluster.routes.map((port) => `"nats-route://127.0.0.1:${port}"`);
    lines.push(
      `cluster {`,
      `  name: ${spec.cluster.name}`,
      `  listen: "127.0.0.1:${spec.cluster.port}"`,
      `  routes: [${routes.join(", ")}]`,
      `}`,
    );
  }
  const auth = spec.options.auth;
  if (auth && "token" in auth) {
    lines.push(`authorization { token: ${JSON.stringify(auth.token)} }`);
  } else if (auth) {
    lines.push(
      `authorization { users: [{ user: ${JSON.stringify(auth.user)}, password: ${
        JSON.stringify(auth.password)
      } }] }`,
    );
  }
  if (spec.options.extraConfig) lines.push(spec.options.extraConfig);
  return lines.join("\n") + "\n";
}

/** A `[streams.publish]` table for `servers`, with the documented defaults. */
export function publishConfig(
  servers: readonly string[],
  overrides: Partial<PublishConfig> = {},
): PublishConfig {
  return {
    type: "nats",
    servers,
    subject: "logwisp.{host}.{stream}",
    hostName: "",
    jetstreamStream: "LOGWISP",
    createStream: true,
    maxPendingEntries: 100_000,
    ...overrides,
  };
}

/** A `[streams.source]` table reading `subjects` of stream `LOGWISP` from `servers`. */
export function sourceConfig(
  servers: readonly string[],
  subjects: readonly string[] = ["logwisp.>"],
  overrides: Partial<NatsSourceConfig> = {},
): NatsSourceConfig {
  return { type: "nats", servers, jetstreamStream: "LOGWISP", subjects, ...overrides };
}

/** A log that keeps its lines (`"warn message"`), for assertions and failure messages. */
export function collectingLog(): Log & { readonly lines: string[] } {
  const lines: string[] = [];
  const log = (level: string, message: string) => {
    lines.push(`${level} ${message}`);
  };
  return Object.assign(log, { lines });
}

/** What {@linkcode createStream} sets; JetStream's defaults for the rest. */
export interface StreamOptions {
  /** The subjects it stores. */
  readonly subjects: readonly string[];
  /** `num_replicas`; default 1. */
  readonly replicas?: number;
  /** `max_msgs`: older messages are removed beyond it. */
  readonly maxMessages?: number;
}

/** Creates JetStream stream `name` on `servers`, waiting out a cluster electing leaders. */
export async function createStream(
  servers: readonly string[],
  name: string,
  options: StreamOptions,
): Promise<void> {
  await withJetStream(servers, async (jsm) => {
    await jsm.streams.add({
      name,
      subjects: [...options.subjects],
      num_replicas: options.replicas ?? 1,
      ...(options.maxMessages !== undefined && { max_msgs: options.maxMessages }),
    });
  });
}

/** The `server_name` of the node leading stream `name`. */
export async function streamLeader(servers: readonly string[], name: string): Promise<string> {
  return await withJetStream(servers, async (jsm) => {
    const leader = (await jsm.streams.info(name)).cluster?.leader;
    if (!leader) throw new Error(`Stream ${JSON.stringify(name)} has no leader`);
    return leader;
  });
}

/** `request` with a JetStream manager, tried again for up to 30 s while it fails. */
async function withJetStream<T>(
  servers: readonly string[],
  request: (jsm: JetStreamManager) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await using nc = await connect({ servers: [...servers] });
      return await request(await jetstreamManager(nc, { checkAPI: false }));
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** One message as JetStream stored it. */
export interface StoredMessage {
  /** Stream sequence. */
  readonly seq: number;
  /** The subject it was published on. */
  readonly subject: string;
  /** Each header's values, joined with commas. */
  readonly headers: Record<string, string>;
  /** The body as text. */
  readonly body: string;
}

/**
 * Every message of JetStream stream `stream`, in order, read with a plain NATS client.
 * Tries again for up to 30 s while JetStream does not answer (a cluster electing leaders).
 */
export async function storedMessages(
  servers: readonly string[],
  stream = "LOGWISP",
): Promise<StoredMessage[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await readStream(servers, stream);
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

async function readStream(servers: readonly string[], stream: string): Promise<StoredMessage[]> {
  await using nc = await connect({ servers: [...servers] });
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const { state } = await jsm.streams.info(stream);
  const found: StoredMessage[] = [];
  if (state.messages === 0) return found;
  const consumer = await jetstream(nc).consumers.get(stream, { opt_start_seq: state.first_seq });
  const messages = await consumer.consume({ max_messages: 1000 });
  try {
    for await (const msg of messages) {
      const headers: Record<string, string> = {};
      for (const [key, values] of msg.headers ?? []) headers[key] = values.join(",");
      found.push({ seq: msg.seq, subject: msg.subject, headers, body: msg.string() });
      if (msg.seq >= state.last_seq) break;
    }
  } finally {
    messages.stop();
    await consumer.delete().catch(() => {});
  }
  return found;
}

/** A test that needs `nats-server`; ignored (not passed) on a machine without it. */
export function natsTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: which("nats-server") === undefined, fn });
}

/**
 * A stream `name` (default "app") following `<dir>/<name>.log` from its start and publishing
 * it as host `host`, with `extra` in [streams.publish] and HTTP on `port` (default a free one).
 */
export function publisherToml(
  options: { dir: string; name?: string; host: string; servers: string[]; port?: number },
  extra = "",
): string {
  const name = options.name ?? "app";
  return `
[[streams]]
name = "${name}"
[streams.monitor]
check_interval_ms = 50
read_from = "beginning"
targets = [{ path = "${join(options.dir, `${name}.log`)}", is_file = true }]
[streams.publish]
type = "nats"
servers = ${JSON.stringify(options.servers)}
host_name = "${options.host}"
create_stream = true
${extra}
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${options.port ?? freePort()}
`;
}

/**
 * A gateway stream `fleet` serving `subjects` (default `logwisp.*.app`) of JetStream stream
 * LOGWISP over HTTP (SSE, /ws) and, with `tcpPort`, TCP; a ring of `bufferSize` (10000).
 */
export function gatewayToml(
  options: {
    servers: string[];
    subjects?: string[];
    port: number;
    tcpPort?: number;
    bufferSize?: number;
  },
): string {
  const tcp = options.tcpPort === undefined
    ? ""
    : `[streams.tcpserver]\nenabled = true\nhost = "127.0.0.1"\nport = ${options.tcpPort}\n`;
  return `
[[streams]]
name = "fleet"
[streams.source]
type = "nats"
servers = ${JSON.stringify(options.servers)}
subjects = ${JSON.stringify(options.subjects ?? ["logwisp.*.app"])}
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${options.port}
buffer_size = ${options.bufferSize ?? 10_000}
${tcp}`;
}

/**
 * Starts LogWisp with `toml` written to `<dir>/<file>`, with no more permissions than a
 * deployment: read `dir`, the network (NATS needs nothing else when `host_name` is set).
 */
export async function startWith(dir: string, file: string, toml: string): Promise<LogWisp> {
  const path = join(dir, file);
  await Deno.writeTextFile(path, toml);
  return await startLogWisp(["--config", path, "--quiet"], {
    permissions: [`--allow-read=${dir}`, "--allow-net"],
  });
}
