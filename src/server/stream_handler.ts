import type { HttpServerConfig } from "../config/types.ts";
import type { Hub } from "../stream/hub.ts";
import { byMethod, jsonResponse, notFoundResponse } from "./responses.ts";
import { disconnectSseClients, sseResponse } from "./sse.ts";

/** A stream's HTTP endpoints as a plain function: testable without a socket. */
export type HttpHandler = (request: Request, remoteAddr?: string) => Response;

/** What a stream's HTTP endpoints serve. */
export interface StreamHandlerOptions {
  readonly hub: Hub;
  readonly stream: string;
  readonly config: HttpServerConfig;
  /** `/{name}` in router mode (the router strips it before calling), `""` standalone. */
  readonly prefix: string;
  /** The process-wide shutdown signal. */
  readonly shutdown: AbortSignal;
  /** The stream's status document (SPEC §7). */
  readonly status: () => unknown;
}

/**
 * `{stream_path}` (SSE) and `{status_path}` (JSON) of one stream, with `HEAD`, `OPTIONS`,
 * `405` and `404` (SPEC §5.1). At shutdown every SSE client gets its `disconnect` event.
 */
export function streamHandler(options: StreamHandlerOptions): HttpHandler {
  const { config, prefix, shutdown } = options;
  const sse = {
    ...options,
    streamPath: prefix + config.streamPath,
    statusPath: prefix + config.statusPath,
  };
  const endpoints = { stream: sse.streamPath, status: sse.statusPath };
  shutdown.addEventListener("abort", () => disconnectSseClients(options.hub), { once: true });

  return (request, remoteAddr = "unknown") => {
    const path = new URL(request.url).pathname;
    if (path === config.streamPath) {
      return byMethod(
        request,
        () =>
          shutdown.aborted
            ? jsonResponse(request, { error: "LogWisp is shutting down" }, 503)
            : sseResponse(request, remoteAddr, sse),
      );
    }
    if (path === config.statusPath) {
      return byMethod(request, () => jsonResponse(request, options.status()));
    }
    return notFoundResponse(request, prefix + path, endpoints);
  };
}
