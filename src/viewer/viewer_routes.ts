/**
 * Where the web viewer is mounted: on each stream's HTTP server at `viewer_path`, and as an
 * index of streams on the router. The HTTP layer only matches the path and the method.
 *
 * @module
 */
import type { HttpServerConfig } from "../config/types.ts";
import { indexResponse, viewerResponse } from "./viewer_page.ts";

/** The paths of a stream's HTTP server that its viewer needs. */
export type ViewerPaths = Pick<HttpServerConfig, "viewerPath" | "streamPath" | "statusPath">;

/** A stream as the router's index lists it. */
export interface IndexedStream {
  /** The stream's name, its URL segment. */
  readonly name: string;
  /** The stream's own paths, without the router's `/{name}` prefix. */
  readonly paths: ViewerPaths;
}

/** Answers `GET`/`HEAD` with a page. */
export type PageResponder = (request: Request) => Response;

/**
 * The viewer page of `stream`, whose endpoints the browser reaches under `prefix` (`/{name}`
 * in router mode, `""` otherwise); undefined when `viewer_path` is `""` (off).
 */
export function streamViewer(
  stream: string,
  paths: ViewerPaths,
  prefix: string,
): PageResponder | undefined {
  if (paths.viewerPath === "") return undefined;
  const page = {
    stream,
    streamPath: prefix + paths.streamPath,
    statusPath: prefix + paths.statusPath,
  };
  return (request) => viewerResponse(request, page);
}

/**
 * The router's index page at its `viewer_path`, linking to the viewer of every stream that
 * has one; undefined when the router's `viewer_path` is `""` (off).
 */
export function streamIndex(
  indexPath: string,
  streams: readonly IndexedStream[],
): PageResponder | undefined {
  if (indexPath === "") return undefined;
  const listed = streams.filter(({ paths }) => paths.viewerPath !== "").map(({ name, paths }) => ({
    name,
    viewerPath: `/${name}${paths.viewerPath}`,
    streamPath: `/${name}${paths.streamPath}`,
  }));
  return (request) => indexResponse(request, listed);
}
