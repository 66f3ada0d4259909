/**
 * The security tables of a listener (`[*.tls]`, `[*.auth]`, `[*.access]`) and the top-level
 * `[audit]` table (README "Security"). Only the shape is checked here; the files they name
 * (certificates, htpasswd, tokens, JWT keys) are read and checked when the configuration is
 * loaded, by `loadSecurity()`.
 *
 * @module
 */
import { accessConfigProblems } from "../access/access_control.ts";
import { type Bounds, Checker, describe, type Table } from "./checker.ts";
import { quote } from "./config_error.ts";
import type { AccessConfig, AuditConfig, AuthConfig, TlsConfig } from "./types.ts";

/** Keys a listener table takes besides its own: the three security tables. */
export const SECURITY_KEYS = ["tls", "auth", "access"];

/** Which listener the tables belong to: TCP takes no Basic auth, no CORS and no proxies. */
export type ListenerKind = "tcp" | "http" | "router";

/** The security settings of one listener. */
export interface ListenerSecurityConfig {
  /** `tls`: absent for plain text. */
  readonly tls?: TlsConfig;
  /** `auth`: who may read. */
  readonly auth: AuthConfig;
  /** `access`: from where, how often, and for which browser origins. */
  readonly access: AccessConfig;
}

const TLS_KEYS = ["enabled", "cert_file", "key_file", "client_ca_file", "min_version"];
const AUTH_KEYS = [
  "type",
  "realm",
  "users_file",
  "tokens_file",
  "jwt_jwks_file",
  "jwt_secret_file",
  "jwt_issuer",
  "jwt_audience",
  "allowed_subjects",
  "allow_query_token",
];
/** Which `type` each type-specific key belongs to. */
const AUTH_KEY_TYPE: Readonly<Record<string, "basic" | "bearer" | "mtls">> = {
  users_file: "basic",
  tokens_file: "bearer",
  jwt_jwks_file: "bearer",
  jwt_secret_file: "bearer",
  jwt_issuer: "bearer",
  jwt_audience: "bearer",
  allow_query_token: "bearer",
  allowed_subjects: "mtls",
};
const ACCESS_KEYS = [
  "allow",
  "deny",
  "trusted_proxies",
  "connections_per_minute_per_ip",
  "auth_failures_per_minute_per_ip",
  "cors_origins",
];
const AUDIT_KEYS = ["enabled", "file"];
const PER_MINUTE: Bounds = { min: 0, max: 1_000_000 };

/** Default `realm` of Basic and Bearer challenges. */
export const DEFAULT_REALM = "LogWisp";
/** Default `auth_failures_per_minute_per_ip`. */
export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 10;

/** Reads `table.tls`, `table.auth` and `table.access` of the listener at `key`. */
export function readListenerSecurity(
  check: Checker,
  table: Table,
  key: string,
  kind: ListenerKind,
): ListenerSecurityConfig {
  const tls = readTls(check, table.tls, `${key}.tls`);
  const auth = readAuth(check, table.auth, `${key}.auth`, kind, tls);
  const access = readAccess(check, table.access, `${key}.access`, kind, auth);
  return { ...(tls && { tls }), auth, access };
}

/** `[audit]`: off unless `enabled = true`; `file = ""` writes to stderr. */
export function readAudit(check: Checker, value: unknown): AuditConfig {
  const table = check.table(value, "audit", AUDIT_KEYS) ?? {};
  return {
    enabled: check.boolean(table, "audit", "enabled", false),
    file: check.string(table, "audit", "file") ?? "",
  };
}

function readTls(check: Checker, value: unknown, key: string): TlsConfig | undefined {
  const table = check.table(value, key, TLS_KEYS);
  if (!table || value === undefined) return undefined;
  const enabled = check.boolean(table, key, "enabled", false);
  if (table.enabled === undefined && table.cert_file !== undefined) {
    // Plain text where TLS was meant would go unnoticed.
    check.report(`${key}.enabled`, "required with cert_file: true for TLS, false for plain text");
  }
  const file = (name: string) => {
    const path = check.string(table, key, name, enabled ? { required: "a PEM file" } : {});
    if (path === "" && enabled) check.report(`${key}.${name}`, "must not be empty");
    return path || undefined;
  };
  const certFile = file("cert_file");
  const keyFile = file("key_file");
  const clientCaFile = check.string(table, key, "client_ca_file") || undefined;
  const minVersion = check.choice(table, key, "min_version", ["1.2", "1.3"] as const, "1.2");
  if (!enabled || certFile === undefined || keyFile === undefined) return undefined;
  return { certFile, keyFile, ...(clientCaFile && { clientCaFile }), minVersion };
}

function readAuth(
  check: Checker,
  value: unknown,
  key: string,
  kind: ListenerKind,
  tls: TlsConfig | undefined,
): AuthConfig {
  const table = check.table(value, key, AUTH_KEYS) ?? {};
  const types = kind === "tcp"
    ? (["none", "bearer", "mtls"] as const)
    : (["none", "basic", "bearer", "mtls"] as const);
  const type = check.choice<AuthConfig["type"]>(table, key, "type", types, "none", {
    ...(kind === "tcp" && {
      hint: 'TCP has no Basic auth: a client sends a first line {"token":"…"} with "bearer"',
    }),
  });
  for (const name of Object.keys(table)) {
    const owner = AUTH_KEY_TYPE[name];
    if (owner !== undefined && owner !== type) {
      check.report(`${key}.${name}`, `only used with type = ${quote(owner)}`);
    }
  }
  if (kind === "tcp" && table.allow_query_token !== undefined) {
    check.report(`${key}.allow_query_token`, "only HTTP requests have a query");
  }
  const realm = check.string(table, key, "realm") ?? DEFAULT_REALM;
  const path = (name: string, required?: string) => {
    const text = check.string(table, key, name, required ? { required } : {});
    if (text === "" && required) check.report(`${key}.${name}`, "must not be empty");
    return text || undefined;
  };
  switch (type) {
    case "none":
      return { type };
    case "basic": {
      const usersFile = path("users_file", "an htpasswd file with bcrypt hashes (htpasswd -B)");
      return { type, realm, usersFile: usersFile ?? "" };
    }
    case "bearer": {
      const tokensFile = path("tokens_file");
      const jwtJwksFile = path("jwt_jwks_file");
      const jwtSecretFile = path("jwt_secret_file");
      if (!tokensFile && !jwtJwksFile && !jwtSecretFile) {
        check.report(key, "bearer needs tokens_file, jwt_jwks_file or jwt_secret_file");
      }
      const jwtIssuer = path("jwt_issuer");
      const jwtAudience = path("jwt_audience");
      return {
        type,
        realm,
        ...(tokensFile && { tokensFile }),
        ...(jwtJwksFile && { jwtJwksFile }),
        ...(jwtSecretFile && { jwtSecretFile }),
        ...(jwtIssuer && { jwtIssuer }),
        ...(jwtAudience && { jwtAudience }),
        allowQueryToken: kind !== "tcp" &&
          check.boolean(table, key, "allow_query_token", false),
      };
    }
    case "mtls": {
      if (!tls?.clientCaFile) {
        check.report(
          `${key}.type`,
          '"mtls" needs client certificates: set tls.enabled = true and tls.client_ca_file',
        );
      }
      return {
        type,
        realm,
        allowedSubjects: stringList(check, table, key, "allowed_subjects"),
      };
    }
  }
}

function readAccess(
  check: Checker,
  value: unknown,
  key: string,
  kind: ListenerKind,
  auth: AuthConfig,
): AccessConfig {
  const table = check.table(value, key, ACCESS_KEYS) ?? {};
  if (kind === "tcp") {
    for (const name of ["trusted_proxies", "cors_origins"]) {
      if (table[name] !== undefined) {
        check.report(`${key}.${name}`, "only HTTP servers have it");
      }
    }
  }
  const allow = stringList(check, table, key, "allow");
  const deny = stringList(check, table, key, "deny");
  const trustedProxies = stringList(check, table, key, "trusted_proxies");
  for (const issue of accessConfigProblems({ allow, deny, trustedProxies })) {
    check.report(`${key}.${issue.key}`, issue.message);
  }
  const withAuth = auth.type !== "none";
  const corsOrigins = table.cors_origins === undefined
    ? (withAuth ? [] : ["*"])
    : stringList(check, table, key, "cors_origins");
  if (withAuth && corsOrigins.includes("*")) {
    check.report(
      `${key}.cors_origins`,
      '"*" cannot go with auth (browsers refuse credentials for any origin): list the origins',
    );
  }
  return {
    allow,
    deny,
    trustedProxies,
    connectionsPerMinutePerIp: check.integer(
      table,
      key,
      "connections_per_minute_per_ip",
      PER_MINUTE,
      0,
    ),
    authFailuresPerMinutePerIp: check.integer(
      table,
      key,
      "auth_failures_per_minute_per_ip",
      PER_MINUTE,
      DEFAULT_AUTH_FAILURES_PER_MINUTE,
    ),
    corsOrigins,
  };
}

/** An array of strings at `name`; absent: empty. */
function stringList(check: Checker, table: Table, key: string, name: string): string[] {
  const value = table[name];
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    check.report(`${key}.${name}`, `expected an array of strings, got ${describe(value)}`);
    return [];
  }
  const strings: string[] = [];
  value.forEach((item, index) => {
    if (typeof item === "string") strings.push(item);
    else check.report(`${key}.${name}[${index}]`, `expected a string, got ${describe(item)}`);
  });
  return strings;
}
