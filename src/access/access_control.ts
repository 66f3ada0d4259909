/**
 * A listener's network admission: the access lists, the trusted proxies and the rate limits
 * of `[*.access]`, behind two calls.
 *
 * - `admitConnection(peer)` when a connection is accepted, before a byte is read (TCP, and
 *   HTTP servers with a connection hook; a server without one calls it per request).
 * - `admitRequest(peer, forwardedFor)` per HTTP request: behind a trusted proxy the client is
 *   known only from `X-Forwarded-For`, so its lists and rate are checked here.
 * - `checkAuth` before verifying credentials and `recordAuthFailure` after a failure.
 *
 * @module
 */
import type { AccessConfig } from "../config/types.ts";
import { AuthFailureLimiter } from "./auth_failure_limiter.ts";
import { clientAddress } from "./client_address.ts";
import { formatIpAddress, type IpAddress, peerAddress } from "./ip_address.ts";
import { ipRuleProblem, IpSet, parseIpRule } from "./ip_set.ts";
import { type LimiterOptions, type RateDecision, RateLimiter } from "./rate_limiter.ts";

/** A problem of an `[*.access]` key; `key` is the list and index, e.g. `allow[2]`. */
export interface AccessIssue {
  /** The list and index, e.g. `allow[2]`. */
  readonly key: string;
  /** What is wrong with the entry, quoting it. */
  readonly message: string;
}

/** Bad entries in `[*.access]`, all of them. */
export class AccessConfigError extends Error {
  /** Every bad entry, in list order. */
  readonly issues: readonly AccessIssue[];

  /** An error listing `issues`, one per line of its message. */
  constructor(issues: readonly AccessIssue[]) {
    super(issues.map((issue) => `${issue.key}: ${issue.message}`).join("\n"));
    this.name = "AccessConfigError";
    this.issues = issues;
  }
}

/** Every bad entry of `allow`, `deny` and `trusted_proxies`, for configuration checks. */
export function accessConfigProblems(
  config: Pick<AccessConfig, "allow" | "deny" | "trustedProxies">,
): AccessIssue[] {
  const issues: AccessIssue[] = [];
  const lists = [
    ["allow", config.allow],
    ["deny", config.deny],
    ["trusted_proxies", config.trustedProxies],
  ] as const;
  for (const [name, entries] of lists) {
    for (const [i, entry] of entries.entries()) {
      const message = ipRuleProblem(entry);
      if (message !== undefined) issues.push({ key: `${name}[${i}]`, message });
    }
  }
  return issues;
}

/**
 * Whether a client may proceed: admitted (with its address), `denied` by the lists (403, or
 * close a TCP connection) or `rate_limited` (429 with `Retry-After`, or close). `client` is
 * the address as logs and the audit show it.
 */
export type Admission =
  | {
    readonly admitted: true;
    readonly address: IpAddress;
    /** Canonical text of the address, for logs and audit. */
    readonly client: string;
  }
  | { readonly admitted: false; readonly reason: "denied"; readonly client: string }
  | {
    readonly admitted: false;
    readonly reason: "rate_limited";
    readonly client: string;
    readonly retryAfterSeconds: number;
  };

/** Lists, trusted proxies and rate limits of one listener. */
export class AccessControl {
  readonly #allow: IpSet;
  readonly #deny: IpSet;
  readonly #proxies: IpSet;
  readonly #connections: RateLimiter;
  readonly #failures: AuthFailureLimiter;

  /** Throws `AccessConfigError` listing every bad entry. */
  constructor(config: AccessConfig, options: LimiterOptions = {}) {
    const issues = accessConfigProblems(config);
    if (issues.length > 0) throw new AccessConfigError(issues);
    this.#allow = new IpSet(config.allow.map(parseIpRule));
    this.#deny = new IpSet(config.deny.map(parseIpRule));
    this.#proxies = new IpSet(config.trustedProxies.map(parseIpRule));
    this.#connections = new RateLimiter(config.connectionsPerMinutePerIp, options);
    this.#failures = new AuthFailureLimiter(config.authFailuresPerMinutePerIp, options);
  }

  /** Tracked addresses per limiter, and those forgotten early (see `AddressTable`). */
  get stats(): {
    readonly connections: { readonly tracked: number; readonly evicted: number };
    readonly authFailures: { readonly tracked: number; readonly evicted: number };
  } {
    return { connections: this.#connections.stats, authFailures: this.#failures.stats };
  }

  /**
   * Whether a connection from `peer` (the address as the socket reports it) may proceed.
   * A trusted proxy passes unless denied: its clients are checked per request.
   */
  admitConnection(peer: string): Admission {
    const address = peerAddress(peer);
    if (address === undefined) return { admitted: false, reason: "denied", client: peer };
    if (this.#proxies.size > 0 && this.#proxies.has(address)) {
      const client = formatIpAddress(address);
      if (this.#deny.has(address)) return { admitted: false, reason: "denied", client };
      return { admitted: true, address, client };
    }
    return this.#admit(address, true);
  }

  /**
   * Whether an HTTP request from `peer` may proceed, and from which client. From a trusted
   * proxy, the client is taken from `forwardedFor` and checked against the lists and the
   * rate (each proxied request counts as a connection); from another peer, only the lists
   * are checked again, as its connection was counted by `admitConnection`.
   */
  admitRequest(peer: string, forwardedFor: string | null | undefined): Admission {
    const address = peerAddress(peer);
    if (address === undefined) return { admitted: false, reason: "denied", client: peer };
    if (this.#proxies.size === 0 || !this.#proxies.has(address)) return this.#admit(address, false);
    return this.#admit(clientAddress(address, forwardedFor, this.#proxies), true);
  }

  /** Whether `client` may try to authenticate, or is blocked after too many failures. */
  checkAuth(client: IpAddress): RateDecision {
    return this.#failures.check(client);
  }

  /** Counts a failed authentication by `client`; refused once it is blocked. */
  recordAuthFailure(client: IpAddress): RateDecision {
    return this.#failures.recordFailure(client);
  }

  #admit(address: IpAddress, count: boolean): Admission {
    const client = formatIpAddress(address);
    if (this.#deny.has(address) || (this.#allow.size > 0 && !this.#allow.has(address))) {
      return { admitted: false, reason: "denied", client };
    }
    if (count) {
      const decision = this.#connections.take(address);
      if (!decision.allowed) {
        return {
          admitted: false,
          reason: "rate_limited",
          client,
          retryAfterSeconds: decision.retryAfterSeconds,
        };
      }
    }
    return { admitted: true, address, client };
  }
}
