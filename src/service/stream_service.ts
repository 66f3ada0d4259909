import type { StreamConfig } from "../config/types.ts";
import type { Log } from "../log.ts";
import { Monitor } from "../monitor/monitor.ts";
import { runHeartbeat } from "../server/heartbeat.ts";
import { formatAddress, serveHttp } from "../server/http_server.ts";
import { type StreamSnapshot, streamStatus } from "../server/status.ts";
import { type HttpHandler, streamHandler } from "../server/stream_handler.ts";
import { serveTcp } from "../server/tcp_server.ts";
import { Hub } from "../stream/hub.ts";
import { StartupError } from "./startup_error.ts";

/** How a stream runs. */
export interface StreamServiceOptions {
  readonly config: StreamConfig;
  /** The process-wide shutdown signal. */
  readonly shutdown: AbortSignal;
  /** Router mode: the router serves this stream's HTTP endpoints on its own port. */
  readonly router: boolean;
  /** Epoch ms the process started, for uptime. */
  readonly startedAt: number;
  /** How long clients may take to receive their last data after shutdown. */
  readonly drainMs: number;
  readonly log: Log;
}

/**
 * One independent pipeline (SPEC §5): monitor → hub → TCP and HTTP servers, started and
 * stopped as a unit.
 */
export class StreamService {
  readonly config: StreamConfig;
  /** The stream's HTTP endpoints; the router calls them in router mode. */
  readonly handler: HttpHandler | undefined;
  readonly #options: StreamServiceOptions;
  readonly #hub: Hub;
  #monitor: Monitor | undefined;
  #httpPort: number | undefined;
  #tcpPort: number | undefined;
  #finished: Promise<unknown>[] = [];

  private constructor(options: StreamServiceOptions, signal: AbortSignal) {
    const { config } = options;
    this.config = config;
    this.#options = options;
    this.#hub = new Hub(config.http?.bufferSize ?? 0);
    this.handler = config.http && streamHandler({
      hub: this.#hub,
      stream: config.name,
      config: config.http,
      prefix: options.router ? `/${config.name}` : "",
      shutdown: signal,
      status: () => this.status(),
    });
  }

  /**
   * Binds the stream's servers, then starts following its files. Throws a
   * {@linkcode StartupError} naming stream, port and reason when a port cannot be bound,
   * after closing whatever it had opened.
   */
  static async start(options: StreamServiceOptions): Promise<StreamService> {
    const failed = new AbortController();
    const signal = AbortSignal.any([options.shutdown, failed.signal]);
    const service = new StreamService(options, signal);
    try {
      service.#listen(signal);
    } catch (error) {
      failed.abort();
      await service.finished;
      throw error;
    }
    const { config, log } = options;
    if (!config.monitor) throw new StartupError(`stream "${config.name}": no monitor configured`);
    service.#monitor = await Monitor.start({
      config: config.monitor,
      onEntries: (entries) => service.#hub.publishAll(entries),
      signal,
      label: `stream "${config.name}"`,
      log,
    });
    service.#finished.push(service.#monitor.finished);
    return service;
  }

  #listen(signal: AbortSignal): void {
    const { config, drainMs, log } = this.#options;
    const stats = () => ({
      activeClients: this.#hub.clients.size,
      uptimeSeconds: this.uptimeSeconds(),
    });
    if (config.tcp) {
      const tcp = bind(
        `stream "${config.name}"`,
        "tcp",
        config.tcp,
        () => serveTcp({ hub: this.#hub, config: config.tcp!, shutdown: signal, drainMs }),
      );
      this.#tcpPort = tcp.port;
      this.#finished.push(tcp.finished);
      runHeartbeat({
        hub: this.#hub,
        transport: "tcp",
        config: config.tcp.heartbeat,
        stats,
        signal,
      });
    }
    if (config.http) {
      if (!this.#options.router) {
        const http = bind(`stream "${config.name}"`, "http", config.http, () =>
          serveHttp({
            host: config.http!.host,
            port: config.http!.port,
            handler: this.handler!,
            shutdown: signal,
            drainMs,
            log,
            label: `stream "${config.name}"`,
          }));
        this.#httpPort = http.port;
        this.#finished.push(http.finished);
      }
      runHeartbeat({
        hub: this.#hub,
        transport: "sse",
        config: config.http.heartbeat,
        stats,
        signal,
      });
    }
  }

  /** Resolves once the monitor, servers and connections are all closed after shutdown. */
  get finished(): Promise<void> {
    return Promise.all(this.#finished).then(() => {});
  }

  /** The port HTTP clients use; set by the app to the router's port in router mode. */
  get httpPort(): number | undefined {
    return this.#httpPort;
  }

  set httpPort(port: number) {
    this.#httpPort = port;
  }

  get tcpPort(): number | undefined {
    return this.#tcpPort;
  }

  uptimeSeconds(): number {
    return Math.floor((Date.now() - this.#options.startedAt) / 1000);
  }

  /** Live numbers for status and console statistics. */
  snapshot(): StreamSnapshot {
    return {
      name: this.config.name,
      uptimeSeconds: this.uptimeSeconds(),
      monitor: this.#monitor!.stats(),
      hub: this.#hub,
      ...(this.config.http && this.#httpPort !== undefined && { httpPort: this.#httpPort }),
      ...(this.#tcpPort !== undefined && { tcpPort: this.#tcpPort }),
    };
  }

  /** The status document (SPEC §7). */
  status(): Record<string, unknown> {
    return streamStatus(this.snapshot());
  }
}

/**
 * Runs `listen`, turning a bind failure into a message naming who listens (`stream "app"`,
 * `router`), transport, address and reason.
 */
export function bind<T>(
  label: string,
  transport: string,
  address: { host: string; port: number },
  listen: () => T,
): T {
  try {
    return listen();
  } catch (error) {
    const reason = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied (ports below 1024 need privileges)"
      : error instanceof Deno.errors.AddrNotAvailable
      ? "address not available on this host"
      : (error as Error).message;
    throw new StartupError(
      `${label}: cannot listen on ${transport} ${
        formatAddress({ hostname: address.host, port: address.port })
      }: ${reason}`,
      { cause: error },
    );
  }
}
