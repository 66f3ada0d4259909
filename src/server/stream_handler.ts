import type { HttpServerConfig } from "../config/types.ts";
import type { Codec } from "../stream/codec.ts";
import type { Hub } from "../stream/hub.ts";
import type { HttpHandler } from "./http_server.ts";
import { byMethod, corsHeaders, jsonResponse, notFoundResponse } from "./responses.ts";
import { sseResponse } from "./sse.ts";
import { streamViewer } from "../viewer/viewer_routes.ts";

/** What a stream's HTTP endpoints serve. */
export interface StreamHandlerOptions {
  readonly hub: Hub;
  readonly stream: string;
  readonly config: HttpServerConfig;
  /** The SSE codec of this server's clients. */
  readonly sse: Codec;
  /** `/{name}` in router mode (the router strips it before calling), `""` standalone. */
  readonly prefix: string;
  /** The process-wide shutdown signal: no new subscriptions once it aborts. */
  readonly shutdown: AbortSignal;
  /** The stream's status document. */
  readonly status: () => unknown;
}

/**
 * `{stream_path}` (SSE), `{status_path}` (JSON) and `{viewer_path}` (the web viewer) of one
 * stream, with `HEAD`, `OPTIONS`, `405` and `404`. Only the request's path picks the endpoint.
 */
export function streamHandler(options: StreamHandlerOptions): HttpHandler {
  const { config, prefix, shutdown } = options;
  const viewer = streamViewer(options.stream, config, prefix);
  const endpoints = {
    stream: prefix + config.streamPath,
    status: prefix + config.statusPath,
    ...(viewer && { viewer: prefix + config.viewerPath }),
  };
  return (request, client) => {
    const path = new URL(request.url).pathname;
    const cors = corsHeaders(request, config.access.corsOrigins);
    if (path === config.streamPath) {
      return byMethod(
        request,
        () =>
          shutdown.aborted
            ? jsonResponse(request, { error: "LogWisp is shutting down" }, 503, cors)
            : sseResponse(request, {
              hub: options.hub,
              codec: options.sse,
              config,
              client,
              headers: cors,
            }),
        cors,
      );
    }
    if (path === config.statusPath) {
      return byMethod(request, () => jsonResponse(request, options.status(), 200, cors), cors);
    }
    if (viewer && path === config.viewerPath) return byMethod(request, () => viewer(request));
    return notFoundResponse(request, prefix + path, endpoints, cors);
  };
}
