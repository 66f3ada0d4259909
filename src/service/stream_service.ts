import type { ServerConfig, StreamConfig } from "../config/types.ts";
import type { Log } from "../log.ts";
import { formatAddress } from "../server/connection.ts";
import { type HttpHandler, serveHttp } from "../server/http_server.ts";
import type { Listener } from "../server/listener.ts";
import { sseCodec } from "../server/sse.ts";
import { type ListenerSnapshot, type StreamSnapshot, streamStatus } from "../server/status.ts";
import { streamHandler } from "../server/stream_handler.ts";
import { serveTcp, tcpCodec } from "../server/tcp_server.ts";
import type { Codec } from "../stream/codec.ts";
import { runEventIds, SEQUENCE_EVENT_IDS } from "../stream/event_ids.ts";
import { runHeartbeat } from "../stream/heartbeat.ts";
import { Hub } from "../stream/hub.ts";
import { runSlowClientReaper } from "../stream/slow_clients.ts";
import { type EntrySource, openEntrySource } from "./entry_source.ts";
import { StartupError } from "./startup_error.ts";

/** How a stream runs. */
export interface StreamServiceOptions {
  readonly config: StreamConfig;
  /** The process-wide shutdown signal. */
  readonly shutdown: AbortSignal;
  /** Router mode: the router serves this stream's HTTP endpoints on its own port. */
  readonly router: boolean;
  /** Epoch ms the process started: uptime, and the run that event ids carry. */
  readonly startedAt: number;
  /** How long clients may take to receive their last data after shutdown. */
  readonly drainMs: number;
  readonly log: Log;
}

/** Where a stream is in its life, as status says it. */
export type StreamState = "starting" | "running" | "stopping";

/** A bound server of a stream, and the codecs of its clients. */
interface Server {
  readonly listener?: Listener;
  readonly codecs: readonly Codec[];
}

/** What the farewell frames say at shutdown. */
const SHUTDOWN_REASON = "server_shutdown";

/**
 * One independent pipeline: source (files, or NATS) → hub → TCP and HTTP servers, started
 * and stopped as a unit. Its servers are bound before its files are first scanned, so that
 * its status answers (`"state": "starting"`) while a directory of thousands of files is
 * scanned.
 */
export class StreamService {
  readonly config: StreamConfig;
  /** The stream's HTTP endpoints; the router calls them in router mode. */
  readonly handler: HttpHandler | undefined;
  readonly #options: StreamServiceOptions;
  readonly #hub: Hub;
  #source!: EntrySource;
  readonly #signal: AbortSignal;
  #http: Server | undefined;
  #tcp: Server | undefined;
  #httpPort: number | undefined;
  readonly #finished: Promise<unknown>[] = [];

  private constructor(options: StreamServiceOptions, signal: AbortSignal) {
    const { config } = options;
    this.config = config;
    this.#options = options;
    this.#signal = signal;
    this.#hub = new Hub({
      // A NATS-fed stream's entries keep their JetStream sequence: shared by every gateway.
      ids: config.source ? SEQUENCE_EVENT_IDS : runEventIds(options.startedAt),
      ring: { entries: config.http?.bufferSize ?? 0, bytes: config.http?.bufferBytes ?? 0 },
      // The source is opened after the hub: looked up when a client needs history.
      history: config.source && {
        range: (afterSeq, untilSeq) => this.#source.history!.range(afterSeq, untilSeq),
        last: (count, beforeSeq, accept) => this.#source.history!.last(count, beforeSeq, accept),
      },
    });
    const prefix = options.router ? `/${config.name}` : "";
    if (config.http) {
      const sse = sseCodec({
        stream: config.name,
        streamPath: prefix + config.http.streamPath,
        statusPath: prefix + config.http.statusPath,
        bufferSize: config.http.bufferSize,
      }, config.http.heartbeat);
      this.#http = { codecs: [sse] };
      this.handler = streamHandler({
        hub: this.#hub,
        stream: config.name,
        config: config.http,
        sse,
        prefix,
        shutdown: signal,
        status: () => this.status(),
      });
    }
    if (config.tcp) this.#tcp = { codecs: [tcpCodec(config.tcp.heartbeat)] };
  }

  /**
   * Binds the stream's servers. Throws a {@linkcode StartupError} naming stream, port and
   * reason when a port cannot be bound, after closing whatever it had opened. The files are
   * followed from {@linkcode StreamService.start}.
   */
  static async bind(options: StreamServiceOptions): Promise<StreamService> {
    const failed = new AbortController();
    const signal = AbortSignal.any([options.shutdown, failed.signal]);
    const service = new StreamService(options, signal);
    try {
      service.#source = await openEntrySource({ ...options, hub: service.#hub, signal });
      service.#finished.push(service.#source.finished);
      service.#listen();
    } catch (error) {
      failed.abort();
      await service.finished;
      throw error;
    }
    signal.addEventListener("abort", () => service.#farewell(), { once: true });
    return service;
  }

  /** Scans the stream's files once (the start position of each), then follows them. */
  async start(): Promise<void> {
    await this.#source.start();
  }

  #listen(): void {
    const { config, drainMs, log } = this.#options;
    const signal = this.#signal;
    const label = `stream "${config.name}"`;
    if (config.tcp && this.#tcp) {
      const tcp = config.tcp;
      const listener = bind(label, "tcp", tcp, () =>
        serveTcp({
          hub: this.#hub,
          codec: this.#tcp!.codecs[0]!,
          config: tcp,
          label: `${label} tcp`,
          log,
          shutdown: signal,
          drainMs,
        }));
      this.#tcp = { ...this.#tcp, listener };
      this.#finished.push(listener.finished);
      this.#runTimers(tcp, this.#tcp.codecs);
    }
    if (config.http && this.#http) {
      const http = config.http;
      if (!this.#options.router) {
        const listener = bind(label, "http", http, () =>
          serveHttp({
            label: `${label} http`,
            host: http.host,
            port: http.port,
            limits: http,
            handler: this.handler!,
            writeTimeoutMs: http.slowClientTimeoutSeconds * 1000,
            log,
            shutdown: signal,
            drainMs,
          }));
        this.#http = { ...this.#http, listener };
        this.#httpPort = listener.port;
        this.#finished.push(listener.finished);
      }
      this.#runTimers(http, this.#http.codecs);
    }
  }

  /** The heartbeat (when enabled) and the slow-client reaper of one server. */
  #runTimers(config: ServerConfig, codecs: readonly Codec[]): void {
    const hub = this.#hub;
    if (config.heartbeat.enabled) {
      runHeartbeat({
        hub,
        codecs,
        intervalSeconds: config.heartbeat.intervalSeconds,
        stats: () => ({
          activeClients: hub.clientCount(codecs),
          uptimeSeconds: this.uptimeSeconds(),
        }),
        signal: this.#signal,
      });
    }
    runSlowClientReaper({
      hub,
      codecs,
      timeoutSeconds: config.slowClientTimeoutSeconds,
      signal: this.#signal,
    });
  }

  /** Every client is told the server is going away, and ends once its queue is drained. */
  #farewell(): void {
    for (const server of [this.#http, this.#tcp]) {
      for (const codec of server?.codecs ?? []) this.#hub.farewell(codec, SHUTDOWN_REASON);
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
    return this.#tcp?.listener?.port;
  }

  /** Whether the first scan of the stream's files is done. */
  get ready(): boolean {
    return this.#source.started;
  }

  get state(): StreamState {
    if (this.#signal.aborted) return "stopping";
    return this.#source.started ? "running" : "starting";
  }

  uptimeSeconds(): number {
    return Math.floor((Date.now() - this.#options.startedAt) / 1000);
  }

  /** Live numbers for status and console statistics. */
  snapshot(): StreamSnapshot {
    return {
      name: this.config.name,
      state: this.state,
      uptimeSeconds: this.uptimeSeconds(),
      monitor: this.#source.monitorStats(),
      nats: this.#source.natsStatus(),
      hub: this.#hub,
      ...(this.#http && this.#httpPort !== undefined && {
        http: serverSnapshot(this.#httpPort, this.#http),
      }),
      ...(this.#tcp?.listener && { tcp: serverSnapshot(this.#tcp.listener.port, this.#tcp) }),
    };
  }

  /** The status document. */
  status(): Record<string, unknown> {
    return streamStatus(this.snapshot());
  }
}

function serverSnapshot(port: number, server: Server): ListenerSnapshot {
  return {
    port,
    codecs: server.codecs,
    ...(server.listener && {
      connections: server.listener.connections,
      refused: server.listener.refused,
    }),
  };
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
