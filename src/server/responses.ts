/** The methods every LogWisp endpoint answers. */
export const ALLOWED_METHODS = ["GET", "HEAD", "OPTIONS"] as const;

/** Browsers on any origin may read LogWisp's endpoints (SPEC §5.1). */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  "Access-Control-Allow-Origin": "*",
};

/** A JSON response; for `HEAD`, the same headers without the body. */
export function jsonResponse(request: Request, body: unknown, status = 200): Response {
  return new Response(request.method === "HEAD" ? null : JSON.stringify(body), {
    status,
    headers: {
      ...CORS_HEADERS,
      "Content-Type": "application/json",
      "Cache-Control": "no-cache",
    },
  });
}

/** The answer to `OPTIONS`, including a CORS preflight for `Last-Event-ID`. */
export function preflightResponse(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...CORS_HEADERS,
      "Allow": ALLOWED_METHODS.join(", "),
      "Access-Control-Allow-Methods": ALLOWED_METHODS.join(", "),
      "Access-Control-Allow-Headers": "Last-Event-ID, Cache-Control",
      "Access-Control-Max-Age": "86400",
    },
  });
}

/** `405` naming the methods that are allowed. */
export function methodNotAllowedResponse(request: Request): Response {
  const response = jsonResponse(request, {
    error: `Method "${request.method}" is not allowed`,
    allowed: ALLOWED_METHODS,
  }, 405);
  response.headers.set("Allow", ALLOWED_METHODS.join(", "));
  return response;
}

/** `404` listing the endpoints there are, so a mistyped path is quickly put right. */
export function notFoundResponse(
  request: Request,
  path: string,
  endpoints: Readonly<Record<string, string>>,
): Response {
  return jsonResponse(request, { error: `No endpoint at "${path}"`, endpoints }, 404);
}

/** Answers `GET`/`HEAD` with `respond()`, `OPTIONS` with a preflight, anything else `405`. */
export function byMethod(request: Request, respond: () => Response): Response {
  switch (request.method) {
    case "GET":
    case "HEAD":
      return respond();
    case "OPTIONS":
      return preflightResponse();
    default:
      return methodNotAllowedResponse(request);
  }
}
