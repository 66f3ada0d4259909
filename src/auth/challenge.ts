/**
 * What a refused client is told: the `WWW-Authenticate` challenge (RFC 7617 for Basic,
 * RFC 6750 for Bearer), the JSON body of the 401 or 403, and the TCP error line.
 *
 * @module
 */

/** `Basic realm="…", charset="UTF-8"`: the browser sends UTF-8 user names and passwords. */
export function basicChallenge(realm: string): string {
  return `Basic realm=${quotedString(realm)}, charset="UTF-8"`;
}

/**
 * `Bearer realm="…"` when the request had no token, with `error="invalid_token"` when the
 * token it had was refused (RFC 6750 section 3.1).
 */
export function bearerChallenge(realm: string, tokenRefused: boolean): string {
  const challenge = `Bearer realm=${quotedString(realm)}`;
  return tokenRefused ? `${challenge}, error="invalid_token"` : challenge;
}

/** The JSON body of a refusal: `{"error":"unauthorized","reason":"expired"}` (or forbidden). */
export function authErrorBody(
  failure: { readonly status: 401 | 403; readonly reason: string },
): string {
  return JSON.stringify({
    error: failure.status === 401 ? "unauthorized" : "forbidden",
    reason: failure.reason,
  });
}

/** What a TCP client without a valid token gets before the connection is closed. */
export const TCP_UNAUTHORIZED_LINE = '{"type":"error","error":"unauthorized"}\n';

/**
 * An RFC 9110 quoted-string: `"` and `\` escaped; control and non-ASCII characters, which a
 * header value cannot carry portably, dropped.
 */
function quotedString(value: string): string {
  return `"${value.replace(/[^\t\x20-\x7e]/g, "").replace(/["\\]/g, "\\$&")}"`;
}
