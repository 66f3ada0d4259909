import type { AuditLog } from "../audit/audit_log.ts";
import type { ServerConfig, StreamConfig } from "../config/types.ts";
import type { Log } from "../log.ts";
import { collectMetrics, type StreamMetrics } from "../metrics/collect.ts";
import { Histogram } from "../metrics/histogram.ts";
import { formatAddress } from "../server/connection.ts";
import { type HttpHandler, serveHttp } from "../server/http_server.ts";
import { Guard } from "../server/guard.ts";
import type { Listener, RefusalReason } from "../server/listener.ts";
import type { Readiness } from "../server/ops_endpoints.ts";
import { sseCodec } from "../server/sse.ts";
import { type ListenerSnapshot, type StreamSnapshot, streamStatus } from "../server/status.ts";
import { streamHandler } from "../server/stream_handler.ts";
import { serveTcp, tcpCodec } from "../server/tcp_server.ts";
import { wsCodec } from "../server/ws_codec.ts";
import { wsHandler } from "../server/ws_endpoint.ts";
import type { Codec } from "../stream/codec.ts";
import { runEventIds, SEQUENCE_EVENT_IDS } from "../stream/event_ids.ts";
import { runHeartbeat } from "../stream/heartbeat.ts";
import { Hub } from "../stream/hub.ts";
import { runSlowClientReaper } from "../stream/slow_clients.ts";
import { bindTls } from "../tls/tls_source.ts";
import { clientAudit } from "./client_audit.ts";
import type { Security } from "./security.ts";
import { type EntrySource, openEntrySource } from "./entry_source.ts";
import { StartupError } from "./startup_error.ts";
import { StreamTransform } from "./stream_transform.ts";
import { streamMetrics } from "./stream_metrics.ts";

/** How a stream runs. */
export interface StreamServiceOptions {
  /** The stream's configuration. */
  readonly config: StreamConfig;
  /** The process-wide shutdown signal. */
  readonly shutdown: AbortSignal;
  /** Router mode: the router serves this stream's HTTP endpoints on its own port. */
  readonly router: boolean;
  /** Epoch ms the process started: uptime, and the run that event ids carry. */
  readonly startedAt: number;
  /** How long clients may take to receive their last data after shutdown. */
  readonly drainMs: number;
  /** Where problems are reported. */
  readonly log: Log;
  /** Each server's TLS, authentication and access rules (see `loadSecurity`). */
  readonly security: Security;
  /** The audit log, when `[audit]` enables it. */
  readonly audit?: AuditLog;
  /** The process's readiness, which `/readyz` reports. */
  readonly readiness: () => Readiness;
}

/** Where a stream is in its life, as status says it. */
export type StreamState = "starting" | "running" | "stopping";

/** A bound server of a stream, and the codecs of its clients. */
interface Server {
  readonly listener?: Listener;
  readonly codecs: readonly Codec[];
  readonly guard?: Guard;
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
  /** The stream's configuration. */
  readonly config: StreamConfig;
  /** The stream's HTTP endpoints; the router calls them in router mode. */
  readonly handler: HttpHandler | undefined;
  readonly #options: StreamServiceOptions;
  readonly #hub: Hub;
  readonly #transform: StreamTransform;
  /** Read-to-send latency of this stream's clients. */
  readonly #latency = new Histogram();
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
      // Resume, `tail` and the entries published while a TCP client says hello all read the
      // ring, so a TCP-only stream keeps one too: the larger of its servers' bounds.
      ring: {
        entries: Math.max(config.http?.bufferSize ?? 0, config.tcp?.bufferSize ?? 0),
        bytes: Math.max(config.http?.bufferBytes ?? 0, config.tcp?.bufferBytes ?? 0),
      },
      ...(options.audit?.enabled &&
        {
          onClient: clientAudit(
            options.audit,
            config.name,
            (transport) => (transport === "tcp" ? this.#tcp : this.#http)?.guard?.authType,
          ),
        }),
      observeLatency: (seconds) => this.#latency.observe(seconds),
      // The source is opened after the hub: looked up when a client needs history.
      history: config.source && {
        range: (afterSeq, untilSeq) => this.#source.history!.range(afterSeq, untilSeq),
        last: (count, beforeSeq, accept) => this.#source.history!.last(count, beforeSeq, accept),
      },
    });
    this.#transform = new StreamTransform(config.transform);
    const prefix = options.router ? `/${config.name}` : "";
    if (config.http) {
      const sse = sseCodec({
        stream: config.name,
        streamPath: prefix + config.http.streamPath,
        statusPath: prefix + config.http.statusPath,
        bufferSize: config.http.bufferSize,
      }, config.http.heartbeat);
      const ws = config.http.wsPath === "" ? undefined : wsCodec({
        stream: config.name,
        streamPath: prefix + config.http.streamPath,
        statusPath: prefix + config.http.statusPath,
        bufferSize: config.http.bufferSize,
      }, config.http.heartbeat);
      const guard = this.#guard(config.http, "http");
      this.#http = { codecs: ws ? [sse, ws] : [sse], guard };
      this.handler = guard.http(streamHandler({
        hub: this.#hub,
        stream: config.name,
        config: config.http,
        sse,
        prefix,
        shutdown: signal,
        ...(ws && {
          ws: wsHandler({ hub: this.#hub, codec: ws, config: config.http, shutdown: signal }),
        }),
        status: () => this.status(),
        // Under the router, the router's own listener serves them.
        ...(!options.router && {
          ops: {
            metricsPath: config.http.metricsPath,
            metrics: () => collectMetrics({ streams: [this.metrics()] }),
            readiness: options.readiness,
          },
        }),
      }));
    }
    if (config.tcp) {
      this.#tcp = {
        codecs: [tcpCodec(config.tcp.heartbeat)],
        guard: this.#guard(config.tcp, "tcp"),
      };
    }
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
      service.#source = await openEntrySource({
        ...options,
        hub: service.#hub,
        transform: service.#transform,
        signal,
      });
      service.#finished.push(service.#source.finished);
      await service.#listen();
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

  #guard(config: ServerConfig, transport: "http" | "tcp"): Guard {
    const { security, audit, log } = this.#options;
    const { authenticator, access } = security.of(config);
    return new Guard({
      authenticator,
      access,
      corsOrigins: config.access.corsOrigins,
      ...(audit && { audit }),
      stream: this.config.name,
      transport,
      label: `stream "${this.config.name}" ${transport}`,
      log,
    });
  }

  async #listen(): Promise<void> {
    const { config, drainMs, log, security } = this.#options;
    const signal = this.#signal;
    const label = `stream "${config.name}"`;
    if (config.tcp && this.#tcp) {
      const tcp = config.tcp;
      const guard = this.#tcp.guard!;
      const tls = security.of(tcp).tls;
      const listener = await bind(label, "tcp", tcp, async () =>
        serveTcp({
          hub: this.#hub,
          codec: this.#tcp!.codecs[0]!,
          config: tcp,
          label: `${label} tcp`,
          log,
          shutdown: signal,
          drainMs,
          admit: guard.admit,
          onTlsError: guard.onTlsError,
          authenticate: (connection) => guard.tcp(connection),
          ...(tls && { source: await bindTls(tls, { hostname: tcp.host, port: tcp.port }) }),
        }));
      this.#tcp = { ...this.#tcp, listener };
      this.#finished.push(listener.finished);
      this.#runTimers(tcp, this.#tcp.codecs);
    }
    if (config.http && this.#http) {
      const http = config.http;
      if (!this.#options.router) {
        const guard = this.#http.guard!;
        const tls = security.of(http).tls;
        const listener = await bind(label, "http", http, async () =>
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
            admit: guard.admit,
            onTlsError: guard.onTlsError,
            ...(tls && { source: await bindTls(tls, { hostname: http.host, port: http.port }) }),
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

  /** The port of the stream's TCP server, once bound. */
  get tcpPort(): number | undefined {
    return this.#tcp?.listener?.port;
  }

  /** Whether the first scan of the stream's files is done. */
  get ready(): boolean {
    return this.#source.started;
  }

  /** Where the stream is in its life. */
  get state(): StreamState {
    if (this.#signal.aborted) return "stopping";
    return this.#source.started ? "running" : "starting";
  }

  /** Seconds since the process started. */
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
      filteredEntries: this.#transform.filtered,
      transform: this.#transform.status(),
      ...(this.#http && this.#httpPort !== undefined && {
        http: serverSnapshot(this.#httpPort, this.#http, this.#tlsOf(this.config.http)),
      }),
      ...(this.#tcp?.listener && {
        tcp: serverSnapshot(this.#tcp.listener.port, this.#tcp, this.#tlsOf(this.config.tcp)),
      }),
    };
  }

  /** The TLS a server of this stream serves itself (not the router's). */
  #tlsOf(config: ServerConfig | undefined): ListenerSnapshot["tls"] {
    if (!config || (this.#options.router && config === this.config.http)) return undefined;
    const tls = this.#options.security.of(config).tls;
    return tls && {
      subject: tls.leaf.subject,
      notAfter: tls.leaf.notAfter,
      clientCertificates: tls.clientCa !== undefined,
    };
  }

  /** Live numbers for a scrape of the metrics. */
  metrics(): StreamMetrics {
    return streamMetrics(this.snapshot(), this.#latency.snapshot());
  }

  /** The status document. */
  status(): Record<string, unknown> {
    return streamStatus(this.snapshot());
  }
}

function serverSnapshot(
  port: number,
  server: Server,
  tls: ListenerSnapshot["tls"],
): ListenerSnapshot {
  const refused = new Map<RefusalReason, number>(server.listener?.refused);
  for (const [reason, count] of server.guard?.refused ?? []) {
    refused.set(reason, (refused.get(reason) ?? 0) + count);
  }
  return {
    port,
    codecs: server.codecs,
    ...(server.listener && { connections: server.listener.connections }),
    ...(tls && { tls }),
    ...((server.listener || refused.size > 0) && { refused }),
    ...(server.guard && { authFailures: server.guard.authFailures }),
  };
}

/**
 * Runs `listen`, turning a bind failure into a message naming who listens (`stream "app"`,
 * `router`), transport, address and reason.
 */
export async function bind<T>(
  label: string,
  transport: string,
  address: { host: string; port: number },
  listen: () => T | Promise<T>,
): Promise<T> {
  try {
    return await listen();
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
