/**
 * The endpoints for operators every HTTP listener serves besides its own: `/healthz`,
 * `/readyz` and `{metrics_path}` (docs/operations.md "Health and readiness").
 *
 * @module
 */
import { CONTENT_TYPE } from "../metrics/exposition.ts";
import type { HttpHandler } from "./http_server.ts";
import { byMethod, type ExtraHeaders, jsonResponse, notFoundResponse } from "./responses.ts";

/** Where the process is in its life: ready once every stream has scanned its files. */
export type Readiness = "starting" | "ready" | "stopping";

/** Liveness path: `200` while the process serves. */
export const HEALTH_PATH = "/healthz";
/** Readiness path: `200` when ready, `503` while starting or stopping. */
export const READY_PATH = "/readyz";

/** What the operator endpoints of one listener answer from. */
export interface OpsEndpoints {
  /** `""`: no metrics endpoint on this listener. */
  readonly metricsPath: string;
  /** The exposition text of a scrape. */
  readonly metrics: () => Promise<string>;
  /** Whether the process is starting, ready or stopping. */
  readonly readiness: () => Readiness;
}

/** The operator endpoints of `ops`, by name, for a `404`'s list of endpoints. */
export function opsEndpointList(ops: OpsEndpoints): Record<string, string> {
  return {
    healthz: HEALTH_PATH,
    readyz: READY_PATH,
    ...(ops.metricsPath !== "" && { metrics: ops.metricsPath }),
  };
}

/** The answer when `path` is an operator endpoint of `ops`, otherwise undefined. */
export function opsResponse(
  request: Request,
  path: string,
  ops: OpsEndpoints,
  headers: ExtraHeaders = {},
): Response | Promise<Response> | undefined {
  if (path === HEALTH_PATH) {
    return byMethod(
      request,
      () => jsonResponse(request, { status: "alive" }, 200, headers),
      headers,
    );
  }
  if (path === READY_PATH) {
    return byMethod(request, () => {
      const state = ops.readiness();
      return jsonResponse(request, { status: state }, state === "ready" ? 200 : 503, headers);
    }, headers);
  }
  if (path === ops.metricsPath && ops.metricsPath !== "") {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return byMethod(request, () => new Response(), headers);
    }
    return metricsResponse(request, ops, headers);
  }
  return undefined;
}

async function metricsResponse(
  request: Request,
  ops: OpsEndpoints,
  headers: ExtraHeaders,
): Promise<Response> {
  const text = await ops.metrics();
  return new Response(request.method === "HEAD" ? null : text, {
    headers: { ...headers, "Content-Type": CONTENT_TYPE, "Cache-Control": "no-cache" },
  });
}

/** A listener that serves only the operator endpoints (`[metrics]`). */
export function opsHandler(ops: OpsEndpoints): HttpHandler {
  const endpoints = opsEndpointList(ops);
  return (request) => {
    const path = new URL(request.url).pathname;
    return opsResponse(request, path, ops) ?? notFoundResponse(request, path, endpoints);
  };
}
