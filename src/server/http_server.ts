import { aborted, settledWithin } from "../async.ts";
import type { Log } from "../log.ts";
import type { HttpHandler } from "./stream_handler.ts";

/** Where and what to serve over HTTP. */
export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly handler: HttpHandler;
  /** The process-wide shutdown signal. */
  readonly shutdown: AbortSignal;
  /** How long open responses may take to finish after shutdown before they are cut. */
  readonly drainMs: number;
  readonly log: Log;
  /** Prefix of log messages, e.g. `stream "app"`. */
  readonly label: string;
}

/** A listening HTTP server. */
export interface HttpServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Resolves once every connection is closed after shutdown. */
  readonly finished: Promise<void>;
}

/**
 * Serves `handler` with `Deno.serve`; throws at once when the port cannot be bound.
 *
 * At shutdown, SSE streams send their `disconnect` event and end; this waits for those
 * responses to be fully sent (up to `drainMs`), then closes every connection. Closing at
 * once would lose the `disconnect` events; a graceful `server.shutdown()` would wait forever
 * for a client that stopped reading, while aborting the server's signal cuts it off.
 */
export function serveHttp(options: HttpServerOptions): HttpServer {
  const { handler, shutdown, log, label } = options;
  const inFlight = new Set<Promise<void>>();
  const cut = new AbortController();
  const server = Deno.serve({
    hostname: options.host,
    port: options.port,
    signal: cut.signal,
    onListen: () => {},
    onError: (error) => {
      log("error", `${label}: request failed: ${(error as Error)?.message ?? error}`);
      return new Response("Internal server error", { status: 500 });
    },
  }, (request, info) => {
    const completed = info.completed.catch(() => {});
    inFlight.add(completed);
    completed.then(() => inFlight.delete(completed));
    return handler(request, formatAddress(info.remoteAddr));
  });

  const finished = (async () => {
    await aborted(shutdown);
    await settledWithin(Promise.all(inFlight), options.drainMs);
    cut.abort();
    await server.finished;
  })();
  return { port: server.addr.port, finished };
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatAddress(
  address: { readonly hostname: string; readonly port: number },
): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}
