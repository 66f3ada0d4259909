import { aborted } from "../async.ts";
import type { ServerConfig } from "../config/types.ts";
import type { Hub } from "../stream/hub.ts";
import { formatAddress } from "./http_server.ts";

/** What a stream's TCP server serves. */
export interface TcpServerOptions {
  readonly hub: Hub;
  readonly config: ServerConfig;
  /** The process-wide shutdown signal. */
  readonly shutdown: AbortSignal;
  /** How long queued entries may take to reach a client after shutdown before it is cut. */
  readonly drainMs: number;
}

/** A listening TCP server. */
export interface TcpServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Resolves once the listener and every connection are closed after shutdown. */
  readonly finished: Promise<void>;
}

/**
 * NDJSON over TCP (SPEC §5.2): each client gets every entry as one JSON line, written in
 * batches; what it sends is read and discarded, and closing its side ends the stream.
 * Throws at once when the port cannot be bound.
 */
export function serveTcp(options: TcpServerOptions): TcpServer {
  const { config, shutdown } = options;
  const listener = Deno.listen({ hostname: config.host, port: config.port, transport: "tcp" });
  const connections = new Set<Promise<void>>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const served = serveConnection(conn, options);
        connections.add(served);
        served.then(() => connections.delete(served));
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  })();
  const finished = (async () => {
    await aborted(shutdown);
    listener.close();
    await accepting;
    await Promise.all(connections);
  })();
  return { port: (listener.addr as Deno.NetAddr).port, finished };
}

async function serveConnection(conn: Deno.TcpConn, options: TcpServerOptions): Promise<void> {
  const { hub, config, shutdown } = options;
  conn.setNoDelay(true);
  const subscription = hub.subscribe({
    transport: "tcp",
    remoteAddr: formatAddress(conn.remoteAddr),
    bufferSize: config.bufferSize,
  });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  // Cuts a pending write to a client that stopped reading.
  subscription.onTerminate = close;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const onShutdown = () => {
    subscription.close();
    deadline = setTimeout(() => subscription.terminate(), options.drainMs);
  };
  shutdown.addEventListener("abort", onShutdown, { once: true });
  const reading = discardInput(conn).then(() => subscription.close());
  try {
    for (let chunk; (chunk = await subscription.queue.take()) !== null;) {
      for (let written = 0; written < chunk.length;) {
        written += await conn.write(chunk.subarray(written));
      }
    }
  } catch {
    // The client is gone or was cut off: nothing left to deliver.
  } finally {
    subscription.close();
    shutdown.removeEventListener("abort", onShutdown);
    clearTimeout(deadline);
    close();
    await reading;
  }
}

/** Reads and drops what the client sends, until it closes its side or the connection ends. */
async function discardInput(conn: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(4096);
  try {
    while ((await conn.read(buffer)) !== null) { /* discarded */ }
  } catch {
    // Reset, or closed by us: either way the client is done.
  }
}
