/**
 * Reads and checks every file the security tables name (certificates, keys, client CAs,
 * htpasswd, tokens, JWT keys) once, before anything listens and for `--check`: each problem
 * is a configuration error naming its key path, each doubt (a certificate close to expiry,
 * credentials over plain text) a warning.
 *
 * @module
 */
import { AccessControl } from "../access/access_control.ts";
import { AuthConfigError, type Authenticator, createAuthenticator } from "../auth/authenticator.ts";
import type { ConfigIssue } from "../config/config_error.ts";
import type { Config, ListenerConfig } from "../config/types.ts";
import { loadTls, type TlsMaterial } from "../tls/certificates.ts";

/** The checked security material of one listener. */
export interface ListenerSecurity {
  /** Absent: plain text. */
  readonly tls?: TlsMaterial;
  /** Checks credentials. */
  readonly authenticator: Authenticator;
  /** Access lists and rate limits. */
  readonly access: AccessControl;
}

/** Every listener's security, looked up by its configuration. */
export interface Security {
  /** The listener's material; a listener that was not loaded gets none and no checks. */
  of(listener: ListenerConfig): ListenerSecurity;
}

/** What `loadSecurity()` found. */
export interface SecurityLoad {
  /** Each server's loaded settings. */
  readonly security: Security;
  /** Configuration errors: LogWisp must not start. */
  readonly problems: readonly ConfigIssue[];
  /** Startup warnings, each naming its key path. */
  readonly warnings: readonly string[];
}

/**
 * Loads the security material of every listener LogWisp will bind: in router mode the
 * router's TLS and each stream's HTTP auth and access; otherwise each stream's servers.
 */
export async function loadSecurity(
  config: Config,
  options: { readonly router: boolean; readonly now?: Date },
): Promise<SecurityLoad> {
  const file = config.source.kind === "file" ? config.source.path : undefined;
  const problems: ConfigIssue[] = [];
  const warnings: string[] = [];
  const loaded = new Map<ListenerConfig, ListenerSecurity>();
  const report = (key: string, message: string) =>
    problems.push({ ...(file !== undefined && { file }), key, message });

  const load = async (listener: ListenerConfig, key: string, withTls: boolean) => {
    let tls: TlsMaterial | undefined;
    if (withTls && listener.tls) {
      const result = await loadTls(listener.tls, options.now ? { now: options.now } : {});
      for (const issue of result.problems) report(`${key}.tls.${issue.key}`, issue.message);
      for (const issue of result.warnings) {
        warnings.push(`${key}.tls.${issue.key}: ${issue.message}`);
      }
      tls = result.material;
    }
    let authenticator: Authenticator | undefined;
    try {
      authenticator = await createAuthenticator(listener.auth);
    } catch (error) {
      if (!(error instanceof AuthConfigError)) throw error;
      for (const issue of error.issues) report(`${key}.auth.${issue.key}`, issue.message);
    }
    const plain = !(withTls ? listener.tls : undefined);
    if (plain && (listener.auth.type === "basic" || listener.auth.type === "bearer")) {
      if (!isLoopback(listener.host)) {
        warnings.push(
          `${key}.auth: ${listener.auth.type} credentials cross the network in plain text: ` +
            "enable tls, or bind to 127.0.0.1 behind a TLS proxy",
        );
      }
    }
    if (authenticator) {
      // The access tables were checked with the configuration; this cannot throw.
      const access = new AccessControl(listener.access);
      loaded.set(listener, { ...(tls && { tls }), authenticator, access });
    }
  };

  for (const [index, stream] of config.streams.entries()) {
    if (stream.http) await load(stream.http, `streams[${index}].httpserver`, !options.router);
    if (stream.tcp) await load(stream.tcp, `streams[${index}].tcpserver`, true);
  }
  if (options.router && config.router) await load(config.router, "router", true);
  const { audit } = config;
  if (audit.enabled && audit.file !== "") {
    const write = Deno.permissions.querySync({ name: "write", path: audit.file });
    if (write.state !== "granted") {
      warnings.push(
        `audit.file: no write permission for ${JSON.stringify(audit.file)}: ` +
          `run with --allow-write=${audit.file}`,
      );
    }
  }

  const open = { authenticator: await createAuthenticator({ type: "none" }) };
  return {
    problems,
    warnings,
    security: {
      of: (listener) =>
        loaded.get(listener) ?? { ...open, access: new AccessControl(listener.access) },
    },
  };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
