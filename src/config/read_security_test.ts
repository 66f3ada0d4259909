import assert from "node:assert/strict";
import { configIssues, validateToml as validate } from "../_test_utils.ts";

/** Every issue as `key: message`. */
function issuesOf(toml: string): string[] {
  return configIssues(toml).map((i) => `${i.key}: ${i.message}`);
}

const STREAM = `
[[streams]]
name = "app"
[streams.monitor]
targets = [{ path = "/var/log/app.log", is_file = true }]
[streams.httpserver]
enabled = true
port = 8443
[streams.tcpserver]
enabled = true
port = 9443
`;

Deno.test("security tables: TLS, each auth type, access lists and the audit log are read", () => {
  const config = validate(`[audit]
enabled = true
file = "/var/log/logwisp/audit.log"
${STREAM}
[streams.httpserver.tls]
enabled = true
cert_file = "server.crt"
key_file = "server.key"
client_ca_file = "ca.crt"
min_version = "1.3"
[streams.httpserver.auth]
type = "mtls"
allowed_subjects = ["alice", "ops-*"]
[streams.httpserver.access]
allow = ["10.0.0.0/8", "2001:db8::/32"]
deny = ["10.0.0.66"]
trusted_proxies = ["127.0.0.1"]
connections_per_minute_per_ip = 120
cors_origins = ["https://ops.example.com"]
[streams.tcpserver.auth]
type = "bearer"
tokens_file = "tokens"
jwt_secret_file = "jwt.secret"
jwt_audience = "logwisp"
`);
  assert.deepEqual(config.audit, { enabled: true, file: "/var/log/logwisp/audit.log" });
  const http = config.streams[0]!.http!;
  assert.deepEqual(http.tls, {
    certFile: "server.crt",
    keyFile: "server.key",
    clientCaFile: "ca.crt",
    minVersion: "1.3",
  });
  assert.deepEqual(http.auth, {
    type: "mtls",
    realm: "LogWisp",
    allowedSubjects: ["alice", "ops-*"],
  });
  assert.deepEqual(http.access, {
    allow: ["10.0.0.0/8", "2001:db8::/32"],
    deny: ["10.0.0.66"],
    trustedProxies: ["127.0.0.1"],
    connectionsPerMinutePerIp: 120,
    authFailuresPerMinutePerIp: 10,
    corsOrigins: ["https://ops.example.com"],
  });
  const tcp = config.streams[0]!.tcp!;
  assert.equal(tcp.tls, undefined);
  assert.deepEqual(tcp.auth, {
    type: "bearer",
    realm: "LogWisp",
    tokensFile: "tokens",
    jwtSecretFile: "jwt.secret",
    jwtAudience: "logwisp",
    allowQueryToken: false,
  });
  assert.deepEqual(tcp.access.corsOrigins, [], "no CORS with auth");
});

Deno.test("security tables: defaults are no TLS, no auth, open access with CORS for any origin", () => {
  const config = validate(STREAM);
  const http = config.streams[0]!.http!;
  assert.equal(http.tls, undefined);
  assert.deepEqual(http.auth, { type: "none" });
  assert.deepEqual(http.access.corsOrigins, ["*"]);
  assert.deepEqual(config.audit, { enabled: false, file: "" });
  const off = validate(`${STREAM}[streams.httpserver.tls]\nenabled = false\ncert_file = "x"\n`);
  assert.equal(off.streams[0]!.http!.tls, undefined);
});

Deno.test("security tables: each mistake names its key path", () => {
  assert.deepEqual(
    issuesOf(`${STREAM}
[streams.httpserver.tls]
cert_file = "server.crt"
min_version = "1.1"
[streams.httpserver.auth]
type = "basic"
tokens_file = "tokens"
[streams.httpserver.access]
allow = ["10.0.0.0/33", 5]
cors_origins = ["*"]
connections_per_minute_per_ip = -1
[streams.tcpserver.auth]
type = "basic"
[streams.tcpserver.access]
trusted_proxies = ["127.0.0.1"]
[audit]
enabled = "yes"
colour = 1
`).map((issue) => issue.replace(/^\/etc\/logwisp\/test.toml: /, "")),
    [
      'streams[0].tcpserver.auth.type: expected "none" or "bearer" or "mtls" (TCP has no Basic ' +
      'auth: a client sends a first line {"token":"…"} with "bearer"), got "basic"',
      "streams[0].tcpserver.access.trusted_proxies: only HTTP servers have it",
      "streams[0].httpserver.tls.enabled: required with cert_file: true for TLS, false for " +
      "plain text",
      'streams[0].httpserver.tls.min_version: expected "1.2" or "1.3", got "1.1"',
      'streams[0].httpserver.auth.tokens_file: only used with type = "bearer"',
      "streams[0].httpserver.auth.users_file: required: an htpasswd file with bcrypt hashes " +
      "(htpasswd -B)",
      "streams[0].httpserver.access.allow[1]: expected a string, got 5",
      'streams[0].httpserver.access.allow[0]: "10.0.0.0/33" is not an IP address or CIDR: the ' +
      "prefix length must be a number from 0 to 32",
      'streams[0].httpserver.access.cors_origins: "*" cannot go with auth (browsers refuse ' +
      "credentials for any origin): list the origins",
      "streams[0].httpserver.access.connections_per_minute_per_ip: -1 is out of range: " +
      "expected 0 to 1000000",
      "audit.colour: unknown key",
      'audit.enabled: expected true or false, got "yes"',
    ],
  );
});

Deno.test("security tables: mtls needs client certificates, bearer needs a credential source", () => {
  assert.deepEqual(
    issuesOf(`${STREAM}
[streams.httpserver.auth]
type = "mtls"
[streams.tcpserver.auth]
type = "bearer"
`),
    [
      "streams[0].tcpserver.auth: bearer needs tokens_file, jwt_jwks_file or jwt_secret_file",
      'streams[0].httpserver.auth.type: "mtls" needs client certificates: set tls.enabled = ' +
      "true and tls.client_ca_file",
    ],
  );
});

Deno.test("security tables: the router takes them too", () => {
  const config = validate(
    `${STREAM}
[router]
port = 8080
[router.tls]
enabled = true
cert_file = "server.crt"
key_file = "server.key"
[router.auth]
type = "bearer"
tokens_file = "tokens"
allow_query_token = true
`,
    { router: true },
  );
  assert.equal(config.router?.tls?.certFile, "server.crt");
  assert.equal(config.router?.auth.type, "bearer");
});
