/** The methods every LogWisp endpoint answers. */
export const ALLOWED_METHODS = ["GET", "HEAD", "OPTIONS"] as const;

/** Extra headers every response of a server carries (CORS). */
export type ExtraHeaders = Readonly<Record<string, string>>;

/**
 * The CORS headers for `request` from the allowed `origins`: `*` lets any page read
 * (never together with credentials); otherwise a listed `Origin` is echoed back.
 */
export function corsHeaders(request: Request, origins: readonly string[]): ExtraHeaders {
  if (origins.includes("*")) return { "Access-Control-Allow-Origin": "*" };
  const origin = request.headers.get("Origin");
  if (origin === null || !origins.includes(origin)) {
    return origins.length > 0 ? { Vary: "Origin" } : {};
  }
  return {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Allow-Credentials": "true",
    Vary: "Origin",
  };
}

/** A JSON response; for `HEAD`, the same headers without the body. */
export function jsonResponse(
  request: Request,
  body: unknown,
  status = 200,
  headers: ExtraHeaders = {},
): Response {
  return new Response(request.method === "HEAD" ? null : JSON.stringify(body), {
    status,
    headers: {
      ...headers,
      "Content-Type": "application/json",
      "Cache-Control": "no-cache",
    },
  });
}

/** The answer to `OPTIONS`, including a CORS preflight for `Last-Event-ID` and `Authorization`. */
export function preflightResponse(headers: ExtraHeaders = {}): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...headers,
      "Allow": ALLOWED_METHODS.join(", "),
      "Access-Control-Allow-Methods": ALLOWED_METHODS.join(", "),
      "Access-Control-Allow-Headers": "Last-Event-ID, Cache-Control, Authorization",
      "Access-Control-Max-Age": "86400",
    },
  });
}

/** `405` naming the methods that are allowed. */
export function methodNotAllowedResponse(request: Request, headers: ExtraHeaders = {}): Response {
  const response = jsonResponse(
    request,
    {
      error: `Method ${JSON.stringify(request.method)} is not allowed`,
      allowed: ALLOWED_METHODS,
    },
    405,
    headers,
  );
  response.headers.set("Allow", ALLOWED_METHODS.join(", "));
  return response;
}

/** `404` listing the endpoints there are, so a mistyped path is quickly put right. */
export function notFoundResponse(
  request: Request,
  path: string,
  endpoints: Readonly<Record<string, string>>,
  headers: ExtraHeaders = {},
): Response {
  return jsonResponse(
    request,
    { error: `No endpoint at ${JSON.stringify(path)}`, endpoints },
    404,
    headers,
  );
}

/** Answers `GET`/`HEAD` with `respond()`, `OPTIONS` with a preflight, anything else `405`. */
export function byMethod(
  request: Request,
  respond: () => Response,
  headers: ExtraHeaders = {},
): Response {
  switch (request.method) {
    case "GET":
    case "HEAD":
      return respond();
    case "OPTIONS":
      return preflightResponse(headers);
    default:
      return methodNotAllowedResponse(request, headers);
  }
}
