import type { HeartbeatConfig, ServerConfig } from "../config/types.ts";
import type { Log } from "../log.ts";
import { type Codec, encodeTexts } from "../stream/codec.ts";
import type { Hub } from "../stream/hub.ts";
import { type Connection, formatPeer, writeAll } from "./connection.ts";
import { heartbeatJson } from "./heartbeat.ts";
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
}

/**
 * NDJSON over TCP: each client gets every entry as one JSON line, written in batches; what
 * it sends is read and discarded, and closing its side ends the stream. A refused client is
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
  const subscription = hub.subscribe({
    codec: options.codec,
    remoteAddr: formatPeer(connection.peer),
    limits: { entries: config.bufferSize, bytes: config.bufferBytes },
  });
  // Cuts a pending write to a client that stopped reading.
  subscription.onTerminate = () => connection.close();
  const onShutdown = () => subscription.close();
  shutdown.addEventListener("abort", onShutdown, { once: true });
  if (shutdown.aborted) subscription.close();
  const reading = discardInput(connection).then(() => subscription.close());
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

/** Reads and drops what the client sends, until it closes its side or the connection ends. */
async function discardInput(connection: Connection): Promise<void> {
  const buffer = new Uint8Array(4096);
  try {
    while ((await connection.read(buffer)) !== null) { /* discarded */ }
  } catch {
    // Reset, or closed by us: either way the client is done.
  }
}
