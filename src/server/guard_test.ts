import assert from "node:assert/strict";
import { join } from "node:path";
import { AccessControl } from "../access/access_control.ts";
import { AuditLog, type AuditSink } from "../audit/audit_log.ts";
import { createAuthenticator } from "../auth/authenticator.ts";
import { tempDir, TEST_CLIENT } from "../_test_utils.ts";
import { OPEN_ACCESS } from "../config/defaults.ts";
import type { AccessConfig, AuthConfig } from "../config/types.ts";
import { denoConnection } from "./connection.ts";
import { Guard } from "./guard.ts";
import type { ClientInfo, HttpHandler } from "./http_server.ts";

const TOKEN = "tok_0123456789abcdef";

/** Bearer auth by a tokens file in `dir` that gives TOKEN the identity "ci". */
async function bearerAuth(dir: string): Promise<AuthConfig> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(TOKEN)),
  );
  const path = join(dir, "tokens");
  const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
  await Deno.writeTextFile(path, `ci:${hex}\n`);
  return { type: "bearer", realm: "LogWisp", tokensFile: path, allowQueryToken: false };
}

/** A guard with an audit log collected in memory. */
async function guard(auth: AuthConfig, access: Partial<AccessConfig> = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink: AuditSink = {
    write(data) {
      for (const line of new TextDecoder().decode(data).split("\n")) {
        if (line) lines.push(JSON.parse(line));
      }
      return Promise.resolve(data.length);
    },
    close() {},
  };
  const audit = await AuditLog.open({ enabled: true, file: "" }, { sink });
  const corsOrigins = access.corsOrigins ?? [];
  return {
    lines,
    audit,
    guard: new Guard({
      authenticator: await createAuthenticator(auth),
      access: new AccessControl({ ...OPEN_ACCESS, ...access, corsOrigins }),
      corsOrigins,
      audit,
      stream: "app",
      transport: "http",
      label: 'stream "app" http',
      log: () => {},
    }),
  };
}

const echo: HttpHandler = (_request, client) => Response.json({ identity: client.identity });

function request(path: string, headers: HeadersInit = {}, method = "GET"): Request {
  return new Request(`http://localhost${path}`, { headers, method });
}

Deno.test("Guard.http(): credentials, identity, probes and preflights", async () => {
  await using dir = await tempDir();
  const auth = await bearerAuth(dir.path);
  const { guard: g, lines, audit } = await guard(auth, {
    corsOrigins: ["https://ops.example.com"],
  });
  const handler = g.http(echo);

  const ok = await handler(request("/stream", { Authorization: `Bearer ${TOKEN}` }), TEST_CLIENT);
  assert.deepEqual(await ok.json(), { identity: "ci" });

  const refused = await handler(
    request("/status", { Origin: "https://ops.example.com" }),
    TEST_CLIENT,
  );
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("WWW-Authenticate"), 'Bearer realm="LogWisp"');
  assert.equal(refused.headers.get("Access-Control-Allow-Origin"), "https://ops.example.com");
  assert.deepEqual(await refused.json(), { error: "unauthorized", reason: "missing" });

  const query = await handler(request(`/stream?access_token=${TOKEN}`), TEST_CLIENT);
  assert.equal(query.status, 401, "query tokens only with allow_query_token");
  await query.body?.cancel();

  for (const path of ["/healthz", "/readyz"]) {
    assert.equal((await handler(request(path), TEST_CLIENT)).status, 200);
  }
  const preflight = await handler(request("/stream", {}, "OPTIONS"), TEST_CLIENT);
  assert.equal(preflight.status, 200);
  await preflight.body?.cancel();

  await audit.close();
  assert.deepEqual(
    lines.map((line) => [line.event, line.stream, line.transport, line.reason]),
    [["auth_failure", "app", "http", "missing"], ["auth_failure", "app", "http", "missing"]],
  );
  assert.equal(g.refused.get("auth_failure"), 2);
});

Deno.test("Guard.http(): access lists per request, X-Forwarded-For from trusted proxies only", async () => {
  const { guard: g, audit } = await guard({ type: "none" }, {
    deny: ["10.0.0.66"],
    trustedProxies: ["10.0.0.1"],
  });
  const handler = g.http(echo);
  const proxied = (xff: string) => request("/status", { "X-Forwarded-For": xff });
  assert.equal((await handler(proxied("10.0.0.66"), TEST_CLIENT)).status, 403);
  assert.equal((await handler(proxied("10.0.0.67"), TEST_CLIENT)).status, 200);
  const untrusted: ClientInfo = { ...TEST_CLIENT, peer: { address: "192.0.2.1", port: 1 } };
  assert.equal((await handler(proxied("10.0.0.66"), untrusted)).status, 200);
  const denied: ClientInfo = { ...TEST_CLIENT, peer: { address: "::ffff:10.0.0.66", port: 1 } };
  assert.equal(g.admit(denied.peer)?.reason, "denied", "IPv4-mapped peers match IPv4 rules");
  await audit.close();
});

Deno.test("Guard.http(): too many failures block the address with Retry-After", async () => {
  await using dir = await tempDir();
  const auth = await bearerAuth(dir.path);
  const { guard: g, audit } = await guard(auth, { authFailuresPerMinutePerIp: 2 });
  const handler = g.http(echo);
  const wrong = request("/status", { Authorization: "Bearer wrong-token" });
  assert.equal((await handler(wrong, TEST_CLIENT)).status, 401);
  assert.equal((await handler(wrong, TEST_CLIENT)).status, 401);
  const blocked = await handler(
    request("/status", { Authorization: `Bearer ${TOKEN}` }),
    TEST_CLIENT,
  );
  assert.equal(blocked.status, 429);
  assert.ok(Number(blocked.headers.get("Retry-After")) > 0);
  await audit.close();
});

Deno.test("Guard.tcp(): a hello line with the token, or one error line", async () => {
  await using dir = await tempDir();
  const auth = await bearerAuth(dir.path);
  const { guard: g, audit } = await guard(auth);
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const attempt = async (hello: string) => {
    const client = await Deno.connect({ hostname: "127.0.0.1", port });
    const server = denoConnection(await listener.accept());
    await client.write(new TextEncoder().encode(hello));
    const admission = await g.tcp(server);
    server.close();
    const answer = new TextDecoder().decode(
      new Uint8Array(await new Response(client.readable).arrayBuffer()),
    );
    return { admission, answer };
  };
  const good = await attempt(`{"token":"${TOKEN}","level":"WARN"}\n`);
  assert.deepEqual(good.admission, {
    identity: "ci",
    hello: { token: TOKEN, level: "WARN" },
  });
  assert.equal(good.answer, "");
  for (const hello of ['{"token":"nope"}\n', "not json\n", '["x"]\n']) {
    const bad = await attempt(hello);
    assert.equal(bad.admission, undefined);
    assert.equal(bad.answer, '{"type":"error","error":"unauthorized"}\n');
  }
  await audit.close();
});
