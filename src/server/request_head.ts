/** A parsed HTTP/1.x request line and header section. */
export interface RequestHead {
  /** The request method, as sent. */
  readonly method: string;
  /** Path and query, e.g. `/stream?level=WARN`; `*` for `OPTIONS *`. */
  readonly target: string;
  /** The HTTP version. */
  readonly version: "1.0" | "1.1";
  /** Field names in lower case, in order; repeated fields are kept apart. */
  readonly headers: readonly (readonly [string, string])[];
  /** The client asked to keep the connection open for another request. */
  readonly keepAlive: boolean;
  /** The request announces a body (LogWisp's endpoints take none). */
  readonly hasBody: boolean;
}

/** Why a request head is refused, as the status to answer with. */
export interface HeadError {
  /** The status to answer with. */
  readonly status: 400 | 405 | 431 | 501 | 505;
  /** What is wrong, for the error body. */
  readonly message: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VERSION = /^HTTP\/1\.([01])$/;
/** Methods a `Request` cannot carry: answered 405 before any handler. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
/** A field value: visible characters, spaces, tabs and obs-text; no controls. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/**
 * A Host header: a reg-name, IPv4 or bracketed IPv6 literal, with an optional port;
 * percent-encodings must be complete.
 */
const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)(?::\d{0,5})?$/;

/**
 * The offset just past the blank line that ends a request head in `bytes` (`\r\n\r\n`, or
 * `\n\n` from lenient clients), or -1 when it has not arrived yet. `from` skips what was
 * searched before.
 */
export function headEnd(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from - 3); i < bytes.length; i++) {
    if (bytes[i] !== 10) continue;
    if (bytes[i + 1] === 10) return i + 2;
    if (bytes[i + 1] === 13 && bytes[i + 2] === 10) return i + 3;
  }
  return -1;
}

/**
 * Parses a request head (without its final blank line: bytes up to {@linkcode headEnd}).
 * Routing takes the path from the request target only: the `Host` header is checked for
 * syntax, never used to pick an endpoint.
 */
export function parseRequestHead(bytes: Uint8Array): { head: RequestHead } | { error: HeadError } {
  // Latin-1: one character per byte, so obs-text in values survives and nothing is invalid.
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  const lines = text.replace(/\r?\n\r?\n$/, "").split(/\r?\n/);
  const requestLine = lines[0] ?? "";
  const parts = requestLine.split(" ");
  if (parts.length !== 3) return bad(`Malformed request line`);
  const [method, rawTarget, protocol] = parts as [string, string, string];
  if (!TOKEN.test(method)) return bad("Malformed method");
  // A `Request` cannot carry these (the Fetch standard forbids them): no handler could see one.
  if (FORBIDDEN_METHODS.has(method.toUpperCase())) {
    return { error: { status: 405, message: `Method ${JSON.stringify(method)} is not allowed` } };
  }
  const version = VERSION.exec(protocol)?.[1];
  if (version === undefined) {
    return /^HTTP\/\d/.test(protocol)
      ? { error: { status: 505, message: "Only HTTP/1.0 and HTTP/1.1 are supported" } }
      : bad("Malformed HTTP version");
  }
  const target = requestTarget(method, rawTarget);
  if ("error" in target) return target;

  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      return bad("Folded header lines are not allowed");
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) return bad("Malformed header line");
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (!FIELD_VALUE.test(value)) {
      return bad(`Invalid characters in header ${JSON.stringify(name)}`);
    }
    headers.push([name.toLowerCase(), value]);
  }

  const hosts = headers.filter(([name]) => name === "host");
  if (hosts.length > 1) return bad("More than one Host header");
  if (version === "1" && hosts.length === 0) return bad("HTTP/1.1 requests need a Host header");
  if (hosts.length === 1 && !HOST.test(hosts[0]![1])) return bad("Malformed Host header");

  const connection = headers
    .filter(([name]) => name === "connection")
    .flatMap(([, value]) => value.toLowerCase().split(",").map((token) => token.trim()));
  const lengths = headers.filter(([name]) => name === "content-length");
  const chunked = headers.some(([name]) => name === "transfer-encoding");
  if (lengths.some(([, value]) => !/^\d+$/.test(value))) return bad("Malformed Content-Length");
  return {
    head: {
      method,
      target: target.path,
      version: version === "1" ? "1.1" : "1.0",
      headers,
      keepAlive: version === "1"
        ? !connection.includes("close")
        : connection.includes("keep-alive"),
      hasBody: chunked || lengths.some(([, value]) => Number(value) > 0),
    },
  };
}

/** The path and query of a request target; the absolute form's authority is dropped. */
function requestTarget(method: string, target: string): { path: string } | { error: HeadError } {
  if (target.startsWith("/")) {
    return /^[\x21-\x7e]+$/.test(target) ? { path: target } : bad("Malformed request target");
  }
  if (target === "*") {
    return method === "OPTIONS"
      ? { path: "*" }
      : { error: { status: 405, message: `"*" is only a target for OPTIONS` } };
  }
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return { path: url.pathname + url.search };
    } catch {
      return bad("Malformed request target");
    }
  }
  return bad("Malformed request target");
}

function bad(message: string): { error: HeadError } {
  return { error: { status: 400, message } };
}
