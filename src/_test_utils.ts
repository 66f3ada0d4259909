/**
 * Helpers shared by the tests: waiting on conditions with deadlines (never fixed sleeps)
 * and temporary directories that clean up after themselves.
 *
 * @module
 */
import { join } from "node:path";
import { ConfigError, type ConfigIssue } from "./config/config_error.ts";
import { parseToml } from "./config/load.ts";
import { validateConfig, type ValidateOptions } from "./config/validate.ts";
import { DEFAULT_LIMITS, DEFAULTS, NO_AUTH, OPEN_ACCESS } from "./config/defaults.ts";
import type { HttpServerConfig, ServerConfig } from "./config/types.ts";
import type { ClientInfo } from "./server/http_server.ts";
import { runEventIds } from "./stream/event_ids.ts";
import { Hub } from "./stream/hub.ts";

/**
 * Waits until `condition` holds, checking every `intervalMs` (default 5); fails after the
 * deadline with `message`, a function when it should describe the state at that time.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; message?: string | (() => string); intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const message = typeof options.message === "function" ? options.message() : options.message;
      throw new Error(`Timed out waiting: ${message ?? condition.toString()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 5));
  }
}

/** `promise`, or a failure after `ms` naming what was awaited: a hang fails instead of stalling. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string | (() => string),
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`Timed out after ${ms} ms: ${typeof what === "function" ? what() : what}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A port that was free a moment ago: bound on port 0, read, released. */
export function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return (listener.addr as Deno.NetAddr).port;
}

/** The executable `name` on PATH, if any. */
export function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const info = Deno.statSync(join(dir, name));
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A temporary directory removed with everything in it when disposed. */
export async function tempDir(prefix = "logwisp_test_"): Promise<
  { path: string } & AsyncDisposable
> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** Appends `text` to the file at `path`, creating it when missing. */
export async function append(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { append: true });
}

/** One Server-Sent Event as a client sees it; comment lines are kept, for heartbeats. */
export interface SseEvent {
  /** `event:` field; `message` when absent. */
  readonly event: string;
  /** The `data:` lines joined with newlines. */
  readonly data: string;
  /** The `id:` field, when given. */
  readonly id?: string;
  /** The `retry:` field, when given. */
  readonly retry?: string;
  /** Comment lines (`: …`) received before the event. */
  readonly comments: readonly string[];
}

/** Reads Server-Sent Events from a response body, event by event. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  /** Reads events from an SSE response body. */
  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next event (or comment block), or null when the stream has ended. */
  async next(): Promise<SseEvent | null> {
    let end: number;
    while ((end = this.#buffer.indexOf("\n\n")) < 0) {
      const { value, done } = await this.#reader.read();
      if (done) return null;
      this.#buffer += value;
    }
    const block = this.#buffer.slice(0, end);
    this.#buffer = this.#buffer.slice(end + 2);
    const fields: Record<string, string[]> = {};
    const comments: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) {
        comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      (fields[name] ??= []).push(value);
    }
    return {
      event: fields.event?.[0] ?? "message",
      data: (fields.data ?? []).join("\n"),
      ...(fields.id && { id: fields.id[0] }),
      ...(fields.retry && { retry: fields.retry[0] }),
      comments,
    };
  }

  /** Reads until `count` events match `filter` (default: `message` events); returns those. */
  async take(
    count: number,
    filter: (event: SseEvent) => boolean = (event) =>
      event.event === "message" && event.comments.length === 0,
  ): Promise<SseEvent[]> {
    const events: SseEvent[] = [];
    while (events.length < count) {
      const event = await this.next();
      if (event === null) throw new Error(`Stream ended after ${events.length} of ${count} events`);
      if (filter(event)) events.push(event);
    }
    return events;
  }

  /** Stops reading; the server sees the client leave. */
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

/** The run (epoch ms) of test hubs' event ids: ids read `1700000000000-<seq>`. */
export const TEST_RUN = 1_700_000_000_000;

/** A hub numbering entries like a LogWisp started at {@linkcode TEST_RUN}, with a ring of `ring` entries. */
export function testHub(ring = 1000): Hub {
  return new Hub({ ids: runEventIds(TEST_RUN), ring: { entries: ring, bytes: 64 << 20 } });
}

/** A client as handlers see one: from 10.0.0.1:5555, over plain TCP. */
export const TEST_CLIENT: ClientInfo = {
  peer: { address: "10.0.0.1", port: 5555 },
  remoteAddr: "10.0.0.1:5555",
  secure: false,
};

/** A TCP server config on 127.0.0.1, port 0, with the defaults and no heartbeat. */
export function tcpServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    host: "127.0.0.1",
    port: 0,
    ...DEFAULT_LIMITS,
    auth: NO_AUTH,
    access: OPEN_ACCESS,
    bufferSize: 1000,
    bufferBytes: DEFAULTS.bufferBytes,
    slowClientTimeoutSeconds: DEFAULTS.slowClientTimeoutSeconds,
    heartbeat: {
      enabled: false,
      intervalSeconds: 30,
      includeTimestamp: true,
      includeStats: false,
      format: "json",
    },
    ...overrides,
  };
}

/** An HTTP server config on 127.0.0.1, port 0, with the defaults and no heartbeat. */
export function httpServerConfig(overrides: Partial<HttpServerConfig> = {}): HttpServerConfig {
  return {
    ...tcpServerConfig(),
    streamPath: "/stream",
    statusPath: "/status",
    wsPath: DEFAULTS.wsPath,
    metricsPath: DEFAULTS.metricsPath,
    viewerPath: DEFAULTS.viewerPath,
    heartbeat: {
      enabled: false,
      intervalSeconds: 30,
      includeTimestamp: true,
      includeStats: false,
      format: "comment",
    },
    ...overrides,
  };
}

/** Reads a TCP connection line by line. */
export class TcpLines implements Disposable {
  /** The connection read from. */
  readonly conn: Deno.TcpConn;
  readonly #buffer = new Uint8Array(256 * 1024);
  readonly #decoder = new TextDecoder();
  #text = "";
  #closed = false;

  /** Reads lines from `conn`. */
  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** The next `count` lines; fewer when the server closes the connection first. */
  async take(count: number): Promise<string[]> {
    const lines: string[] = [];
    while (lines.length < count) {
      const newline = this.#text.indexOf("\n");
      if (newline >= 0) {
        lines.push(this.#text.slice(0, newline));
        this.#text = this.#text.slice(newline + 1);
        continue;
      }
      const read = await this.conn.read(this.#buffer);
      if (read === null) break;
      this.#text += this.#decoder.decode(this.#buffer.subarray(0, read), { stream: true });
    }
    return lines;
  }

  /** Reads until the server closes; returns the complete lines left. */
  async rest(): Promise<string[]> {
    return await this.take(Infinity);
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Closed by the other side's end of stream already.
    }
  }
}

/** The path the config tests' TOML is said to come from. */
export const TEST_CONFIG_FILE = "/etc/logwisp/test.toml";

/** Validates `toml` as the file TEST_CONFIG_FILE, relative paths from /srv. */
export function validateToml(
  toml: string,
  options: Partial<ValidateOptions> = {},
): ReturnType<typeof validateConfig> {
  return validateConfig(parseToml(toml, TEST_CONFIG_FILE), {
    file: TEST_CONFIG_FILE,
    cwd: "/srv",
    ...options,
  });
}

/** The issues `validateToml()` reports for `toml`; throws when it accepts it. */
export function configIssues(
  toml: string,
  options: Partial<ValidateOptions> = {},
): readonly ConfigIssue[] {
  try {
    validateToml(toml, options);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("Expected a ConfigError");
}
