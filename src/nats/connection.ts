/**
 * A NATS connection kept open for as long as a stream runs: LogWisp may start before NATS,
 * and NATS may restart under it; either way the connection keeps trying with a bounded
 * back-off and says whether it is `connected` or `reconnecting`.
 *
 * @module
 */
import {
  type Authenticator,
  connect,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
  type NodeConnectionOptions,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from "@nats-io/transport-node";
import type { ConfigIssue } from "../config/config_error.ts";
import type { NatsConnectionConfig } from "../config/types.ts";
import { fsErrorReason } from "../fs_error.ts";
import type { Log } from "../log.ts";
import { StartupError } from "../service/startup_error.ts";
import { sleep } from "./abortable.ts";
import { throttledLog } from "./throttled_log.ts";

/** Whether the connection is up; `reconnecting` also before the first connect. */
export type NatsState = "connected" | "reconnecting";

/** Bounds of the wait between connection attempts. */
export interface Backoff {
  /** The first wait after a connection is lost. */
  readonly minMs: number;
  /** The longest wait, reached after an outage of twice as long. */
  readonly maxMs: number;
}

/** The default back-off: 250 ms at first, at most 1 s between attempts. */
export const DEFAULT_BACKOFF: Backoff = { minMs: 250, maxMs: 1_000 };

/** How to open a {@linkcode NatsLink}. */
export interface NatsLinkOptions {
  /** Servers, credentials and TLS. */
  readonly config: NatsConnectionConfig;
  /** The client name the server shows in its monitoring, e.g. `logwisp app publish`. */
  readonly name: string;
  /** Prefix of log messages, e.g. `stream "app": publish`. */
  readonly label: string;
  /** Where connection changes and errors are reported. */
  readonly log: Log;
  /** Closes the link when aborted. */
  readonly signal?: AbortSignal;
  /** Bounds of the wait between connection attempts; default {@linkcode DEFAULT_BACKOFF}. */
  readonly backoff?: Backoff;
}

/**
 * A NATS connection that reconnects forever. The first connect happens in the background:
 * {@linkcode NatsLink.open} returns as soon as the credentials are read.
 *
 * @internal The publisher and the source hold one each; the stream layer does not.
 */
export class NatsLink implements AsyncDisposable {
  readonly #options: NatsLinkOptions;
  readonly #connectOptions: NodeConnectionOptions;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  readonly #listeners = new Set<(state: NatsState) => void>();
  #connection: NatsConnection | undefined;
  #state: NatsState = "reconnecting";
  #waiters: { resolve: (nc: NatsConnection) => void; reject: (error: Error) => void }[] = [];
  readonly #running: Promise<void>;

  private constructor(options: NatsLinkOptions, connectOptions: NodeConnectionOptions) {
    this.#options = options;
    this.#connectOptions = connectOptions;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    options.signal?.addEventListener("abort", () => this.#stop.abort(), { once: true });
    const unguard = guardOrphanSocketErrors(options.log);
    this.#stop.signal.addEventListener("abort", unguard, { once: true });
    this.#running = this.#run();
  }

  /**
   * Reads the credential and TLS files and starts connecting. Throws a
   * {@linkcode StartupError} naming the key and the file when one cannot be read or used.
   */
  static async open(options: NatsLinkOptions): Promise<NatsLink> {
    const { secrets, issues } = await readNatsSecrets(options.config);
    if (issues.length > 0) {
      throw new StartupError(
        `${options.label}: ${issues.map((issue) => `${issue.key}: ${issue.message}`).join("; ")}`,
      );
    }
    return new NatsLink(options, connectionOptions(options, secrets));
  }

  /** `connected` or `reconnecting`. */
  get state(): NatsState {
    return this.#state;
  }

  /** The connection while it is up; undefined before the first connect and after close. */
  get connection(): NatsConnection | undefined {
    return this.#state === "connected" ? this.#connection : undefined;
  }

  /** Calls `listener` on every change of state; returns the function that stops it. */
  onStateChange(listener: (state: NatsState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The connection once it is up (at once if it is). Rejects when the link closes first,
   * or when `signal` aborts.
   */
  connected(signal?: AbortSignal): Promise<NatsConnection> {
    const nc = this.connection;
    if (nc) return Promise.resolve(nc);
    if (this.#stop.signal.aborted) return Promise.reject(new Error("NATS link is closed"));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (value: NatsConnection) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(value);
        },
        reject: (error: Error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((candidate) => candidate !== waiter);
        reject(signal?.reason ?? new Error("Aborted"));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Closes the connection and stops reconnecting. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** Same as {@linkcode NatsLink.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #setState(state: NatsState, message: string, level: "info" | "warn" = "info"): void {
    const changed = state !== this.#state;
    this.#state = state;
    this.#options.log(level, `${this.#options.label}: ${message}`);
    if (state === "connected" && this.#connection) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter.resolve(this.#connection);
    }
    if (!changed) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(state);
      } catch (error) {
        this.#options.log("error", `${this.#options.label}: ${describeError(error)}`);
      }
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const nc = await this.#firstConnect(signal);
      if (!nc) break;
      this.#connection = nc;
      this.#setState("connected", `NATS connected to ${nc.getServer()}`);
      const watching = this.#watch(nc);
      const onAbort = () => nc.close().catch(() => {});
      signal.addEventListener("abort", onAbort, { once: true });
      const closed = await nc.closed();
      signal.removeEventListener("abort", onAbort);
      await watching;
      this.#connection = undefined;
      if (signal.aborted) break;
      // Closed by the client library itself (it gave up): start over.
      this.#setState(
        "reconnecting",
        `NATS connection closed${closed ? `: ${closed.message}` : ""}; reconnecting`,
        "warn",
      );
    }
    this.#connection = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(new Error("NATS link is closed"));
  }

  /** Tries every server until one answers; undefined once the link is closed. */
  async #firstConnect(signal: AbortSignal): Promise<NatsConnection | undefined> {
    const since = Date.now();
    let lastReason = "";
    while (!signal.aborted) {
      try {
        // Closing waits for an attempt under way: at most the 5 s handshake timeout.
        const nc = await connect(this.#connectOptions);
        if (!signal.aborted) return nc;
        await nc.close();
        return undefined;
      } catch (error) {
        const reason = describeError(error);
        if (reason !== lastReason) {
          lastReason = reason;
          this.#options.log(
            "warn",
            `${this.#options.label}: Cannot connect to NATS ${
              this.#options.config.servers.map((server) => JSON.stringify(server)).join(", ")
            }: ${reason}; retrying`,
          );
        }
      }
      await sleep(backoffDelay(this.#backoff, Date.now() - since), signal);
    }
    return undefined;
  }

  async #watch(nc: NatsConnection): Promise<void> {
    let lastError = "";
    for await (const status of nc.status()) {
      switch (status.type) {
        case "disconnect":
          this.#setState(
            "reconnecting",
            `NATS connection to ${status.server} lost; reconnecting`,
            "warn",
          );
          break;
        case "reconnect":
          lastError = "";
          this.#setState("connected", `NATS reconnected to ${status.server}`);
          break;
        case "error": {
          const reason = describeError(status.error);
          if (reason === lastError) break;
          lastError = reason;
          this.#options.log("warn", `${this.#options.label}: NATS server error: ${reason}`);
          break;
        }
      }
    }
  }
}

/** The logs of the open links, the latest last; the last one stays after they close. */
const guardLogs: Log[] = [];
let guarding = false;

/** Codes of socket errors that an orphaned socket may report. */
const NETWORK_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ETIMEDOUT"]);

/**
 * The NATS client removes a socket's listeners before Deno's `node:net` emulation is done
 * with it: a connection reset that arrives then (a server refusing credentials and closing,
 * a server killed during a TLS handshake), or an alert a server sends after the TLS
 * handshake (with TLS 1.3, a refused client certificate), becomes an error event without a
 * listener, which Deno raises as an uncaught error: the end of the process. Once a link
 * has been opened, such errors are logged instead; the link sees its connection fail
 * either way. Returns the function to call when the link closes.
 */
function guardOrphanSocketErrors(log: Log): () => void {
  const throttled = throttledLog(log);
  guardLogs.push(throttled);
  if (!guarding) {
    guarding = true;
    globalThis.addEventListener("error", onOrphanSocketError);
  }
  return () => {
    const at = guardLogs.indexOf(throttled);
    if (at >= 0 && guardLogs.length > 1) guardLogs.splice(at, 1);
  };
}

function onOrphanSocketError(event: ErrorEvent): void {
  const error: unknown = event.error;
  if (!(error instanceof Error) || !error.stack?.includes("ext:deno_node/")) return;
  const code = (error as { code?: unknown }).code;
  const tls = error.stack.includes("internal_binding/tls_wrap");
  if (!tls && !(typeof code === "string" && NETWORK_CODES.has(code))) return;
  event.preventDefault();
  guardLogs.at(-1)?.(
    "warn",
    tls
      ? `NATS client: TLS error from a NATS server: ${error.message}`
      : `NATS client: ignored an error on a socket it had closed: ${error.message}`,
  );
}

/**
 * The wait before the next attempt, growing with the length of the outage so far: half of
 * it, within the bounds, so a short blip is retried at once and a long outage costs
 * little.
 */
export function backoffDelay(backoff: Backoff, outageMs: number): number {
  return Math.min(backoff.maxMs, Math.max(backoff.minMs, Math.floor(outageMs / 2)));
}

function connectionOptions(
  options: NatsLinkOptions,
  secrets: NatsSecrets,
): NodeConnectionOptions {
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  let disconnectedAt = 0;
  return {
    servers: [...options.config.servers],
    name: options.name,
    reconnect: true,
    maxReconnectAttempts: -1,
    // A credential the server rejects may be fixed on the server: keep trying.
    ignoreAuthErrorAbort: true,
    reconnectJitter: 100,
    reconnectJitterTLS: 250,
    reconnectDelayHandler: () => {
      const now = Date.now();
      if (disconnectedAt === 0 || now - disconnectedAt > 10 * backoff.maxMs) disconnectedAt = now;
      return backoffDelay(backoff, now - disconnectedAt);
    },
    timeout: 5_000,
    // A server that stops answering without closing the socket is noticed in ~30 s.
    pingInterval: 10_000,
    maxPingOut: 3,
    ...(secrets.authenticator && { authenticator: secrets.authenticator }),
    ...(secrets.tls && { tls: secrets.tls }),
  };
}

/** What {@linkcode readNatsSecrets} read: how to authenticate and TLS material. */
interface NatsSecrets {
  readonly authenticator?: Authenticator;
  readonly tls?: { ca?: string; cert?: string; key?: string };
}

/**
 * Problems of a NATS connection configuration, for `logwisp --check` and startup:
 * server URLs that are not NATS URLs, conflicting or incomplete credentials, and credential
 * or TLS files that cannot be read or used. `base` is the key path of the table, e.g.
 * `streams[0].publish`; issue keys are under it. No message contains a secret.
 */
export async function checkNatsConnection(
  config: NatsConnectionConfig,
  base: string,
): Promise<ConfigIssue[]> {
  const { issues } = await readNatsSecrets(config);
  return issues.map((issue) => ({ ...issue, key: `${base}.${issue.key}` }));
}

/** Why `server` is not a URL the NATS client can dial, or undefined when it is. */
export function serverUrlProblem(server: string): string | undefined {
  if (server.trim() === "") return 'expected a NATS server URL such as "nats://host:4222"';
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `nats://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return `${JSON.stringify(server)} is not a URL`;
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== "nats" && scheme !== "tls") {
    return `${JSON.stringify(server)}: the scheme must be "nats" or "tls", not ${
      JSON.stringify(scheme)
    }`;
  }
  if (url.hostname === "") return `${JSON.stringify(server)} has no host`;
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") {
    return `${JSON.stringify(server)}: a NATS server URL has no path, query or fragment`;
  }
  if (url.username !== "" || url.password !== "") {
    return `${JSON.stringify(url.host)}: credentials do not belong in the URL: ` +
      "use token_file, user + password_file, nkey_file or creds_file";
  }
  return undefined;
}

async function readNatsSecrets(
  config: NatsConnectionConfig,
): Promise<{ secrets: NatsSecrets; issues: Omit<ConfigIssue, "file">[] }> {
  const issues: { key: string; message: string }[] = [];
  const report = (key: string, message: string) => issues.push({ key, message });

  if (config.servers.length === 0) report("servers", "required: at least one NATS server URL");
  config.servers.forEach((server, i) => {
    const problem = serverUrlProblem(server);
    if (problem) report(`servers[${i}]`, problem);
  });

  const read = async (key: string, path: string | undefined): Promise<Uint8Array | undefined> => {
    if (path === undefined || path === "") return undefined;
    try {
      return await Deno.readFile(path);
    } catch (error) {
      report(key, `Cannot read ${JSON.stringify(path)}: ${fsErrorReason(error)}`);
      return undefined;
    }
  };

  const kinds = ([
    [config.credsFile, "creds_file", "creds_file"],
    [config.tokenFile, "token_file", "token_file"],
    [config.user || config.passwordFile, "user", "user + password_file"],
    [config.nkeyFile, "nkey_file", "nkey_file"],
  ] as const).filter(([value]) => value);
  if (kinds.length > 1) {
    report(kinds[1]![1], `conflicts with ${kinds[0]![2]}: use one kind of NATS credentials`);
  }
  if (config.user && !config.passwordFile) report("password_file", "required with user");
  if (config.passwordFile && !config.user) report("user", "required with password_file");

  let authenticator: Authenticator | undefined;
  const creds = await read("creds_file", config.credsFile);
  if (creds) {
    authenticator = usable("creds_file", config.credsFile!, () => credsAuthenticator(creds), {
      report,
      what: "a NATS credentials file (a user JWT and an nkey seed)",
    });
  }
  const token = await read("token_file", config.tokenFile);
  if (token) {
    const text = secretText(token);
    if (text === "") report("token_file", `${JSON.stringify(config.tokenFile)} is empty`);
    else authenticator ??= tokenAuthenticator(text);
  }
  const password = await read("password_file", config.passwordFile);
  if (password && config.user) {
    authenticator ??= usernamePasswordAuthenticator(config.user, secretText(password));
  }
  const seed = await read("nkey_file", config.nkeyFile);
  if (seed) {
    const text = new TextEncoder().encode(secretText(seed));
    authenticator ??= usable("nkey_file", config.nkeyFile!, () => nkeyAuthenticator(text), {
      report,
      what: 'an nkey user seed (a line starting with "SU")',
    });
  }

  let tls: NatsSecrets["tls"];
  const tlsConfig = config.tls;
  // `tls = { ca_file = "", … }`, as in the example configuration, is no TLS.
  const tlsFiles = [tlsConfig?.caFile, tlsConfig?.certFile, tlsConfig?.keyFile];
  const wantsTls = tlsFiles.some((file) => file) ||
    config.servers.some((server) => server.startsWith("tls://"));
  if (wantsTls) {
    tls = {};
    const ca = await read("tls.ca_file", tlsConfig?.caFile);
    const cert = await read("tls.cert_file", tlsConfig?.certFile);
    const key = await read("tls.key_file", tlsConfig?.keyFile);
    const decoder = new TextDecoder();
    if (ca) tls.ca = pem("tls.ca_file", decoder.decode(ca), "CERTIFICATE", report);
    if (cert) tls.cert = pem("tls.cert_file", decoder.decode(cert), "CERTIFICATE", report);
    if (key) tls.key = pem("tls.key_file", decoder.decode(key), "PRIVATE KEY", report);
    if (tlsConfig?.certFile && !tlsConfig.keyFile) {
      report("tls.key_file", "required with cert_file");
    }
    if (tlsConfig?.keyFile && !tlsConfig.certFile) {
      report("tls.cert_file", "required with key_file");
    }
  }
  return {
    secrets: { ...(authenticator && { authenticator }), ...(tls && { tls }) },
    issues,
  };
}

/** A secret file's text without its final line break (a password may end in spaces). */
function secretText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes).replace(/\r?\n$/, "");
}

/** The authenticator `make` returns, tried once so a malformed file is found at startup. */
function usable(
  key: string,
  path: string,
  make: () => Authenticator,
  context: { report: (key: string, message: string) => void; what: string },
): Authenticator | undefined {
  try {
    const authenticator = make();
    authenticator("check");
    return authenticator;
  } catch {
    context.report(key, `${JSON.stringify(path)} is not ${context.what}`);
    return undefined;
  }
}

function pem(
  key: string,
  text: string,
  label: string,
  report: (key: string, message: string) => void,
): string {
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) {
    report(key, `not a PEM file with a ${label.toLowerCase()}`);
  }
  return text;
}

/** An error as a short reason for a log line. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message || error.name;
  const cause = error.cause instanceof Error && error.cause.message !== message
    ? `: ${error.cause.message}`
    : "";
  return `${message}${cause}`;
}
