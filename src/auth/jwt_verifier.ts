/**
 * JWT bearer tokens, verified with `jose` against a local key set (`jwt_jwks_file`) and/or an
 * HS256 secret (`jwt_secret_file`).
 *
 * The algorithm comes from the key, never from the token alone: HS256 tokens go to the secret
 * only, every other algorithm to the key set only, whose keys must be public (an HS256 token
 * can so never be checked against an RSA public key used as an HMAC secret), and `none` is
 * never accepted. `exp` and `nbf` are checked with 30 s of leeway; `iss` and `aud` when
 * configured. `exp` is not required.
 *
 * @module
 */
import { createPublicKey } from "node:crypto";
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyOptions,
} from "jose";
import { readSmallFile } from "./read_small_file.ts";

/** The keys of `[*.auth]` a JWT problem is about. */
export type JwtKey = "jwt_jwks_file" | "jwt_secret_file";

/** Where JWT keys come from, and the claims required. */
export interface JwtOptions {
  /** A JSON Web Key Set of public keys (RS*, PS*, ES*, EdDSA). */
  readonly jwksFile?: string;
  /** The HS256 secret: the whole file, less one trailing newline. */
  readonly secretFile?: string;
  /** `iss` must equal this when set (not empty). */
  readonly issuer?: string;
  /** `aud` must be or contain this when set (not empty). */
  readonly audience?: string;
}

/** Why a JWT was refused. */
export type JwtFailure =
  | "invalid"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience";

/** A verified token's subject (`sub`, or `jwt` when absent), or why it was refused. */
export type JwtResult =
  | {
    readonly ok: true;
    readonly subject: string;
    /** `exp` in milliseconds, when the token has one. */
    readonly expiresAt?: number;
  }
  | { readonly ok: false; readonly reason: JwtFailure };

/** Leeway on `exp` and `nbf`, in seconds, for clocks that disagree a little. */
export const JWT_LEEWAY_SECONDS = 30;

/** Algorithms verified against the key set: every asymmetric JWS algorithm. */
const ASYMMETRIC = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

/** RFC 7518: an HS256 key is at least as long as the hash. */
const MIN_SECRET_BYTES = 32;

/** Verifies JWTs against the configured keys. */
export class JwtVerifier {
  readonly #jwks: ReturnType<typeof createLocalJWKSet> | undefined;
  readonly #secret: Uint8Array | undefined;
  readonly #claims: JWTVerifyOptions;

  private constructor(
    jwks: JSONWebKeySet | undefined,
    secret: Uint8Array | undefined,
    options: JwtOptions,
  ) {
    this.#jwks = jwks && createLocalJWKSet(jwks);
    this.#secret = secret;
    this.#claims = {
      clockTolerance: JWT_LEEWAY_SECONDS,
      ...(options.issuer && { issuer: options.issuer }),
      ...(options.audience && { audience: options.audience }),
    };
  }

  /**
   * Reads the key files named in `options`. Returns the verifier, or the problems, each with
   * the key it is about; never a secret's content.
   */
  static async load(
    options: JwtOptions,
  ): Promise<
    | { readonly verifier: JwtVerifier }
    | { readonly problems: readonly { key: JwtKey; message: string }[] }
  > {
    const problems: { key: JwtKey; message: string }[] = [];
    let jwks: JSONWebKeySet | undefined;
    let secret: Uint8Array | undefined;
    if (options.jwksFile) {
      const file = await readSmallFile(options.jwksFile);
      if ("error" in file) problems.push({ key: "jwt_jwks_file", message: file.error });
      else {
        const read = readJwks(file.text, options.jwksFile);
        if ("error" in read) problems.push({ key: "jwt_jwks_file", message: read.error });
        else jwks = read.jwks;
      }
    }
    if (options.secretFile) {
      const file = await readSmallFile(options.secretFile);
      if ("error" in file) problems.push({ key: "jwt_secret_file", message: file.error });
      else {
        secret = new TextEncoder().encode(file.text.replace(/\r?\n$/, ""));
        if (secret.length < MIN_SECRET_BYTES) {
          problems.push({
            key: "jwt_secret_file",
            message: `${JSON.stringify(options.secretFile)} holds ${secret.length} bytes: ` +
              `an HS256 secret needs at least ${MIN_SECRET_BYTES} ` +
              "(e.g. openssl rand -base64 48)",
          });
        }
      }
    }
    if (!options.jwksFile && !options.secretFile) {
      problems.push({ key: "jwt_jwks_file", message: "No key set or secret file is configured" });
    }
    if (problems.length > 0) return { problems };
    return { verifier: new JwtVerifier(jwks, secret, options) };
  }

  /** Whether `token` has the shape of a JWS compact serialisation (three base64url parts). */
  static looksLikeJwt(token: string): boolean {
    return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
  }

  /** Verifies `token` at `now` (default: the current time). */
  async verify(token: string, now?: Date): Promise<JwtResult> {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return { ok: false, reason: "invalid" };
    }
    const claims = now ? { ...this.#claims, currentDate: now } : this.#claims;
    let payload: JWTPayload;
    try {
      if (alg === "HS256" && this.#secret) {
        ({ payload } = await jwtVerify(token, this.#secret, { ...claims, algorithms: ["HS256"] }));
      } else if (alg !== "HS256" && this.#jwks) {
        ({ payload } = await jwtVerify(token, this.#jwks, { ...claims, algorithms: ASYMMETRIC }));
      } else {
        return { ok: false, reason: "invalid" };
      }
    } catch (error) {
      return { ok: false, reason: failure(error) };
    }
    const subject = typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : "jwt";
    return {
      ok: true,
      subject,
      ...(typeof payload.exp === "number" && { expiresAt: payload.exp * 1000 }),
    };
  }
}

function failure(error: unknown): JwtFailure {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return "not_yet_valid";
    if (error.claim === "iss") return "wrong_issuer";
    if (error.claim === "aud") return "wrong_audience";
  }
  return "invalid";
}

/** Checks the key set's JSON: public signature keys only, each one importable. */
function readJwks(text: string, file: string): { jwks: JSONWebKeySet } | { error: string } {
  const where = JSON.stringify(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { error: `${where} is not JSON: ${error instanceof Error ? error.message : error}` };
  }
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (typeof json !== "object" || json === null || !Array.isArray(keys)) {
    return { error: `${where} is not a JSON Web Key Set: it needs a "keys" array` };
  }
  if (keys.length === 0) return { error: `${where} holds no keys` };
  for (const [i, key] of keys.entries()) {
    const at = `${where} key ${i + 1}${
      typeof key?.kid === "string" ? ` (kid ${JSON.stringify(key.kid)})` : ""
    }`;
    if (typeof key !== "object" || key === null) return { error: `${at} is not an object` };
    if (key.kty === "oct") {
      return { error: `${at} is a symmetric key: put an HS256 secret in jwt_secret_file` };
    }
    if ("d" in key || "p" in key || "priv" in key) {
      return { error: `${at} holds private key material: publish only the public key` };
    }
    if (key.use !== undefined && key.use !== "sig") {
      return { error: `${at} is not for signatures (use ${JSON.stringify(key.use)})` };
    }
    if (key.alg !== undefined && !ASYMMETRIC.includes(key.alg)) {
      return { error: `${at} has alg ${JSON.stringify(key.alg)}, which is not accepted` };
    }
    try {
      createPublicKey({ key, format: "jwk" });
    } catch (error) {
      return {
        error: `${at} is not a valid public key: ${error instanceof Error ? error.message : error}`,
      };
    }
  }
  return { jwks: json as JSONWebKeySet };
}
