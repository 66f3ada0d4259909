/**
 * The one place a listener's checks happen (README "Security"): access lists and rate limits
 * when a connection is accepted and per HTTP request, authentication in front of every HTTP
 * endpoint and before a TCP client gets its first entry, and the audit line and counter of
 * every refusal.
 *
 * @module
 */
import type { AccessControl } from "../access/access_control.ts";
import type { AuditEvent, AuditLog, AuditTransport } from "../audit/audit_log.ts";
import type { Authenticator, AuthResult } from "../auth/authenticator.ts";
import { authErrorBody, TCP_UNAUTHORIZED_LINE } from "../auth/challenge.ts";
import type { PeerCertificate as AuthCertificate } from "../auth/mtls.ts";
import type { Log } from "../log.ts";
import { type Connection, formatPeer, type Peer, writeAll } from "./connection.ts";
import type { HttpHandler } from "./http_server.ts";
import type { Refusal, RefusalReason } from "./listener.ts";
import { corsHeaders } from "./responses.ts";

/** What a listener checks, and where it reports. */
export interface GuardOptions {
  /** Checks the credentials of a request or a TCP hello. */
  readonly authenticator: Authenticator;
  /** Access lists and rate limits. */
  readonly access: AccessControl;
  /** `Access-Control-Allow-Origin` values, for refusals a page should be able to read. */
  readonly corsOrigins: readonly string[];
  /** Where connects, refusals and auth failures are recorded, when enabled. */
  readonly audit?: AuditLog;
  /** The stream's name; absent for the router's own endpoints. */
  readonly stream?: string;
  /** Which transport the audit lines name. */
  readonly transport: AuditTransport;
  /** Who listens, for log messages, e.g. `stream "app" http`. */
  readonly label: string;
  /** Where problems are reported. */
  readonly log: Log;
}

/** How long a TCP client has to send its `{"token":"…"}` line. */
export const TCP_HELLO_TIMEOUT_MS = 5000;
/** Longest hello line read. */
const MAX_HELLO_BYTES = 8192;
/** TLS handshake failures are logged at most once per this interval (the rest counted). */
const TLS_LOG_INTERVAL_MS = 60_000;

const encoder = new TextEncoder();

/** What a TCP client showed: its identity and the hello object it sent (filters may use it). */
export interface TcpAdmission {
  /** Who the client proved to be (user, token name or certificate subject). */
  readonly identity?: string;
  /** The hello line the guard read for a token: the client's filter is in it too. */
  readonly hello?: Readonly<Record<string, unknown>>;
}

/** Checks of one listener (or of one stream's routes in router mode); see the module. */
export class Guard {
  readonly #options: GuardOptions;
  readonly #refused = new Map<RefusalReason, number>();
  readonly #authFailures = new Map<string, number>();
  #tlsLoggedAt = -Infinity;
  #tlsUnlogged = 0;

  /** A guard for one server, from its security settings. */
  constructor(options: GuardOptions) {
    this.#options = options;
  }

  /** The configured `auth.type`. */
  get authType(): Authenticator["type"] {
    return this.#options.authenticator.type;
  }

  /** Requests and clients refused after their connection was accepted, by reason. */
  get refused(): ReadonlyMap<RefusalReason, number> {
    return this.#refused;
  }

  /** Credentials turned down, by why (`missing`, `invalid`, `expired`...). */
  get authFailures(): ReadonlyMap<string, number> {
    return this.#authFailures;
  }

  /** The listener's `admit` hook: the access lists and the connection rate. */
  readonly admit = (peer: Peer): Refusal | undefined => {
    const admission = this.#options.access.admitConnection(peer.address);
    if (admission.admitted) return undefined;
    this.#audit({ event: admission.reason, remoteAddr: admission.client });
    return admission.reason === "rate_limited"
      ? { reason: "rate_limited", retryAfterSeconds: admission.retryAfterSeconds }
      : { reason: "denied" };
  };

  /** The listener's `onTlsError` hook: audited, and logged once a minute at most. */
  readonly onTlsError = (peer: Peer, error: unknown): void => {
    const reason = error instanceof Error ? error.message : String(error);
    this.#audit({ event: "tls_error", remoteAddr: peer.address, reason });
    const now = Date.now();
    if (now - this.#tlsLoggedAt < TLS_LOG_INTERVAL_MS) {
      this.#tlsUnlogged++;
      return;
    }
    const more = this.#tlsUnlogged > 0 ? ` (and ${this.#tlsUnlogged} more since)` : "";
    this.#tlsLoggedAt = now;
    this.#tlsUnlogged = 0;
    this.#options.log(
      "warn",
      `${this.#options.label}: TLS handshake failed from ${formatPeer(peer)}: ${reason}${more}`,
    );
  };

  /**
   * `handler` behind the access lists (again per request: behind a trusted proxy the client
   * is known only from `X-Forwarded-For`) and authentication. `covers(path)` says which
   * paths need credentials (default: all but `/healthz` and `/readyz`); CORS preflights never
   * do. The identity reaches the handler as `client.identity`.
   */
  http(handler: HttpHandler, covers: (path: string) => boolean = notProbe): HttpHandler {
    const { access, authenticator, corsOrigins } = this.#options;
    return async (request, client) => {
      const cors = corsHeaders(request, corsOrigins);
      const admission = access.admitRequest(
        client.peer.address,
        request.headers.get("X-Forwarded-For"),
      );
      if (!admission.admitted) {
        this.#count(admission.reason);
        this.#audit({ event: admission.reason, remoteAddr: admission.client });
        return admission.reason === "rate_limited"
          ? refusal(429, "Too many connections from your address: slow down", cors, {
            "Retry-After": String(admission.retryAfterSeconds),
          })
          : refusal(403, "Your address may not connect to this server", cors);
      }
      const path = new URL(request.url).pathname;
      if (authenticator.type === "none" || request.method === "OPTIONS" || !covers(path)) {
        return handler(request, client);
      }
      const blocked = access.checkAuth(admission.address);
      if (!blocked.allowed) {
        this.#count("rate_limited");
        this.#audit({
          event: "rate_limited",
          remoteAddr: admission.client,
          reason: "auth_failures",
        });
        return refusal(429, "Too many failed authentications: wait", cors, {
          "Retry-After": String(blocked.retryAfterSeconds),
        });
      }
      const result = await authenticator.verify({
        authorization: request.headers.get("Authorization"),
        queryToken: new URL(request.url).searchParams.get("access_token"),
        peerCertificate: authCertificate(client.peer) ?? null,
      });
      if (!result.ok) {
        access.recordAuthFailure(admission.address);
        this.#countAuthFailure(result.reason);
        this.#audit({
          event: "auth_failure",
          remoteAddr: admission.client,
          reason: result.reason,
        });
        return new Response(request.method === "HEAD" ? null : authErrorBody(result), {
          status: result.status,
          headers: {
            ...cors,
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            ...(result.challenge && { "WWW-Authenticate": result.challenge }),
          },
        });
      }
      const identity = identityOf(result);
      return handler(request, identity === undefined ? client : { ...client, identity });
    };
  }

  /**
   * Authenticates a TCP client: none, its certificate (mTLS), or a first line
   * `{"token":"…"}` within 5 s (bearer). A refused client is told with one error line (or,
   * blocked after too many failures, nothing) and undefined is returned: close it.
   */
  async tcp(connection: Connection): Promise<TcpAdmission | undefined> {
    const { authenticator, access } = this.#options;
    if (authenticator.type === "none") return {};
    const address = access.admitRequest(connection.peer.address, null);
    if (!address.admitted) return undefined;
    const blocked = access.checkAuth(address.address);
    if (!blocked.allowed) {
      this.#count("rate_limited");
      this.#audit({ event: "rate_limited", remoteAddr: address.client, reason: "auth_failures" });
      return undefined;
    }
    let hello: Record<string, unknown> | undefined;
    if (authenticator.type === "bearer") {
      hello = await readHello(connection);
    }
    const result = await authenticator.verify({
      ...(hello && typeof hello.token === "string" && { helloToken: hello.token }),
      peerCertificate: authCertificate(connection.peer) ?? null,
    });
    if (!result.ok) {
      access.recordAuthFailure(address.address);
      this.#countAuthFailure(result.reason);
      this.#audit({ event: "auth_failure", remoteAddr: address.client, reason: result.reason });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        writeAll(connection, encoder.encode(TCP_UNAUTHORIZED_LINE)).catch(() => {}),
        new Promise((resolve) => timer = setTimeout(resolve, 1000)),
      ]);
      clearTimeout(timer);
      return undefined;
    }
    const identity = identityOf(result);
    return { ...(identity !== undefined && { identity }), ...(hello && { hello }) };
  }

  #countAuthFailure(reason: string): void {
    this.#count("auth_failure");
    this.#authFailures.set(reason, (this.#authFailures.get(reason) ?? 0) + 1);
  }

  #count(reason: RefusalReason): void {
    this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
  }

  #audit(event: AuditEvent): void {
    const { audit, stream, transport } = this.#options;
    audit?.record({ ...(stream !== undefined && { stream }), transport, ...event });
  }
}

/** Health probes answer without credentials. */
function notProbe(path: string): boolean {
  return path !== "/healthz" && path !== "/readyz";
}

function identityOf(result: AuthResult & { ok: true }): string | undefined {
  return "identity" in result ? result.identity : undefined;
}

/** The verified client certificate as the authenticator reads it. */
function authCertificate(peer: Peer): AuthCertificate | undefined {
  if (!peer.certificate) return undefined;
  const { commonName } = peer.certificate;
  return { authorized: true, ...(commonName !== undefined && { commonName }) };
}

function refusal(
  status: number,
  error: string,
  cors: Readonly<Record<string, string>>,
  extra: Readonly<Record<string, string>> = {},
): Response {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: { ...cors, ...extra, "Content-Type": "application/json", "Cache-Control": "no-store" },
  });
}

/**
 * The first line of a TCP client, as a JSON object; undefined when it sends none within
 * the hello timeout, closes, or sends something else.
 */
async function readHello(connection: Connection): Promise<Record<string, unknown> | undefined> {
  const buffer = new Uint8Array(MAX_HELLO_BYTES);
  let length = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"timeout">((resolve) =>
    timer = setTimeout(() => resolve("timeout"), TCP_HELLO_TIMEOUT_MS)
  );
  try {
    while (length < buffer.length) {
      const count = await Promise.race([connection.read(buffer.subarray(length)), late]);
      if (count === "timeout" || count === null) return undefined;
      const newline = buffer.subarray(length, length + count).indexOf(10);
      length += count;
      if (newline < 0) continue;
      const line = new TextDecoder().decode(buffer.subarray(0, length - count + newline));
      const value: unknown = JSON.parse(line);
      return typeof value === "object" && value !== null && !Array.isArray(value)
        ? value as Record<string, unknown>
        : undefined;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
