import type { HeartbeatConfig, HttpServerConfig } from "../config/types.ts";
import { type Codec, encodeTexts, type Gap } from "../stream/codec.ts";
import type { EntryFilter, Hub } from "../stream/hub.ts";
import { heartbeatJson, heartbeatTime } from "./heartbeat.ts";
import type { ClientInfo } from "./http_server.ts";

/** What the `connected` event tells a client about the stream. */
export interface StreamInfo {
  /** The stream's name. */
  readonly stream: string;
  /** Paths as clients see them (prefixed in router mode). */
  readonly streamPath: string;
  /** The status path as clients see it. */
  readonly statusPath: string;
  /** The server's `buffer_size`. */
  readonly bufferSize: number;
}

/** How long EventSource waits before reconnecting, in ms. */
const RETRY_MS = 3000;

const encoder = new TextEncoder();

/** A `gap` as the SSE `gap` event and the WebSocket `gap` message carry it. */
export function gapJson(gap: Gap): Record<string, unknown> {
  return {
    reason: gap.reason,
    ...(gap.from !== undefined && { from: gap.from, to: gap.to }),
    missed: gap.missed,
    ...(gap.lastEventId !== undefined && { last_event_id: gap.lastEventId }),
  };
}

/** What the `connected` event (and the WebSocket `connected` message) says. */
export function connectedJson(info: StreamInfo, clientId: string): Record<string, unknown> {
  return {
    client_id: clientId,
    stream: info.stream,
    stream_path: info.streamPath,
    status_path: info.statusPath,
    buffer_size: info.bufferSize,
  };
}

/**
 * Server-Sent Events: `retry` and a `connected` event first (then `gap` when a resuming
 * client missed entries), each entry as `id: <id>` / `data: <json>` (a default `message`
 * event), heartbeats as comments or `heartbeat` events, and a `disconnect` event last.
 */
export function sseCodec(info: StreamInfo, heartbeat: HeartbeatConfig): Codec {
  return {
    transport: "sse",
    encode: (entries) =>
      encodeTexts(entries.map((entry) => `id: ${entry.id}\ndata: ${entry.json}\n\n`)),
    greeting({ clientId, gap }) {
      let text = `retry: ${RETRY_MS}\nevent: connected\ndata: ${
        JSON.stringify(connectedJson(info, clientId))
      }\n\n`;
      if (gap) text += `event: gap\ndata: ${JSON.stringify(gapJson(gap))}\n\n`;
      return encoder.encode(text);
    },
    heartbeat(stats, now) {
      if (!heartbeat.enabled) return undefined;
      if (heartbeat.format === "json") {
        return encoder.encode(
          `event: heartbeat\ndata: ${heartbeatJson(heartbeat, stats, now)}\n\n`,
        );
      }
      const parts = [
        ": heartbeat",
        ...(heartbeat.includeTimestamp ? [heartbeatTime(now)] : []),
        ...(heartbeat.includeStats
          ? [`clients=${stats.activeClients}`, `uptime=${stats.uptimeSeconds}s`]
          : []),
      ];
      return encoder.encode(`${parts.join(" ")}\n\n`);
    },
    farewell: (reason) =>
      encoder.encode(`event: disconnect\ndata: ${JSON.stringify({ reason })}\n\n`),
  };
}

/** Headers of the event stream; `X-Accel-Buffering` keeps nginx from buffering it. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache",
  "X-Accel-Buffering": "no",
};

/** Who subscribes, and what to. */
export interface SseSubscription {
  /** The stream's hub. */
  readonly hub: Hub;
  /** The SSE codec of this server. */
  readonly codec: Codec;
  /** The server's settings. */
  readonly config: HttpServerConfig;
  /** Who is connecting. */
  readonly client: ClientInfo;
  /** The authenticated identity, if any. */
  readonly identity?: string | undefined;
  /** The client's filter, if any. */
  readonly filter?: EntryFilter | undefined;
  /** How status shows the filter. */
  readonly filterDescription?: string | undefined;
  /** Start with the last this many entries (`tail=N`). */
  readonly tail?: number | undefined;
  /** Extra response headers (CORS). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * `GET {stream_path}`: subscribes the client and streams its queue as the response body,
 * until either side ends it. `HEAD` gets the headers only.
 */
export function sseResponse(request: Request, options: SseSubscription): Response {
  const headers = { ...options.headers, ...SSE_HEADERS };
  if (request.method === "HEAD") return new Response(null, { headers });
  const { hub, config } = options;
  const subscription = hub.subscribe({
    codec: options.codec,
    remoteAddr: options.client.remoteAddr,
    identity: options.identity ?? options.client.identity,
    limits: { entries: config.bufferSize, bytes: config.bufferBytes },
    lastEventId: lastEventId(request),
    tail: options.tail,
    filter: options.filter,
    filterDescription: options.filterDescription,
  });
  let pending: Parameters<typeof subscription.written>[0] | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      subscription.onTerminate = () =>
        controller.error(new Error("Client disconnected by LogWisp"));
    },
    async pull(controller) {
      // The previous batch was taken by the server's writer: it is on its way to the socket.
      if (pending) subscription.written(pending);
      pending = (await subscription.queue.take()) ?? undefined;
      if (pending === undefined) controller.close();
      else controller.enqueue(pending.bytes);
    },
    cancel() {
      subscription.close();
    },
  }, { highWaterMark: 0 });
  return new Response(body, { headers });
}

/** The `Last-Event-ID` header, or `?last_event_id=` for clients that cannot set headers. */
function lastEventId(request: Request): string | undefined {
  const value = request.headers.get("Last-Event-ID") ??
    new URL(request.url).searchParams.get("last_event_id");
  return value === null || value.length > 64 ? undefined : value;
}
