import type { HttpServerConfig } from "../config/types.ts";
import type { Codec } from "../stream/codec.ts";
import type { Hub } from "../stream/hub.ts";
import type { HttpHandler } from "./http_server.ts";
import { opsEndpointList, type OpsEndpoints, opsResponse } from "./ops_endpoints.ts";
import { byMethod, corsHeaders, jsonResponse, notFoundResponse } from "./responses.ts";
import { selectionFromRequest } from "./filter_request.ts";
import { sseResponse } from "./sse.ts";
import type { WsHandler } from "./ws_endpoint.ts";
import { streamViewer } from "../viewer/viewer_routes.ts";

/** What a stream's HTTP endpoints serve. */
export interface StreamHandlerOptions {
  /** The stream's hub. */
  readonly hub: Hub;
  /** The stream's name. */
  readonly stream: string;
  /** The HTTP server's settings. */
  readonly config: HttpServerConfig;
  /** The SSE codec of this server's clients. */
  readonly sse: Codec;
  /** `/{name}` in router mode (the router strips it before calling), `""` standalone. */
  readonly prefix: string;
  /** The process-wide shutdown signal: no new subscriptions once it aborts. */
  readonly shutdown: AbortSignal;
  /** Serves `{ws_path}` (WebSocket), when the stream has one. */
  readonly ws?: WsHandler;
  /** The stream's status document. */
  readonly status: () => unknown;
  /** `/healthz`, `/readyz` and metrics, on a listener of the stream's own. */
  readonly ops?: OpsEndpoints;
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
    ...(options.ws && config.wsPath !== "" && { websocket: prefix + config.wsPath }),
    ...(options.ops && opsEndpointList(options.ops)),
    ...(viewer && { viewer: prefix + config.viewerPath }),
  };
  return (request, client) => {
    const path = new URL(request.url).pathname;
    const cors = corsHeaders(request, config.access.corsOrigins);
    if (path === config.streamPath) {
      return byMethod(request, () => {
        if (shutdown.aborted) {
          return jsonResponse(request, { error: "LogWisp is shutting down" }, 503, cors);
        }
        const selection = selectionFromRequest(request, cors);
        if (selection instanceof Response) return selection;
        return sseResponse(request, {
          hub: options.hub,
          codec: options.sse,
          config,
          client,
          headers: cors,
          ...selection,
        });
      }, cors);
    }
    if (options.ws && config.wsPath !== "" && path === config.wsPath) {
      return byMethod(request, () => options.ws!(request, client, cors), cors);
    }
    if (path === config.statusPath) {
      return byMethod(request, () => jsonResponse(request, options.status(), 200, cors), cors);
    }
    if (viewer && path === config.viewerPath) return byMethod(request, () => viewer(request));
    const ops = options.ops && opsResponse(request, path, options.ops, cors);
    return ops ?? notFoundResponse(request, prefix + path, endpoints, cors);
  };
}
