import type { HeartbeatConfig, ServerConfig } from "../config/types.ts";
import type { Log } from "../log.ts";
import { type Codec, encodeTexts } from "../stream/codec.ts";
import type { Hub } from "../stream/hub.ts";
import { type Connection, formatPeer, writeAll } from "./connection.ts";
import { FilterError, parseFilterHello } from "../filter/client_filter.ts";
import { type ClientSelection, clientSelection } from "./filter_request.ts";
import { heartbeatJson } from "./heartbeat.ts";
import { type Hello, readHello } from "./tcp_hello.ts";
import { Listener, type ListenerOptions, type Refusal } from "./listener.ts";

const encoder = new TextEncoder();

/**
 * NDJSON: one entry per line, no greeting and no farewell (the end of the stream is the
 * end of the connection), heartbeats as JSON lines.
 */
export function tcpCodec(heartbeat: HeartbeatConfig): Codec {
  return {
    transport: "tcp",
    encode: (entries) => encodeTexts(entries.map((entry) => `${entry.json}\n`)),
    greeting: () => undefined,
    heartbeat: (stats, now) =>
      heartbeat.enabled ? encoder.encode(`${heartbeatJson(heartbeat, stats, now)}\n`) : undefined,
    farewell: () => undefined,
  };
}

/** What a stream's TCP server serves. */
export interface TcpServerOptions {
  /** The stream's hub. */
  readonly hub: Hub;
  /** The NDJSON codec of this server. */
  readonly codec: Codec;
  /** The server's settings. */
  readonly config: ServerConfig;
  /** Who serves, for messages, e.g. `stream "app" tcp`. */
  readonly label: string;
  /** Where problems are reported. */
  readonly log: Log;
  /** The process-wide shutdown signal. */
  readonly shutdown: AbortSignal;
  /** How long queued entries may take to reach a client after shutdown before it is cut. */
  readonly drainMs: number;
  /** Access and rate checks, before any byte is read. */
  readonly admit?: ListenerOptions["admit"];
  /** A TLS socket; plain TCP on the configured address by default. */
  readonly source?: ListenerOptions["source"];
  /** Counts and reports a failed TLS handshake. */
  readonly onTlsError?: ListenerOptions["onTlsError"];
  /** Who the client is (see `Guard.tcp`); undefined: refused, close it. */
  readonly authenticate?: (
    connection: Connection,
  ) => Promise<{ identity?: string; hello?: Readonly<Record<string, unknown>> } | undefined>;
}

/**
 * NDJSON over TCP: each client gets every entry (or, after a hello line with a filter, the
 * entries it asked for) as one JSON line, written in batches; anything else it sends is read
 * and discarded, and closing its side ends the stream. A refused client is
 * closed before any byte. Throws at once when the port cannot be bound.
 */
export function serveTcp(options: TcpServerOptions): Listener {
  const { config } = options;
  return new Listener({
    label: options.label,
    host: config.host,
    port: config.port,
    limits: config,
    ...(options.admit && { admit: options.admit }),
    ...(options.source && { source: options.source }),
    ...(options.onTlsError && { onTlsError: options.onTlsError }),
    serve: (connection) => serveConnection(connection, options),
    refuse: (connection: Connection, _refusal: Refusal) => {
      connection.close();
      return Promise.resolve();
    },
    log: options.log,
    shutdown: options.shutdown,
    drainMs: options.drainMs,
  });
}

async function serveConnection(connection: Connection, options: TcpServerOptions): Promise<void> {
  const { hub, config, shutdown } = options;
  // Entries published while the client says what it wants are queued for it first.
  const afterSeq = hub.lastSeq;
  const client = options.authenticate ? await options.authenticate(connection) : {};
  if (!client || shutdown.aborted) return connection.close();
  // A hello the guard read for its token is the hello: its filter counts, and what the
  // client sends after it is only drained.
  const { hello, input } = readHello(connection, client.hello ? { waitMs: 0 } : {});
  const said: Hello = client.hello ? { kind: "hello", object: client.hello } : await hello;
  if (said.kind === "closed" || shutdown.aborted) {
    connection.close();
    await input;
    return;
  }
  let selection: ClientSelection | undefined;
  try {
    if (said.kind === "error") throw new HelloError(said.error);
    if (said.kind === "hello") selection = clientSelection(parseFilterHello(said.object));
  } catch (error) {
    if (!(error instanceof FilterError || error instanceof HelloError)) throw error;
    const line = JSON.stringify({
      type: "error",
      error: error.message,
      ...(error instanceof FilterError && { parameter: error.parameter }),
    });
    await writeAll(connection, encoder.encode(`${line}\n`)).catch(() => {});
    connection.close();
    await input;
    return;
  }
  const subscription = hub.subscribe({
    codec: options.codec,
    remoteAddr: formatPeer(connection.peer),
    identity: client.identity,
    limits: { entries: config.bufferSize, bytes: config.bufferBytes },
    ...(selection?.tail === undefined && { afterSeq }),
    ...selection,
  });
  // Cuts a pending write to a client that stopped reading.
  subscription.onTerminate = () => connection.close();
  const onShutdown = () => subscription.close();
  shutdown.addEventListener("abort", onShutdown, { once: true });
  if (shutdown.aborted) subscription.close();
  const reading = input.then(() => subscription.close());
  try {
    for (let batch; (batch = await subscription.queue.take()) !== null;) {
      await writeAll(connection, batch.bytes);
      subscription.written(batch);
    }
  } catch {
    // The client is gone or was cut off: nothing left to deliver.
  } finally {
    subscription.close();
    shutdown.removeEventListener("abort", onShutdown);
    connection.close();
    await reading;
  }
}

/** A hello line that cannot be read. */
class HelloError extends Error {}
