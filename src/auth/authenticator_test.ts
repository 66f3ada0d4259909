import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { SignJWT } from "jose";
import { tempDir } from "../_test_utils.ts";
import type { AuthConfig, BearerAuthConfig } from "../config/types.ts";
import { AuthConfigError, type AuthResult, createAuthenticator } from "./authenticator.ts";
import { authErrorBody, TCP_UNAUTHORIZED_LINE } from "./challenge.ts";

const PASSWORD = "pässwörd: correct horse";
const TOKEN = "tok_3f9a8c77e1d24b0c9a1e";
const SECRET = "jwt-secret-jwt-secret-jwt-secret-0123456789";

const basic = (user: string, password: string) =>
  `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)))}`;

async function htpasswdLine(user: string, password: string): Promise<string> {
  const result = await new Deno.Command("htpasswd", {
    args: ["-n", "-b", "-B", user, password],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(result.stdout).trim();
}

/** Files for every kind of auth in a temporary directory. */
async function setUp(dir: string) {
  const usersFile = join(dir, "users");
  await Deno.writeTextFile(usersFile, `${await htpasswdLine("alice", PASSWORD)}\n`);
  const tokensFile = join(dir, "tokens");
  const digest = createHash("sha256").update(TOKEN).digest("hex");
  await Deno.writeTextFile(tokensFile, `ci:${digest}\n`);
  const secretFile = join(dir, "secret");
  await Deno.writeTextFile(secretFile, SECRET);
  return { usersFile, tokensFile, secretFile };
}

function jwt(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(SECRET));
}

Deno.test("none lets everyone in", async () => {
  const auth = await createAuthenticator({ type: "none" });
  assert.deepEqual(await auth.verify({}), { ok: true, kind: "anonymous" });
});

Deno.test("basic: user and password from an htpasswd file; unknown user = wrong password", async () => {
  await using dir = await tempDir();
  const { usersFile } = await setUp(dir.path);
  const time = { now: 1_000_000 };
  const auth = await createAuthenticator(
    { type: "basic", realm: 'Logs "prod"', usersFile },
    { now: () => time.now },
  );
  const challenge = 'Basic realm="Logs \\"prod\\"", charset="UTF-8"';
  const refused = (reason: string) => ({ ok: false, reason, status: 401, challenge });

  assert.deepEqual(await auth.verify({ authorization: basic("alice", PASSWORD) }), {
    ok: true,
    kind: "user",
    identity: "alice",
    cached: false,
  });
  assert.deepEqual(
    await auth.verify({ authorization: basic("alice", "wrong") }),
    refused("invalid"),
  );
  assert.deepEqual(
    await auth.verify({ authorization: basic("mallory", PASSWORD) }),
    refused("invalid"),
  );
  assert.deepEqual(await auth.verify({}), refused("missing"));
  assert.deepEqual(await auth.verify({ authorization: "" }), refused("missing"));
  assert.deepEqual(
    await auth.verify({ authorization: `Bearer ${TOKEN}` }),
    refused("wrong_scheme"),
  );
  assert.deepEqual(await auth.verify({ authorization: "Basic" }), refused("malformed"));
  assert.deepEqual(await auth.verify({ authorization: "Basic !!!!" }), refused("malformed"));
  assert.deepEqual(
    await auth.verify({ authorization: `Basic ${btoa("no colon")}` }),
    refused("malformed"),
  );
  assert.deepEqual(
    await auth.verify({ authorization: `Basic ${btoa("\xff\xfe:x")}` }),
    refused("malformed"),
  );
  assert.deepEqual(
    await auth.verify({ authorization: `Basic ${"QUFB".repeat(5000)}` }),
    refused("malformed"),
  );
  // Scheme names are case-insensitive.
  assert.equal(
    (await auth.verify({ authorization: basic("alice", PASSWORD).replace("Basic", "bAsIc") })).ok,
    true,
  );
  // Three bcrypt runs: the success and the two refusals; the rest never got that far.
  assert.equal(auth.stats.verifications, 3);
});

Deno.test("basic: successes are cached for a minute, failures never", async () => {
  await using dir = await tempDir();
  const { usersFile } = await setUp(dir.path);
  const time = { now: 1_000_000 };
  const auth = await createAuthenticator(
    { type: "basic", realm: "LogWisp", usersFile },
    { now: () => time.now },
  );
  const good = { authorization: basic("alice", PASSWORD) };
  assert.equal((await auth.verify(good) as { cached: boolean }).cached, false);
  assert.equal((await auth.verify(good) as { cached: boolean }).cached, true);
  time.now += 59_000;
  assert.equal((await auth.verify(good) as { cached: boolean }).cached, true);
  time.now += 1_000;
  assert.equal((await auth.verify(good) as { cached: boolean }).cached, false);
  const bad = { authorization: basic("alice", "nope") };
  await auth.verify(bad);
  await auth.verify(bad);
  assert.deepEqual(auth.stats, { verifications: 4, cacheHits: 2, cacheEntries: 1 });

  const uncached = await createAuthenticator(
    { type: "basic", realm: "LogWisp", usersFile },
    { cache: { ttlMs: 0 } },
  );
  await uncached.verify(good);
  assert.equal((await uncached.verify(good) as { cached: boolean }).cached, false);
  assert.equal(uncached.stats.verifications, 2);
});

Deno.test("bearer: static tokens from the header, the query (when allowed) and a TCP hello", async () => {
  await using dir = await tempDir();
  const { tokensFile } = await setUp(dir.path);
  const config: BearerAuthConfig = {
    type: "bearer",
    realm: "LogWisp",
    tokensFile,
    allowQueryToken: false,
  };
  const auth = await createAuthenticator(config);
  const success = { ok: true, kind: "token", identity: "ci", cached: false };
  const missing = {
    ok: false,
    reason: "missing",
    status: 401,
    challenge: 'Bearer realm="LogWisp"',
  };
  const refused = (reason: string) => ({
    ok: false,
    reason,
    status: 401,
    challenge: 'Bearer realm="LogWisp", error="invalid_token"',
  });
  assert.deepEqual(await auth.verify({ authorization: `Bearer ${TOKEN}` }), success);
  assert.deepEqual(await auth.verify({ authorization: `bearer   ${TOKEN}  ` }), success);
  assert.deepEqual(await auth.verify({ helloToken: TOKEN }), success);
  assert.deepEqual(await auth.verify({ queryToken: TOKEN }), missing, "query tokens are off");
  assert.deepEqual(await auth.verify({}), missing);
  assert.deepEqual(await auth.verify({ authorization: basic("ci", TOKEN) }), {
    ...missing,
    reason: "wrong_scheme",
  });
  assert.deepEqual(await auth.verify({ authorization: `Bearer ${TOKEN}x` }), refused("invalid"));
  assert.deepEqual(await auth.verify({ helloToken: "wrong" }), refused("invalid"));
  assert.deepEqual(await auth.verify({ authorization: "Bearer" }), refused("malformed"));
  assert.deepEqual(await auth.verify({ authorization: "Bearer a b" }), refused("malformed"));
  assert.deepEqual(await auth.verify({ helloToken: "x".repeat(10_000) }), refused("malformed"));

  const withQuery = await createAuthenticator({ ...config, allowQueryToken: true });
  assert.deepEqual(await withQuery.verify({ queryToken: TOKEN }), success);
  assert.deepEqual(
    await withQuery.verify({ authorization: "Bearer wrong", queryToken: TOKEN }),
    refused("invalid"),
    "the header wins over the query",
  );
});

Deno.test("bearer: JWTs, with their reasons, cached no longer than they live", async () => {
  await using dir = await tempDir();
  const { tokensFile, secretFile } = await setUp(dir.path);
  const time = { now: Date.now() };
  const auth = await createAuthenticator({
    type: "bearer",
    realm: "LogWisp",
    tokensFile,
    jwtSecretFile: secretFile,
    jwtAudience: "logwisp",
    allowQueryToken: true,
  }, { now: () => time.now });
  const seconds = Math.floor(time.now / 1000);
  const token = await jwt({ sub: "bob", aud: "logwisp", exp: seconds + 20 });
  assert.deepEqual(await auth.verify({ queryToken: token }), {
    ok: true,
    kind: "jwt",
    identity: "bob",
    cached: false,
  });
  assert.equal(
    (await auth.verify({ authorization: `Bearer ${token}` }) as { cached: boolean }).cached,
    true,
  );
  // Cached until exp plus the leeway (50 s), not the cache's minute.
  time.now = (seconds + 50) * 1000 + 1;
  assert.equal((await auth.verify({ helloToken: token })).ok, false);
  assert.equal((await auth.verify({ helloToken: TOKEN })).ok, true, "static tokens still work");
  const reasons: [claims: Record<string, unknown>, reason: string][] = [
    [{ aud: "logwisp", exp: seconds - 100 }, "expired"],
    [{ aud: "other", exp: seconds + 100 }, "wrong_audience"],
  ];
  for (const [claims, reason] of reasons) {
    assert.deepEqual(await auth.verify({ helloToken: await jwt(claims) }), {
      ok: false,
      reason,
      status: 401,
      challenge: 'Bearer realm="LogWisp", error="invalid_token"',
    });
  }
});

Deno.test("mtls: the certificate CN is the identity, checked against allowed_subjects", async () => {
  const auth = await createAuthenticator({
    type: "mtls",
    realm: "LogWisp",
    allowedSubjects: ["alice", "svc-*"],
  });
  const check = (peerCertificate: { authorized: boolean; commonName?: string | string[] } | null) =>
    auth.verify({ peerCertificate });
  assert.deepEqual(await check({ authorized: true, commonName: "alice" }), {
    ok: true,
    kind: "certificate",
    identity: "alice",
    cached: false,
  });
  assert.equal((await check({ authorized: true, commonName: "svc-backup" })).ok, true);
  assert.equal((await check({ authorized: true, commonName: ["svc-backup"] })).ok, true);
  const forbidden = { ok: false, reason: "forbidden_subject", status: 403 };
  assert.deepEqual(await check({ authorized: true, commonName: "mallory" }), forbidden);
  assert.deepEqual(await check({ authorized: true, commonName: ["alice", "mallory"] }), forbidden);
  assert.deepEqual(await check({ authorized: true }), forbidden);
  const none = { ok: false, reason: "no_certificate", status: 403 };
  assert.deepEqual(await check({ authorized: false, commonName: "alice" }), none);
  assert.deepEqual(await check(null), none);
  const anyone = await createAuthenticator({ type: "mtls", realm: "x", allowedSubjects: [] });
  assert.equal(
    (await anyone.verify({ peerCertificate: { authorized: true, commonName: "zed" } })).ok,
    true,
  );
});

Deno.test("createAuthenticator() throws every load problem with its key", async () => {
  await using dir = await tempDir();
  const plain = join(dir.path, "plain-users");
  await Deno.writeTextFile(plain, "alice:hunter2hunter2\n");
  const rawTokens = join(dir.path, "raw-tokens");
  await Deno.writeTextFile(rawTokens, `ci:${TOKEN}\n`);
  const shortSecret = join(dir.path, "short");
  await Deno.writeTextFile(shortSecret, "s3cr3t\n");
  const missing = join(dir.path, "missing");
  const cases: [config: AuthConfig, issues: { key: string; message: string }[]][] = [
    [{ type: "basic", realm: "r", usersFile: missing }, [{
      key: "users_file",
      message: `Cannot read "${missing}": it does not exist`,
    }]],
    [{ type: "basic", realm: "r", usersFile: plain }, [{
      key: "users_file",
      message: `"${plain}" line 1: user "alice" has a plain-text password or an unknown hash: ` +
        "only bcrypt is accepted; use htpasswd -B",
    }]],
    [
      {
        type: "bearer",
        realm: "r",
        tokensFile: rawTokens,
        jwtSecretFile: shortSecret,
        jwtJwksFile: missing,
        allowQueryToken: false,
      },
      [
        {
          key: "tokens_file",
          message: `"${rawTokens}" line 1: token "ci" has no SHA-256 digest (64 hex digits) ` +
            "after the colon: write the digest of the token, not the token",
        },
        { key: "jwt_jwks_file", message: `Cannot read "${missing}": it does not exist` },
        {
          key: "jwt_secret_file",
          message: `"${shortSecret}" holds 6 bytes: an HS256 secret needs at least 32 ` +
            "(e.g. openssl rand -base64 48)",
        },
      ],
    ],
    [{ type: "bearer", realm: "r", allowQueryToken: false }, [{
      key: "tokens_file",
      message: "Bearer authentication needs tokens_file, jwt_jwks_file or jwt_secret_file",
    }]],
    [{ type: "mtls", realm: "r", allowedSubjects: ["ok", "bad[", "a/b"] }, [
      { key: "allowed_subjects[1]", message: `Pattern "bad[" has an unclosed "["` },
      {
        key: "allowed_subjects[2]",
        message: `Pattern "a/b" contains "/": it matches base names only`,
      },
    ]],
  ];
  for (const [config, issues] of cases) {
    await assert.rejects(createAuthenticator(config), (error: unknown) => {
      assert.ok(error instanceof AuthConfigError);
      assert.deepEqual(error.issues, issues);
      for (const secret of ["hunter2", TOKEN, "s3cr3t"]) assert.ok(!error.message.includes(secret));
      return true;
    });
  }
});

Deno.test("no secret appears in any answer, body or error", async () => {
  await using dir = await tempDir();
  const { usersFile, tokensFile, secretFile } = await setUp(dir.path);
  const basicAuth = await createAuthenticator({ type: "basic", realm: "LogWisp", usersFile });
  const bearer = await createAuthenticator({
    type: "bearer",
    realm: "LogWisp",
    tokensFile,
    jwtSecretFile: secretFile,
    allowQueryToken: true,
  });
  const expiredJwt = await jwt({ sub: "bob", exp: 1 });
  const secrets = [PASSWORD, "wrong-password-42", TOKEN, "wrong-token-42", expiredJwt, SECRET];
  const results: AuthResult[] = [];
  for (const password of [PASSWORD, "wrong-password-42"]) {
    for (const user of ["alice", "nobody"]) {
      const authorization = basic(user, password);
      secrets.push(authorization, authorization.slice(6));
      results.push(await basicAuth.verify({ authorization }));
    }
  }
  for (const token of [TOKEN, "wrong-token-42", expiredJwt, `${TOKEN}!`]) {
    results.push(await bearer.verify({ authorization: `Bearer ${token}` }));
    results.push(await bearer.verify({ queryToken: token }));
    results.push(await bearer.verify({ helloToken: token }));
    results.push(await basicAuth.verify({ authorization: `Bearer ${token}` }));
  }
  const shown =
    results.map((result) => JSON.stringify(result) + (result.ok ? "" : authErrorBody(result))).join(
      "\n",
    ) + TCP_UNAUTHORIZED_LINE;
  for (const secret of secrets) assert.ok(!shown.includes(secret), `${secret} is not shown`);
  assert.ok(shown.includes('"reason":"invalid"'));
});
