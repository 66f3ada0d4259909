/**
 * Who may use a server (`[*.auth]`): one `verify()` for HTTP requests (Authorization header,
 * `?access_token=`), TCP hello lines and client certificates.
 *
 * Answers never carry a secret: a failure is a fixed reason, the challenge and the status.
 * An unknown user and a wrong password get the same answer after the same bcrypt run.
 *
 * @module
 */
import type {
  AuthConfig,
  BasicAuthConfig,
  BearerAuthConfig,
  MtlsAuthConfig,
} from "../config/types.ts";
import { basicChallenge, bearerChallenge } from "./challenge.ts";
import { type Htpasswd, parseHtpasswd, verifyPassword } from "./htpasswd.ts";
import { JWT_LEEWAY_SECONDS, JwtVerifier } from "./jwt_verifier.ts";
import { type PeerCertificate, SubjectMatcher } from "./mtls.ts";
import { readSmallFile } from "./read_small_file.ts";
import { findToken, parseTokensFile, type TokenDigest } from "./tokens_file.ts";
import { VerificationCache, type VerificationCacheOptions } from "./verification_cache.ts";

/** A problem of an `[*.auth]` key, such as `users_file` or `allowed_subjects[1]`. */
export interface AuthIssue {
  /** The key under `[*.auth]`. */
  readonly key: string;
  /** What is wrong, naming the file and line; never a secret. */
  readonly message: string;
}

/** The credential files of `[*.auth]` could not be used; every problem is listed. */
export class AuthConfigError extends Error {
  /** Every problem found, in key order. */
  readonly issues: readonly AuthIssue[];

  /** An error listing `issues`, one per line of its message. */
  constructor(issues: readonly AuthIssue[]) {
    super(issues.map((issue) => `${issue.key}: ${issue.message}`).join("\n"));
    this.name = "AuthConfigError";
    this.issues = issues;
  }
}

/** What a client presented; each server fills in what its transport has. */
export interface Credentials {
  /** The `Authorization` header. */
  readonly authorization?: string | null;
  /** `?access_token=`, honoured only with `allow_query_token`. */
  readonly queryToken?: string | null;
  /** `token` of a TCP client's hello line. */
  readonly helloToken?: string | null;
  /** The TLS client certificate (see `peerCertificateOf`). */
  readonly peerCertificate?: PeerCertificate | null;
}

/** How an identity was established: htpasswd user, static token, JWT or certificate. */
export type IdentityKind = "user" | "token" | "jwt" | "certificate";

/**
 * Why credentials were refused:
 * - `missing`: none were presented (or not of this server's kind);
 * - `wrong_scheme`: an `Authorization` header of another scheme;
 * - `malformed`: not decodable (bad base64, no `:`, too long, bad token characters);
 * - `invalid`: wrong user or password, unknown token, bad JWT signature or algorithm;
 * - `expired`, `not_yet_valid`, `wrong_issuer`, `wrong_audience`: JWT claims;
 * - `no_certificate`: no client certificate the CA signed;
 * - `forbidden_subject`: a certificate whose CN `allowed_subjects` does not allow.
 */
export type AuthFailureReason =
  | "missing"
  | "wrong_scheme"
  | "malformed"
  | "invalid"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience"
  | "no_certificate"
  | "forbidden_subject";

/** Credentials accepted. */
export type AuthSuccess =
  | { readonly ok: true; readonly kind: "anonymous" }
  | {
    readonly ok: true;
    readonly kind: IdentityKind;
    /** User name, token name, JWT `sub` (or `jwt`) or certificate CN. */
    readonly identity: string;
    /** Answered from the cache of recent successes. */
    readonly cached: boolean;
  };

/** Credentials refused: answer `status`, with `WWW-Authenticate: challenge` when present. */
export interface AuthFailure {
  /** Refused. */
  readonly ok: false;
  /** For the audit log and the JSON body; never contains the credential. */
  readonly reason: AuthFailureReason;
  /** 401, or 403 for certificates (there is no scheme to challenge with). */
  readonly status: 401 | 403;
  /** The `WWW-Authenticate` value; absent for certificates. */
  readonly challenge?: string;
}

/** The outcome of `Authenticator.verify()`. */
export type AuthResult = AuthSuccess | AuthFailure;

/** Checks credentials for one server. */
export interface Authenticator {
  /** The configured `auth.type`. */
  readonly type: "none" | "basic" | "bearer" | "mtls";
  /** Verifies what the client presented. Never throws. */
  verify(credentials: Credentials): Promise<AuthResult>;
  /** Verifications run (not answered from the cache), and cache use. */
  readonly stats: {
    readonly verifications: number;
    readonly cacheHits: number;
    readonly cacheEntries: number;
  };
}

/** Options of `createAuthenticator()`. */
export interface AuthenticatorOptions {
  /** The cache of successes (default: 60 s, 1024 entries); `ttlMs: 0` disables it. */
  readonly cache?: VerificationCacheOptions;
  /** The clock, in milliseconds, for JWT claims and the cache. */
  readonly now?: () => number;
}

/** Longest credential looked at; anything longer is malformed. */
const MAX_CREDENTIAL = 8192;

/**
 * Loads the files `config` names and returns its authenticator. Throws `AuthConfigError`
 * with every problem, each naming its key.
 */
export async function createAuthenticator(
  config: AuthConfig,
  options: AuthenticatorOptions = {},
): Promise<Authenticator> {
  const now = options.now ?? Date.now;
  const cache = new VerificationCache<{ kind: IdentityKind; identity: string }>({
    ...options.cache,
    now: options.cache?.now ?? now,
  });
  switch (config.type) {
    case "none":
      return new Anonymous();
    case "basic":
      return new BasicAuthenticator(config, await loadHtpasswd(config), cache);
    case "bearer":
      return new BearerAuthenticator(config, await loadBearer(config), cache, now);
    case "mtls":
      return new MtlsAuthenticator(loadSubjects(config));
  }
}

async function loadHtpasswd(config: BasicAuthConfig): Promise<Htpasswd> {
  const file = await readSmallFile(config.usersFile);
  if ("error" in file) throw new AuthConfigError([{ key: "users_file", message: file.error }]);
  const { htpasswd, problems } = parseHtpasswd(file.text, config.usersFile);
  if (problems.length > 0) {
    throw new AuthConfigError(problems.map((message) => ({ key: "users_file", message })));
  }
  return htpasswd;
}

async function loadBearer(
  config: BearerAuthConfig,
): Promise<{ tokens: readonly TokenDigest[]; jwt: JwtVerifier | undefined }> {
  const issues: AuthIssue[] = [];
  let tokens: readonly TokenDigest[] = [];
  let jwt: JwtVerifier | undefined;
  if (!config.tokensFile && !config.jwtJwksFile && !config.jwtSecretFile) {
    issues.push({
      key: "tokens_file",
      message: "Bearer authentication needs tokens_file, jwt_jwks_file or jwt_secret_file",
    });
  }
  if (config.tokensFile) {
    const file = await readSmallFile(config.tokensFile);
    if ("error" in file) issues.push({ key: "tokens_file", message: file.error });
    else {
      const parsed = parseTokensFile(file.text, config.tokensFile);
      tokens = parsed.tokens;
      issues.push(...parsed.problems.map((message) => ({ key: "tokens_file", message })));
    }
  }
  if (config.jwtJwksFile || config.jwtSecretFile) {
    const loaded = await JwtVerifier.load({
      ...(config.jwtJwksFile && { jwksFile: config.jwtJwksFile }),
      ...(config.jwtSecretFile && { secretFile: config.jwtSecretFile }),
      ...(config.jwtIssuer && { issuer: config.jwtIssuer }),
      ...(config.jwtAudience && { audience: config.jwtAudience }),
    });
    if ("problems" in loaded) issues.push(...loaded.problems);
    else jwt = loaded.verifier;
  }
  if (issues.length > 0) throw new AuthConfigError(issues);
  return { tokens, jwt };
}

function loadSubjects(config: MtlsAuthConfig): SubjectMatcher {
  const compiled = SubjectMatcher.compile(config.allowedSubjects);
  if ("problems" in compiled) {
    throw new AuthConfigError(
      compiled.problems.map(({ index, message }) => ({
        key: `allowed_subjects[${index}]`,
        message,
      })),
    );
  }
  return compiled.matcher;
}

/**
 * What an Authorization header holds for `scheme` (lower case): nothing, a credential of
 * another scheme, or the credential (trimmed; "" when absent). Linear in the header's length.
 */
function fromHeader(
  header: string | null | undefined,
  scheme: string,
): { readonly credential: string } | "other_scheme" | undefined {
  const text = header?.trim();
  if (!text) return undefined;
  const space = text.search(/\s/);
  const name = space < 0 ? text : text.slice(0, space);
  if (name.toLowerCase() !== scheme) return "other_scheme";
  return { credential: space < 0 ? "" : text.slice(space + 1).trim() };
}

class Anonymous implements Authenticator {
  readonly type = "none";
  readonly stats = { verifications: 0, cacheHits: 0, cacheEntries: 0 };

  verify(): Promise<AuthResult> {
    return Promise.resolve({ ok: true, kind: "anonymous" });
  }
}

/** The counters every credential-checking authenticator shares. */
abstract class Counting {
  protected verifications = 0;
  protected readonly cache: VerificationCache<{ kind: IdentityKind; identity: string }>;

  constructor(cache: VerificationCache<{ kind: IdentityKind; identity: string }>) {
    this.cache = cache;
  }

  get stats(): Authenticator["stats"] {
    const { entries, hits } = this.cache.stats;
    return { verifications: this.verifications, cacheHits: hits, cacheEntries: entries };
  }
}

class BasicAuthenticator extends Counting implements Authenticator {
  readonly type = "basic";
  readonly #htpasswd: Htpasswd;
  readonly #challenge: string;

  constructor(
    config: BasicAuthConfig,
    htpasswd: Htpasswd,
    cache: VerificationCache<{ kind: IdentityKind; identity: string }>,
  ) {
    super(cache);
    this.#htpasswd = htpasswd;
    this.#challenge = basicChallenge(config.realm);
  }

  async verify(credentials: Credentials): Promise<AuthResult> {
    const header = fromHeader(credentials.authorization, "basic");
    if (header === undefined) return this.#fail("missing");
    if (header === "other_scheme") return this.#fail("wrong_scheme");
    const token = header.credential;
    const pair = decodeBasic(token);
    if (pair === undefined) return this.#fail("malformed");
    const key = this.cache.key("basic", token);
    const hit = this.cache.get(key);
    if (hit) return { ok: true, ...hit, cached: true };
    this.verifications++;
    if (!(await verifyPassword(this.#htpasswd, pair.user, pair.password))) {
      return this.#fail("invalid");
    }
    const identity = { kind: "user", identity: pair.user } as const;
    this.cache.set(key, identity);
    return { ok: true, ...identity, cached: false };
  }

  #fail(reason: AuthFailureReason): AuthFailure {
    return { ok: false, reason, status: 401, challenge: this.#challenge };
  }
}

/** `user:password` from base64 of UTF-8 (RFC 7617); undefined when it is not that. */
function decodeBasic(token: string): { user: string; password: string } | undefined {
  if (token.length > MAX_CREDENTIAL || token.length % 4 !== 0) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(token)) return undefined;
  let text: string;
  try {
    const binary = atob(token);
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  const colon = text.indexOf(":");
  if (colon <= 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** RFC 6750 b64token. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

class BearerAuthenticator extends Counting implements Authenticator {
  readonly type = "bearer";
  readonly #tokens: readonly TokenDigest[];
  readonly #jwt: JwtVerifier | undefined;
  readonly #allowQueryToken: boolean;
  readonly #realm: string;
  readonly #now: () => number;

  constructor(
    config: BearerAuthConfig,
    loaded: { tokens: readonly TokenDigest[]; jwt: JwtVerifier | undefined },
    cache: VerificationCache<{ kind: IdentityKind; identity: string }>,
    now: () => number,
  ) {
    super(cache);
    this.#tokens = loaded.tokens;
    this.#jwt = loaded.jwt;
    this.#allowQueryToken = config.allowQueryToken;
    this.#realm = config.realm;
    this.#now = now;
  }

  async verify(credentials: Credentials): Promise<AuthResult> {
    const header = fromHeader(credentials.authorization, "bearer");
    if (header === "other_scheme") return this.#fail("wrong_scheme");
    const token = header?.credential ??
      (this.#allowQueryToken && credentials.queryToken ? credentials.queryToken : undefined) ??
      (credentials.helloToken || undefined);
    if (token === undefined) return this.#fail("missing");
    if (token.length > MAX_CREDENTIAL || !BEARER_TOKEN.test(token)) {
      return this.#fail("malformed");
    }
    const name = findToken(this.#tokens, token);
    if (name !== undefined) return { ok: true, kind: "token", identity: name, cached: false };
    if (!this.#jwt || !JwtVerifier.looksLikeJwt(token)) return this.#fail("invalid");
    const key = this.cache.key("jwt", token);
    const hit = this.cache.get(key);
    if (hit) return { ok: true, ...hit, cached: true };
    this.verifications++;
    const result = await this.#jwt.verify(token, new Date(this.#now()));
    if (!result.ok) return this.#fail(result.reason);
    const identity = { kind: "jwt", identity: result.subject } as const;
    this.cache.set(key, identity, (result.expiresAt ?? Infinity) + JWT_LEEWAY_SECONDS * 1000);
    return { ok: true, ...identity, cached: false };
  }

  #fail(reason: AuthFailureReason): AuthFailure {
    return {
      ok: false,
      reason,
      status: 401,
      challenge: bearerChallenge(this.#realm, reason !== "missing" && reason !== "wrong_scheme"),
    };
  }
}

class MtlsAuthenticator implements Authenticator {
  readonly type = "mtls";
  readonly #subjects: SubjectMatcher;
  #verifications = 0;

  constructor(subjects: SubjectMatcher) {
    this.#subjects = subjects;
  }

  get stats(): Authenticator["stats"] {
    return { verifications: this.#verifications, cacheHits: 0, cacheEntries: 0 };
  }

  verify(credentials: Credentials): Promise<AuthResult> {
    this.#verifications++;
    const certificate = credentials.peerCertificate;
    if (!certificate?.authorized) return Promise.resolve(this.#fail("no_certificate"));
    const cn = certificate.commonName;
    // A subject with several CNs has no single identity.
    const name = typeof cn === "string" ? cn : cn?.length === 1 ? cn[0] : undefined;
    if (name === undefined || !this.#subjects.allows(name)) {
      return Promise.resolve(this.#fail("forbidden_subject"));
    }
    return Promise.resolve({ ok: true, kind: "certificate", identity: name, cached: false });
  }

  #fail(reason: AuthFailureReason): AuthFailure {
    return { ok: false, reason, status: 403 };
  }
}
