import type { HttpServerConfig } from "../config/types.ts";
import type { Hub } from "../stream/hub.ts";
import { CORS_HEADERS } from "./responses.ts";

/** What an SSE endpoint serves, and the paths clients see (prefixed in router mode). */
export interface SseOptions {
  readonly hub: Hub;
  readonly stream: string;
  readonly config: HttpServerConfig;
  readonly streamPath: string;
  readonly statusPath: string;
  /** The process-wide shutdown: clients get a `disconnect` event, then the end. */
  readonly shutdown: AbortSignal;
}

/** Headers of the event stream (SPEC §5.1); `X-Accel-Buffering` keeps nginx from buffering. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  ...CORS_HEADERS,
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache",
  "X-Accel-Buffering": "no",
};

/** How long EventSource waits before reconnecting, in ms. */
const RETRY_MS = 3000;

const encoder = new TextEncoder();

/** The `disconnect` event every SSE client gets at shutdown. */
export const DISCONNECT_FRAME: Uint8Array = encoder.encode(
  `event: disconnect\ndata: ${JSON.stringify({ reason: "server_shutdown" })}\n\n`,
);

/**
 * `GET {stream_path}`: a `connected` event, a `gap` event when a resumed client asked for
 * entries no longer kept, then every entry as `id:`/`data:` until either side ends it.
 */
export function sseResponse(request: Request, remoteAddr: string, options: SseOptions): Response {
  const { hub, config } = options;
  if (request.method === "HEAD") return new Response(null, { headers: SSE_HEADERS });
  const subscription = hub.subscribe({
    transport: "sse",
    remoteAddr,
    bufferSize: config.bufferSize,
    after: lastEventId(request),
  });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const connected = {
        client_id: subscription.id,
        stream: options.stream,
        stream_path: options.streamPath,
        status_path: options.statusPath,
        buffer_size: config.bufferSize,
      };
      let greeting = `retry: ${RETRY_MS}\nevent: connected\ndata: ${JSON.stringify(connected)}\n\n`;
      if (subscription.gap) greeting += `event: gap\ndata: ${JSON.stringify(subscription.gap)}\n\n`;
      controller.enqueue(encoder.encode(greeting));
      subscription.onTerminate = () =>
        controller.error(new Error("Client disconnected by LogWisp"));
    },
    async pull(controller) {
      const chunk = await subscription.queue.take();
      if (chunk === null) controller.close();
      else controller.enqueue(chunk);
    },
    cancel() {
      subscription.close();
    },
  });
  return new Response(body, { headers: SSE_HEADERS });
}

/** Sends `disconnect` to every SSE client of `hub` and ends their streams once drained. */
export function disconnectSseClients(hub: Hub): void {
  for (const client of [...hub.clients]) {
    if (client.transport !== "sse") continue;
    client.queue.force(DISCONNECT_FRAME);
    client.close();
  }
}

/** The `Last-Event-ID` header, or `?last_event_id=` for clients that cannot set headers. */
function lastEventId(request: Request): number | undefined {
  const value = request.headers.get("Last-Event-ID") ??
    new URL(request.url).searchParams.get("last_event_id");
  if (value === null || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
