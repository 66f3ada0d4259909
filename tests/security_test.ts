/**
 * README "Security" end to end: the real CLI with TLS, Basic, Bearer/JWT and mTLS
 * authentication, access lists, rate limits and the audit log, driven by real clients
 * (curl, openssl s_client, socat) with certificates made by openssl and an htpasswd file
 * made by `htpasswd -B`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EventSource } from "eventsource";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import puppeteer from "puppeteer-core";
import { tempDir, waitFor, which } from "../src/_test_utils.ts";
import { makeCertificates, type TestCertificates } from "../src/tls/testdata/make_certs.ts";
import { runCli } from "./_cli.ts";
import { freePort, startLogWisp } from "./_logwisp.ts";

const PASSWORD = "correct-horse-battery";
const TOKEN = "tok_9f8e7d6c5b4a39281706";
const JWT_SECRET = "a-shared-secret-of-at-least-32-bytes!!";

for (const tool of ["curl", "openssl", "htpasswd", "socat"]) {
  if (!which(tool)) throw new Error(`${tool} is not installed: .ci/run installs it`);
}

/** What every test here shares: certificates, credentials files, a log file. */
interface Fixture {
  readonly dir: string;
  readonly certs: TestCertificates;
  readonly users: string;
  readonly tokens: string;
  readonly secret: string;
  readonly log: string;
  readonly audit: string;
}

async function fixture(dir: string): Promise<Fixture> {
  const certs = await makeCertificates(dir);
  const users = join(dir, "users.htpasswd");
  await run("htpasswd", ["-B", "-b", "-c", users, "admin", PASSWORD]);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(TOKEN)),
  );
  const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
  const tokens = join(dir, "tokens");
  await Deno.writeTextFile(tokens, `ci:${hex}\n`, { mode: 0o600 });
  const secret = join(dir, "jwt.secret");
  await Deno.writeTextFile(secret, JWT_SECRET, { mode: 0o600 });
  const log = join(dir, "app.log");
  await Deno.writeTextFile(log, "");
  return { dir, certs, users, tokens, secret, log, audit: join(dir, "audit.log") };
}

async function run(command: string, args: string[], stdin?: string): Promise<CommandResult> {
  const child = new Deno.Command(command, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** An HTTP answer as curl saw it: status, lower-case headers and body. */
interface CurlAnswer {
  readonly code: number;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** `curl -sS -i <args> <url>`: a complete (non-streaming) request. */
async function curl(url: string, ...args: string[]): Promise<CurlAnswer> {
  const result = await run("curl", ["-sS", "-i", "--max-time", "10", ...args, url]);
  const [head = "", ...rest] = result.stdout.split("\r\n\r\n");
  const lines = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    code: result.code,
    status: Number(lines[0]?.split(" ")[1] ?? 0),
    headers,
    body: rest.join("\r\n\r\n"),
  };
}

/** A TOML stream `app` following the fixture's log with the given server tables. */
function config(f: Fixture, servers: string, extra = ""): string {
  return `${extra}
[[streams]]
name = "app"
[streams.monitor]
check_interval_ms = 50
targets = [{ path = "${f.log}", is_file = true }]
${servers}`;
}

function tlsTable(f: Fixture, server: string, clientCa = false): string {
  return `[streams.${server}.tls]
enabled = true
cert_file = "${f.certs.server.cert}"
key_file = "${f.certs.server.key}"
${clientCa ? `client_ca_file = "${f.certs.ca.cert}"\n` : ""}`;
}

/** Writes `name` in the fixture's directory: stream `app` (see `config`) and `extra`. */
async function writeConfig(
  f: Fixture,
  name: string,
  servers: string,
  extra = "",
): Promise<string> {
  const path = join(f.dir, name);
  await Deno.writeTextFile(path, config(f, servers, extra));
  return path;
}

/** A `[streams.<kind>]` table enabled on `host`:`port`, then `rest` (its keys and sub-tables). */
function server(kind: string, port: number, rest = "", host = "127.0.0.1"): string {
  return `[streams.${kind}]\nenabled = true\nhost = "${host}"\nport = ${port}\n${rest}`;
}

/** The `[audit]` table writing the fixture's audit log. */
function auditTable(f: Fixture): string {
  return `[audit]\nenabled = true\nfile = "${f.audit}"\n`;
}

/** Runs LogWisp on `configPath` with write permission for the audit log only. */
function start(f: Fixture, configPath: string, args: string[] = []) {
  return startLogWisp(["-c", configPath, "--quiet", ...args], {
    permissions: ["--allow-read", "--allow-net", `--allow-write=${f.audit}`],
  });
}

/** The audit log's lines, parsed. */
async function auditLines(f: Fixture): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(f.audit).catch(() => "");
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

async function waitForAudit(
  f: Fixture,
  match: (line: Record<string, unknown>) => boolean,
  count = 1,
): Promise<Record<string, unknown>[]> {
  let found: Record<string, unknown>[] = [];
  await waitFor(async () => (found = (await auditLines(f)).filter(match)).length >= count, {
    timeoutMs: 10_000,
    message: () => `${count} audit lines; have ${Deno.readTextFileSync(f.audit)}`,
  });
  return found;
}

/**
 * `openssl s_client` sending `input` then holding the connection for `holdMs`; resolves to
 * what it printed (the stream's lines) once it exits.
 */
async function sClient(port: number, args: string[], input: string, holdMs: number) {
  const script = `(printf '%s' "$0"; sleep ${holdMs / 1000}) | ` +
    `openssl s_client -quiet -no_ign_eof -connect 127.0.0.1:${port} "$@"`;
  return await run("sh", ["-c", script, input, ...args]);
}

Deno.test("the README example: HTTPS with Basic auth for curl -u, TCP over TLS with a token for openssl s_client, and the audit log", async () => {
  await using dir = await tempDir();
  const f = await fixture(dir.path);
  const [httpPort, tcpPort] = [freePort(), freePort()];
  const path = await writeConfig(
    f,
    "logwisp.toml",
    server(
      "httpserver",
      httpPort,
      `${tlsTable(f, "httpserver")}
[streams.httpserver.auth]
type = "basic"
realm = "LogWisp"
users_file = "${f.users}"
`,
    ) + server(
      "tcpserver",
      tcpPort,
      `${tlsTable(f, "tcpserver")}
[streams.tcpserver.auth]
type = "bearer"
tokens_file = "${f.tokens}"
`,
    ),
    auditTable(f),
  );
  await using logwisp = await start(f, path);
  await logwisp.waitForLog(new RegExp(`https://127.0.0.1:${httpPort}/stream`));
  const base = `https://localhost:${httpPort}`;
  const ca = ["--cacert", f.certs.ca.cert];

  const ok = await curl(`${base}/status`, ...ca, "-u", `admin:${PASSWORD}`);
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).stream, "app");

  const missing = await curl(`${base}/status`, ...ca);
  assert.equal(missing.status, 401);
  assert.equal(missing.headers["www-authenticate"], 'Basic realm="LogWisp", charset="UTF-8"');
  assert.deepEqual(JSON.parse(missing.body), { error: "unauthorized", reason: "missing" });

  // An unknown user and a wrong password get the same answer.
  const wrong = await curl(`${base}/stream`, ...ca, "-u", "admin:guess");
  const unknown = await curl(`${base}/stream`, ...ca, "-u", `mallory:${PASSWORD}`);
  assert.equal(wrong.status, 401);
  assert.deepEqual([unknown.status, unknown.body], [wrong.status, wrong.body]);
  assert.equal(unknown.headers["www-authenticate"], wrong.headers["www-authenticate"]);

  // Without the CA, curl refuses the server; without TLS, the server refuses curl.
  assert.notEqual((await curl(`${base}/status`, "-u", `admin:${PASSWORD}`)).code, 0);
  const plain = await curl(`http://localhost:${httpPort}/status`);
  assert.notEqual(plain.status, 200);

  // The stream, with the identity shown in status while connected.
  const stream = new Deno.Command("curl", {
    // As the original README writes it; the test CA comes from the environment, as a CA
    // installed in the system store would.
    args: ["-u", `admin:${PASSWORD}`, "-N", `${base}/stream`],
    env: { CURL_CA_BUNDLE: f.certs.ca.cert },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const received: string[] = [];
  const reading = (async () => {
    for await (const text of stream.stdout.pipeThrough(new TextDecoderStream())) {
      received.push(text);
    }
  })();
  await waitForAudit(f, (line) => line.event === "connect" && line.transport === "http");
  await Deno.writeTextFile(f.log, "over https\n", { append: true });
  await waitFor(() => received.join("").includes('"message":"over https"'), {
    message: () => received.join(""),
  });
  const status = JSON.parse((await curl(`${base}/status`, ...ca, "-u", `admin:${PASSWORD}`)).body);
  assert.equal(status.delivery.clients[0].identity, "admin");
  stream.kill();
  await reading;
  await stream.status;

  // TCP over TLS with `openssl s_client -connect localhost:<port>` as the original README
  // writes it (the CA from the environment): a first line with the token, then the stream.
  const tcp = run("sh", [
    "-c",
    `(printf '%s\\n' "$0"; sleep 3) | SSL_CERT_FILE="$1" openssl s_client -connect localhost:${tcpPort}`,
    `{"token":"${TOKEN}"}`,
    f.certs.ca.cert,
  ]);
  await waitForAudit(f, (line) => line.event === "connect" && line.transport === "tcp");
  await Deno.writeTextFile(f.log, "over tls\n", { append: true });
  const tcpOut = await tcp;
  assert.match(tcpOut.stdout, /"message":"over tls"/);
  assert.match(tcpOut.stdout, /Verify return code: 0 \(ok\)/);

  const refused = await sClient(
    tcpPort,
    ["-CAfile", f.certs.ca.cert],
    `{"token":"not-the-token"}\n`,
    2000,
  );
  assert.equal(refused.stdout.trim(), '{"type":"error","error":"unauthorized"}');

  // socat reads the same stream.
  const socat = run("sh", [
    "-c",
    `(printf '%s\\n' "$0"; sleep 2) | socat - OPENSSL:127.0.0.1:${tcpPort},cafile=${f.certs.ca.cert},verify=1`,
    `{"token":"${TOKEN}"}`,
  ]);
  await waitForAudit(f, (line) => line.event === "connect" && line.transport === "tcp", 2);
  await Deno.writeTextFile(f.log, "over socat\n", { append: true });
  assert.match((await socat).stdout, /"message":"over socat"/);

  // The audit log, field by field, and never a secret.
  const lines = await waitForAudit(f, (line) => line.event === "disconnect", 3);
  const http = lines.find((line) => line.transport === "http")!;
  assert.equal(http.stream, "app");
  assert.equal(http.user, "admin");
  assert.match(String(http.remote_addr), /^127\.0\.0\.1:\d+$/);
  assert.ok(Number(http.entries) >= 1);
  assert.ok(Number(http.bytes) > 0);
  assert.ok(Number(http.duration_ms) >= 0);
  assert.ok(!Number.isNaN(Date.parse(String(http.time))));
  const tcpLine = lines.find((line) => line.transport === "tcp")!;
  assert.equal(tcpLine.user, "ci");
  assert.equal(tcpLine.entries, 1);
  const failures = (await auditLines(f)).filter((line) => line.event === "auth_failure");
  assert.deepEqual(
    failures.map((line) => [line.transport, line.reason]),
    [["http", "missing"], ["http", "invalid"], ["http", "invalid"], ["tcp", "invalid"]],
  );
  const tlsErrors = (await auditLines(f)).filter((line) => line.event === "tls_error");
  assert.ok(tlsErrors.length >= 1, "the plain-text request is a TLS error");
  const text = await Deno.readTextFile(f.audit);
  for (const secret of [PASSWORD, TOKEN, "not-the-token", "guess"]) {
    assert.ok(!text.includes(secret), `the audit log holds ${secret}`);
  }
  assert.ok(!logwisp.log.join("\n").includes(PASSWORD));

  const final = JSON.parse((await curl(`${base}/status`, ...ca, "-u", `admin:${PASSWORD}`)).body);
  assert.equal(final.server.refused_connections.auth_failure, 3);
  assert.ok(final.server.refused_connections.tls_error >= 1);
  assert.equal(final.tcp.refused_connections.auth_failure, 1);
  assert.equal(final.server.tls.certificate_subject, "CN=localhost");
  assert.ok(Date.parse(final.server.tls.certificate_expires) > Date.now());
  assert.equal(final.tcp.tls.client_certificates, false);
});

Deno.test("bearer tokens and JWTs on HTTP: header, query token, expired, wrong audience, alg none", async () => {
  await using dir = await tempDir();
  const f = await fixture(dir.path);
  const port = freePort();
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const ec = await generateKeyPair("ES256", { extractable: true });
  const jwks = join(dir.path, "jwks.json");
  await Deno.writeTextFile(
    jwks,
    JSON.stringify({
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256" },
        { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256" },
      ],
    }),
  );
  const path = await writeConfig(
    f,
    "bearer.toml",
    server(
      "httpserver",
      port,
      `[streams.httpserver.auth]
type = "bearer"
tokens_file = "${f.tokens}"
jwt_secret_file = "${f.secret}"
jwt_jwks_file = "${jwks}"
jwt_audience = "logwisp"
allow_query_token = true
[streams.httpserver.access]
auth_failures_per_minute_per_ip = 0
`,
    ),
  );
  await using _logwisp = await start(f, path);
  const url = `http://127.0.0.1:${port}/status`;
  const key = new TextEncoder().encode(JWT_SECRET);
  const jwt = (claims: Record<string, unknown>, expires: string | number = "5m") =>
    new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject("build-bot")
      .setIssuedAt().setExpirationTime(expires).sign(key);
  const bearer = (token: string) => ["-H", `Authorization: Bearer ${token}`];

  assert.equal((await curl(url, ...bearer(TOKEN))).status, 200);
  assert.equal((await curl(`${url}?access_token=${TOKEN}`)).status, 200);
  assert.equal((await curl(url, ...bearer(await jwt({ aud: "logwisp" })))).status, 200);
  for (const [alg, kid, key] of [["RS256", "rsa-1", rsa], ["ES256", "ec-1", ec]] as const) {
    const token = await new SignJWT({ aud: "logwisp" }).setProtectedHeader({ alg, kid })
      .setSubject("signed-by-key").setExpirationTime("5m").sign(key.privateKey);
    assert.equal((await curl(url, ...bearer(token))).status, 200, alg);
  }

  const missing = await curl(url);
  assert.equal(missing.status, 401);
  assert.equal(missing.headers["www-authenticate"], 'Bearer realm="LogWisp"');
  const cases: [string, string][] = [
    ["not-a-known-token", "invalid"],
    [await jwt({ aud: "logwisp" }, Math.floor(Date.now() / 1000) - 120), "expired"],
    [await jwt({ aud: "someone-else" }), "wrong_audience"],
    [unsignedJwt({ sub: "root", aud: "logwisp" }), "invalid"],
  ];
  for (const [token, reason] of cases) {
    const answer = await curl(url, ...bearer(token));
    assert.equal(answer.status, 401, reason);
    assert.equal(
      answer.headers["www-authenticate"],
      'Bearer realm="LogWisp", error="invalid_token"',
    );
    assert.deepEqual(JSON.parse(answer.body), { error: "unauthorized", reason });
  }
  const basic = await curl(url, "-u", `admin:${PASSWORD}`);
  assert.deepEqual(JSON.parse(basic.body), { error: "unauthorized", reason: "wrong_scheme" });
});

Deno.test("the eventsource package reads a bearer-protected stream with its header or a query token", async () => {
  await using dir = await tempDir();
  const f = await fixture(dir.path);
  const port = freePort();
  const path = await writeConfig(
    f,
    "eventsource.toml",
    server(
      "httpserver",
      port,
      `[streams.httpserver.auth]
type = "bearer"
tokens_file = "${f.tokens}"
allow_query_token = true
`,
    ),
    auditTable(f),
  );
  await using _logwisp = await start(f, path);
  const url = `http://127.0.0.1:${port}/stream`;
  const withHeader = new EventSource(url, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: { ...init?.headers, Authorization: `Bearer ${TOKEN}` },
      }),
  });
  const withQuery = new EventSource(`${url}?access_token=${TOKEN}`);
  const messages: string[] = [];
  for (const source of [withHeader, withQuery]) {
    source.addEventListener("message", (event) => messages.push(event.data));
  }
  try {
    await waitForAudit(f, (line) => line.event === "connect" && line.user === "ci", 2);
    await Deno.writeTextFile(f.log, "to both\n", { append: true });
    await waitFor(() => messages.length === 2, { message: () => JSON.stringify(messages) });
    assert.ok(messages.every((data) => JSON.parse(data).message === "to both"));
  } finally {
    withHeader.close();
    withQuery.close();
  }
  await waitForAudit(f, (line) => line.event === "disconnect", 2);
  const text = await Deno.readTextFile(f.audit);
  assert.ok(!text.includes(TOKEN), "the query token is not in the audit log");
});

/** A JWT with `alg: none`, which must never be accepted. */
function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

Deno.test("mTLS on HTTP and TCP: a client certificate of the CA is the identity; others are refused in the handshake", async () => {
  await using dir = await tempDir();
  const f = await fixture(dir.path);
  const { issueCertificate } = await import("../src/tls/testdata/make_certs.ts");
  const bobPair = await issueCertificate(dir.path, {
    name: "bob",
    commonName: "bob",
    kind: "client",
    issuer: f.certs.ca,
  });
  const [httpPort, tcpPort] = [freePort(), freePort()];
  const path = await writeConfig(
    f,
    "mtls.toml",
    server(
      "httpserver",
      httpPort,
      `${tlsTable(f, "httpserver", true)}
[streams.httpserver.auth]
type = "mtls"
allowed_subjects = ["alice"]
`,
    ) + server(
      "tcpserver",
      tcpPort,
      `${tlsTable(f, "tcpserver", true)}
[streams.tcpserver.auth]
type = "mtls"
`,
    ),
    auditTable(f),
  );
  await using _logwisp = await start(f, path);
  const url = `https://localhost:${httpPort}/status`;
  const ca = ["--cacert", f.certs.ca.cert];
  const alice = ["--cert", f.certs.client.cert, "--key", f.certs.client.key];

  assert.equal((await curl(url, ...ca, ...alice)).status, 200);
  assert.notEqual((await curl(url, ...ca)).code, 0, "no client certificate");
  const other = ["--cert", f.certs.clientOfOtherCa.cert, "--key", f.certs.clientOfOtherCa.key];
  assert.notEqual((await curl(url, ...ca, ...other)).code, 0, "a certificate of another CA");
  const forbidden = await curl(url, ...ca, "--cert", bobPair.cert, "--key", bobPair.key);
  assert.equal(forbidden.status, 403);
  assert.deepEqual(JSON.parse(forbidden.body), {
    error: "forbidden",
    reason: "forbidden_subject",
  });

  const tcp = sClient(
    tcpPort,
    ["-CAfile", f.certs.ca.cert, "-cert", f.certs.client.cert, "-key", f.certs.client.key],
    "",
    3000,
  );
  await waitForAudit(f, (line) => line.event === "connect" && line.transport === "tcp");
  await Deno.writeTextFile(f.log, "for alice\n", { append: true });
  assert.match((await tcp).stdout, /"message":"for alice"/);
  const noCert = await sClient(tcpPort, ["-CAfile", f.certs.ca.cert], "", 500);
  assert.doesNotMatch(noCert.stdout, /message/);

  const connects = await waitForAudit(f, (line) => line.event === "disconnect");
  assert.equal(connects[0]!.subject, "alice");
  const status = JSON.parse((await curl(url, ...ca, ...alice)).body);
  assert.ok(status.server.refused_connections.tls_error >= 2);
  assert.equal(status.server.refused_connections.auth_failure, 1);
  assert.ok(status.tcp.refused_connections.tls_error >= 1);
});

Deno.test("access lists: deny wins, IPv6 and IPv4-mapped peers, TCP closed before any byte", async () => {
  await using dir = await tempDir();
  const f = await fixture(dir.path);
  const [httpPort, tcpPort] = [freePort(), freePort()];
  const path = await writeConfig(
    f,
    "access.toml",
    server(
      "httpserver",
      httpPort,
      `[streams.httpserver.access]
allow = ["127.0.0.0/8", "::1"]
deny = ["127.0.0.2"]
trusted_proxies = ["::1"]
`,
      "::",
    ) + server(
      "tcpserver",
      tcpPort,
      `[streams.tcpserver.access]
deny = ["127.0.0.1"]
`,
      "::",
    ),
    auditTable(f),
  );
  await using _logwisp = await start(f, path);
  // On a dual-stack socket an IPv4 client arrives as ::ffff:127.0.0.1 and matches IPv4 rules.
  assert.equal((await curl(`http://127.0.0.1:${httpPort}/status`)).status, 200);
  assert.equal((await curl(`http://[::1]:${httpPort}/status`)).status, 200);
  const denied = await curl(`http://127.0.0.1:${httpPort}/status`, "--interface", "127.0.0.2");
  assert.equal(denied.status, 403);
  // X-Forwarded-For is believed from the trusted proxy only.
  const xff = (address: string) => ["-H", `X-Forwarded-For: ${address}`];
  assert.equal((await curl(`http://[::1]:${httpPort}/status`, ...xff("127.0.0.2"))).status, 403);
  assert.equal((await curl(`http://[::1]:${httpPort}/status`, ...xff("127.0.0.3"))).status, 200);
  assert.equal(
    (await curl(`http://127.0.0.1:${httpPort}/status`, ...xff("127.0.0.2"))).status,
    200,
  );

  const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcpPort });
  const buffer = new Uint8Array(16);
  assert.equal(await conn.read(buffer).catch(() => null), null, "closed before any byte");
  conn.close();
  const lines = await waitForAudit(f, (line) => line.event === "denied", 3);
  assert.deepEqual(
    lines.map((line) => [line.transport, line.remote_addr]).sort(),
    [["http", "127.0.0.2"], ["http", "127.0.0.2"], ["tcp", "127.0.0.1"]],
  );
});

Deno.test("a flood of refused connections writes a bounded number of audit lines", async () => {
  await using dir = await tempDir();
  const f = await fixture(dir.path);
  const port = freePort();
  const path = await writeConfig(
    f,
    "flood.toml",
    server(
      "tcpserver",
      port,
      `[streams.tcpserver.access]
deny = ["127.0.0.0/8"]
`,
    ),
    auditTable(f),
  );
  await using _logwisp = await start(f, path);
  const started = Date.now();
  const FLOOD = 500;
  for (let i = 0; i < FLOOD; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
  }
  const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
  const summaries = await waitForAudit(f, (line) => line.event === "suppressed");
  await waitFor(async () => {
    const lines = await auditLines(f);
    const written = lines.filter((line) => line.event === "denied").length;
    const suppressed = lines.filter((line) => line.event === "suppressed")
      .reduce((sum, line) => sum + Number((line.counts as { denied?: number }).denied ?? 0), 0);
    return written + suppressed === FLOOD;
  }, { message: () => Deno.readTextFileSync(f.audit) });
  const lines = await auditLines(f);
  assert.ok(lines.length <= seconds * 21 + 1, `${lines.length} lines in ${seconds} s`);
  assert.ok(summaries.length >= 1);
});

Deno.test("rate limits: connections per minute and authentication failures, with exact counts and Retry-After", async () => {
  await using dir = await tempDir();
  const f = await fixture(dir.path);
  const port = freePort();
  const path = await writeConfig(
    f,
    "rates.toml",
    server(
      "httpserver",
      port,
      `[streams.httpserver.auth]
type = "basic"
users_file = "${f.users}"
[streams.httpserver.access]
connections_per_minute_per_ip = 6
auth_failures_per_minute_per_ip = 2
`,
    ),
  );
  await using _logwisp = await start(f, path);
  const url = `http://127.0.0.1:${port}/status`;
  // Each curl is a new connection: 6 pass the bucket.
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push((await curl(url, "-u", "admin:bad")).status);
  assert.deepEqual(answers, [401, 401, 429, 429]);
  const blocked = await curl(url, "-u", `admin:${PASSWORD}`);
  assert.equal(blocked.status, 429, "blocked for a minute, even with the right password");
  assert.ok(Number(blocked.headers["retry-after"]) > 0);
  const sixth = await curl(url);
  assert.equal(sixth.status, 429);
  const seventh = await curl(url);
  assert.equal(seventh.status, 429);
  assert.ok(Number(seventh.headers["retry-after"]) >= 1);
  assert.match(seventh.body, /slow down/);
});

Deno.test('min_version = "1.3" refuses TLS 1.2 clients; a silent client is cut after the header timeout', async () => {
  await using dir = await tempDir();
  const f = await fixture(dir.path);
  const port = freePort();
  const path = await writeConfig(
    f,
    "tls13.toml",
    server(
      "httpserver",
      port,
      `header_timeout_seconds = 1
${tlsTable(f, "httpserver")}min_version = "1.3"
`,
    ),
  );
  await using _logwisp = await start(f, path);
  const url = `https://localhost:${port}/status`;
  const ca = ["--cacert", f.certs.ca.cert];
  assert.equal((await curl(url, ...ca, "--tlsv1.3")).status, 200);
  assert.notEqual((await curl(url, ...ca, "--tlsv1.2", "--tls-max", "1.2")).code, 0);
  const silent = await Deno.connect({ hostname: "127.0.0.1", port });
  assert.equal(await silent.read(new Uint8Array(16)).catch(() => null), null);
  silent.close();
  const status = JSON.parse((await curl(url, ...ca)).body);
  assert.equal(status.server.refused_connections.tls_error, 2);
});

Deno.test("router mode: the router's TLS, each stream's own auth on its routes, [router.auth] on /status", async () => {
  await using dir = await tempDir();
  const f = await fixture(dir.path);
  const port = freePort();
  const path = await writeConfig(
    f,
    "router.toml",
    `[streams.httpserver]
enabled = true
port = ${port}
[streams.httpserver.auth]
type = "basic"
users_file = "${f.users}"
`,
    `[router]
port = ${port}
host = "127.0.0.1"
[router.tls]
enabled = true
cert_file = "${f.certs.server.cert}"
key_file = "${f.certs.server.key}"
[router.auth]
type = "bearer"
tokens_file = "${f.tokens}"
`,
  );
  await using _logwisp = await start(f, path, ["--router"]);
  const base = `https://localhost:${port}`;
  const ca = ["--cacert", f.certs.ca.cert];
  assert.equal((await curl(`${base}/status`, ...ca)).status, 401);
  assert.equal((await curl(`${base}/status`, ...ca, "-u", `admin:${PASSWORD}`)).status, 401);
  assert.equal(
    (await curl(`${base}/status`, ...ca, "-H", `Authorization: Bearer ${TOKEN}`)).status,
    200,
  );
  assert.equal((await curl(`${base}/app/status`, ...ca, "-u", `admin:${PASSWORD}`)).status, 200);
  const wrong = await curl(`${base}/app/status`, ...ca, "-H", `Authorization: Bearer ${TOKEN}`);
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers["www-authenticate"] ?? "", /^Basic /);
});

Deno.test("--check reports every certificate problem with its key path, and near expiry as a warning", async () => {
  await using dir = await tempDir();
  const f = await fixture(dir.path);
  const { certs } = f;
  const check = async (cert: string, key: string, extra = "") => {
    const path = await writeConfig(
      f,
      "check.toml",
      `[streams.httpserver]
enabled = true
port = ${freePort()}
[streams.httpserver.tls]
enabled = true
cert_file = "${cert}"
key_file = "${key}"
${extra}`,
    );
    return await runCli(["-c", path, "--check"]);
  };
  const key = "streams\\[0\\]\\.httpserver\\.tls";
  const cases: [string, string, RegExp][] = [
    [certs.expired.cert, certs.expired.key, new RegExp(`${key}.cert_file: .* expired on `)],
    [
      certs.notYetValid.cert,
      certs.notYetValid.key,
      new RegExp(`${key}.cert_file: .* is not valid before `),
    ],
    [certs.server.cert, certs.strayKey, new RegExp(`${key}.key_file: .* does not match `)],
    [join(f.dir, "missing.crt"), certs.server.key, new RegExp(`${key}.cert_file: .*missing.crt`)],
    [certs.server.key, certs.server.key, new RegExp(`${key}.cert_file: .* is it the key file\\?`)],
  ];
  for (const [cert, certKey, pattern] of cases) {
    const result = await check(cert, certKey);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, pattern);
  }
  const ca = await check(certs.server.cert, certs.server.key, `client_ca_file = "${f.log}"`);
  assert.equal(ca.code, 2);
  assert.match(ca.stderr, new RegExp(`${key}.client_ca_file: .* is not PEM`));

  const soon = await check(certs.expiringSoon.cert, certs.expiringSoon.key);
  assert.equal(soon.code, 0, soon.stderr);
  assert.match(
    soon.stdout,
    new RegExp(`Warning: ${key}.cert_file: .* expires on .*, in \\d+ days`),
  );
  assert.match(soon.stdout, /tls 1\.2\+/);
});

/** The Chromium binary, or undefined when none is installed (`apt-get install chromium`). */
const chromium = ["chromium", "chromium-browser"].map(which).find(Boolean);

Deno.test({
  name: "headless Chromium reads an HTTPS stream with Basic auth, and gets 401 without",
  ignore: chromium === undefined,
  fn: async () => {
    await using dir = await tempDir();
    const f = await fixture(dir.path);
    const port = freePort();
    const path = await writeConfig(
      f,
      "browser.toml",
      server(
        "httpserver",
        port,
        `${tlsTable(f, "httpserver")}
[streams.httpserver.auth]
type = "basic"
users_file = "${f.users}"
`,
      ),
      auditTable(f),
    );
    await using _logwisp = await start(f, path);
    const browser = await puppeteer.launch({
      executablePath: chromium!,
      headless: true,
      // The test CA is not in the browser's store; curl checks the chain in the other tests.
      acceptInsecureCerts: true,
      args: ["--no-sandbox", "--disable-gpu", `--user-data-dir=${join(dir.path, "chromium")}`],
    });
    try {
      const page = await browser.newPage();
      await page.authenticate({ username: "admin", password: PASSWORD });
      const status = await page.goto(`https://localhost:${port}/status`);
      assert.equal(status?.status(), 200);
      const anonymous = await page.evaluate(async () => {
        const response = await fetch("/status", { credentials: "omit" });
        return [response.status, response.headers.get("WWW-Authenticate")];
      });
      assert.deepEqual(anonymous, [401, 'Basic realm="LogWisp", charset="UTF-8"']);
      // Same origin: the browser sends the credentials it was given with EventSource too.
      await page.evaluate(() => {
        const messages: string[] = [];
        (globalThis as unknown as { messages: string[] }).messages = messages;
        new EventSource("/stream").addEventListener("message", (e) => messages.push(e.data));
      });
      await waitForAudit(f, (line) => line.event === "connect" && line.user === "admin");
      await Deno.writeTextFile(f.log, "to the browser\n", { append: true });
      let messages: string[] = [];
      await waitFor(async () => {
        messages = await page.evaluate(() =>
          (globalThis as unknown as { messages: string[] }).messages
        );
        return messages.length > 0;
      }, { timeoutMs: 15_000, message: () => JSON.stringify(messages) });
      assert.equal(JSON.parse(messages[0]!).message, "to the browser");
    } finally {
      await browser.close();
    }
  },
});
