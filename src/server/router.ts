import type { HttpHandler } from "./http_server.ts";
import { opsEndpointList, type OpsEndpoints, opsResponse } from "./ops_endpoints.ts";
import { byMethod, jsonResponse, notFoundResponse } from "./responses.ts";
import { streamIndex } from "../viewer/viewer_routes.ts";

/** A stream served by the router, at `/{name}{streamPath}` and `/{name}{statusPath}`. */
export interface RoutedStream {
  /** The stream's name, its first path segment. */
  readonly name: string;
  /** The stream's own endpoints. */
  readonly handler: HttpHandler;
  /** Its SSE path, after the prefix. */
  readonly streamPath: string;
  /** Its status path, after the prefix. */
  readonly statusPath: string;
  /** Its viewer at `/{name}{viewerPath}`; absent or `""`: none. */
  readonly viewerPath?: string;
}

/**
 * Router mode: `/status` for all streams, an index of their viewers at `indexPath` (the
 * router's `viewer_path`, `""` for none), and `/{name}/…` handed to that stream with the
 * prefix removed. Names match whole path segments, so `/app/stream` never reaches a stream
 * named `app2`; only the request's path routes, never its Host header.
 */
export function routerHandler(
  streams: readonly RoutedStream[],
  status: () => unknown,
  ops?: OpsEndpoints,
  indexPath = "",
): HttpHandler {
  const byName = new Map(streams.map((stream) => [stream.name, stream]));
  const index = streamIndex(
    indexPath,
    streams.map((stream) => ({ name: stream.name, paths: { viewerPath: "", ...stream } })),
  );
  const endpoints: Record<string, string> = {
    status: "/status",
    ...(ops && opsEndpointList(ops)),
  };
  if (index) endpoints.viewer = indexPath;
  for (const { name, streamPath, statusPath, viewerPath } of streams) {
    endpoints[`${name}.stream`] = `/${name}${streamPath}`;
    endpoints[`${name}.status`] = `/${name}${statusPath}`;
    if (viewerPath) endpoints[`${name}.viewer`] = `/${name}${viewerPath}`;
  }
  return (request, client) => {
    const url = new URL(request.url);
    if (url.pathname === "/status") {
      return byMethod(request, () => jsonResponse(request, status()));
    }
    const answer = ops && opsResponse(request, url.pathname, ops);
    if (answer) return answer;
    if (index && url.pathname === indexPath) return byMethod(request, () => index(request));
    const end = url.pathname.indexOf("/", 1);
    const stream = end > 0 ? byName.get(url.pathname.slice(1, end)) : undefined;
    if (!stream) return notFoundResponse(request, url.pathname, endpoints);
    url.pathname = url.pathname.slice(end);
    return stream.handler(new Request(url, request), client);
  };
}
