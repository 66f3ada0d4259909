import assert from "node:assert/strict";
import { join } from "node:path";
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { tempDir } from "../_test_utils.ts";
import { JwtVerifier } from "./jwt_verifier.ts";

const SECRET = "an HS256 secret that is long enough: 0123456789";
const NOW = Math.floor(Date.now() / 1000);

async function keys() {
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const ec = await generateKeyPair("ES256", { extractable: true });
  const stranger = await generateKeyPair("RS256", { extractable: true });
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", use: "sig" },
      { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256" },
    ],
  };
  return { rsa, ec, stranger, jwks };
}

function sign(
  payload: JWTPayload,
  alg: string,
  key: CryptoKey | Uint8Array,
  kid?: string,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, ...(kid && { kid }) }).sign(key);
}

function without(payload: JWTPayload, claim: string): JWTPayload {
  const { [claim]: _, ...rest } = payload;
  return rest;
}

function base64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

Deno.test("JwtVerifier checks signatures, algorithms and claims", async (t) => {
  await using dir = await tempDir();
  const { rsa, ec, stranger, jwks } = await keys();
  const jwksFile = join(dir.path, "jwks.json");
  const secretFile = join(dir.path, "secret");
  await Deno.writeTextFile(jwksFile, JSON.stringify(jwks));
  await Deno.writeTextFile(secretFile, `${SECRET}\n`);
  const loaded = await JwtVerifier.load({
    jwksFile,
    secretFile,
    issuer: "https://idp.example",
    audience: "logwisp",
  });
  assert.ok("verifier" in loaded, JSON.stringify(loaded));
  const verifier = loaded.verifier;
  const secret = new TextEncoder().encode(SECRET);
  const claims = { iss: "https://idp.example", aud: "logwisp", sub: "alice", exp: NOW + 300 };

  const cases: [name: string, token: () => Promise<string>, expected: unknown][] = [
    ["RS256", () => sign(claims, "RS256", rsa.privateKey, "rsa-1"), "alice"],
    ["RS256 without kid", () => sign(claims, "RS256", rsa.privateKey), "alice"],
    ["ES256", () => sign(claims, "ES256", ec.privateKey, "ec-1"), "alice"],
    ["HS256", () => sign(claims, "HS256", secret), "alice"],
    ["no sub", () => sign(without(claims, "sub"), "HS256", secret), "jwt"],
    ["aud in a list", () => sign({ ...claims, aud: ["x", "logwisp"] }, "HS256", secret), "alice"],
    ["no exp", () => sign(without(claims, "exp"), "HS256", secret), "alice"],
    [
      "expired within the leeway",
      () => sign({ ...claims, exp: NOW - 10 }, "HS256", secret),
      "alice",
    ],
    ["expired", () => sign({ ...claims, exp: NOW - 60 }, "RS256", rsa.privateKey), "expired"],
    [
      "not yet valid within the leeway",
      () => sign({ ...claims, nbf: NOW + 10 }, "HS256", secret),
      "alice",
    ],
    [
      "not yet valid",
      () => sign({ ...claims, nbf: NOW + 120 }, "ES256", ec.privateKey),
      "not_yet_valid",
    ],
    [
      "wrong audience",
      () => sign({ ...claims, aud: "grafana" }, "HS256", secret),
      "wrong_audience",
    ],
    ["no audience", () => sign(without(claims, "aud"), "HS256", secret), "wrong_audience"],
    [
      "wrong issuer",
      () => sign({ ...claims, iss: "https://evil.example" }, "HS256", secret),
      "wrong_issuer",
    ],
    ["signed by an unknown key", () => sign(claims, "RS256", stranger.privateKey), "invalid"],
    [
      "signed by an unknown key with a known kid",
      () => sign(claims, "RS256", stranger.privateKey, "rsa-1"),
      "invalid",
    ],
    ["HS256 with another secret", () => sign(claims, "HS256", secret.map((b) => b ^ 1)), "invalid"],
    [
      "HS256 with the RSA public key as secret (algorithm confusion)",
      async () =>
        sign(claims, "HS256", new TextEncoder().encode(await exportSPKI(rsa.publicKey)), "rsa-1"),
      "invalid",
    ],
    [
      "HS384",
      () => sign(claims, "HS384", secret),
      "invalid",
    ],
    [
      "alg none",
      () => Promise.resolve(`${base64url({ alg: "none" })}.${base64url(claims)}.`),
      "invalid",
    ],
    [
      "alg none with the kid of a key",
      () => Promise.resolve(`${base64url({ alg: "none", kid: "rsa-1" })}.${base64url(claims)}.`),
      "invalid",
    ],
    [
      "tampered payload",
      async () => {
        const [header, , signature] = (await sign(claims, "RS256", rsa.privateKey)).split(".");
        return `${header}.${base64url({ ...claims, sub: "admin" })}.${signature}`;
      },
      "invalid",
    ],
    [
      "tampered signature",
      async () => {
        const token = await sign(claims, "ES256", ec.privateKey);
        return token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
      },
      "invalid",
    ],
    ["not a JWT", () => Promise.resolve("not.a.jwt"), "invalid"],
    ["garbage", () => Promise.resolve("%%%"), "invalid"],
  ];
  for (const [name, token, expected] of cases) {
    await t.step(name, async () => {
      const result = await verifier.verify(await token());
      assert.equal(result.ok ? result.subject : result.reason, expected);
    });
  }

  await t.step("expiry is reported and the clock can be set", async () => {
    const token = await sign(claims, "HS256", secret);
    const result = await verifier.verify(token);
    assert.deepEqual(result, { ok: true, subject: "alice", expiresAt: (NOW + 300) * 1000 });
    const later = new Date((NOW + 331) * 1000);
    assert.deepEqual(await verifier.verify(token, later), { ok: false, reason: "expired" });
  });
});

Deno.test("JwtVerifier: each kind of key verifies only its own algorithms", async () => {
  await using dir = await tempDir();
  const { rsa, jwks } = await keys();
  const jwksFile = join(dir.path, "jwks.json");
  const secretFile = join(dir.path, "secret");
  await Deno.writeTextFile(jwksFile, JSON.stringify(jwks));
  await Deno.writeTextFile(secretFile, SECRET);
  const secret = new TextEncoder().encode(SECRET);
  const onlyJwks = await JwtVerifier.load({ jwksFile });
  const onlySecret = await JwtVerifier.load({ secretFile });
  assert.ok("verifier" in onlyJwks && "verifier" in onlySecret);
  const hs = await sign({ sub: "a" }, "HS256", secret);
  const rs = await sign({ sub: "a" }, "RS256", rsa.privateKey);
  assert.deepEqual(await onlyJwks.verifier.verify(hs), { ok: false, reason: "invalid" });
  assert.deepEqual(await onlySecret.verifier.verify(rs), { ok: false, reason: "invalid" });
  assert.deepEqual(await onlyJwks.verifier.verify(rs), { ok: true, subject: "a" });
  assert.deepEqual(await onlySecret.verifier.verify(hs), { ok: true, subject: "a" });
});

Deno.test("JwtVerifier.load() reports bad key files without their content", async () => {
  await using dir = await tempDir();
  const { rsa } = await keys();
  const file = async (name: string, content: unknown) => {
    const path = join(dir.path, name);
    await Deno.writeTextFile(path, typeof content === "string" ? content : JSON.stringify(content));
    return path;
  };
  const privateJwk = await exportJWK(rsa.privateKey);
  const cases: [content: unknown, message: (path: string) => string][] = [
    [
      "{",
      (p) =>
        `"${p}" is not JSON: Expected property name or '}' in JSON at position 1 (line 1 column 2)`,
    ],
    [{ kty: "RSA" }, (p) => `"${p}" is not a JSON Web Key Set: it needs a "keys" array`],
    [{ keys: [] }, (p) => `"${p}" holds no keys`],
    [
      { keys: [{ kty: "oct", k: "c2VjcmV0", kid: "s" }] },
      (p) => `"${p}" key 1 (kid "s") is a symmetric key: put an HS256 secret in jwt_secret_file`,
    ],
    [
      { keys: [privateJwk] },
      (p) => `"${p}" key 1 holds private key material: publish only the public key`,
    ],
    [
      { keys: [{ ...(await exportJWK(rsa.publicKey)), use: "enc" }] },
      (p) => `"${p}" key 1 is not for signatures (use "enc")`,
    ],
    [
      { keys: [{ ...(await exportJWK(rsa.publicKey)), alg: "HS256" }] },
      (p) => `"${p}" key 1 has alg "HS256", which is not accepted`,
    ],
    [
      { keys: [{ kty: "RSA", n: "AQAB", e: "AQAB" }, "x"] },
      (p) => `"${p}" key 1 is not a valid public key: `,
    ],
  ];
  for (const [i, [content, message]] of cases.entries()) {
    const path = await file(`jwks-${i}.json`, content);
    const loaded = await JwtVerifier.load({ jwksFile: path });
    assert.ok("problems" in loaded);
    assert.equal(loaded.problems.length, 1);
    assert.equal(loaded.problems[0]!.key, "jwt_jwks_file");
    assert.ok(loaded.problems[0]!.message.startsWith(message(path)), loaded.problems[0]!.message);
    assert.ok(!loaded.problems[0]!.message.includes(String(privateJwk.d)));
  }
  const short = await file("short", "short secret\n");
  assert.deepEqual(await JwtVerifier.load({ secretFile: short }), {
    problems: [{
      key: "jwt_secret_file",
      message:
        `"${short}" holds 12 bytes: an HS256 secret needs at least 32 (e.g. openssl rand -base64 48)`,
    }],
  });
  const missing = join(dir.path, "missing.json");
  assert.deepEqual(await JwtVerifier.load({ jwksFile: missing, secretFile: short }), {
    problems: [
      { key: "jwt_jwks_file", message: `Cannot read "${missing}": it does not exist` },
      {
        key: "jwt_secret_file",
        message:
          `"${short}" holds 12 bytes: an HS256 secret needs at least 32 (e.g. openssl rand -base64 48)`,
      },
    ],
  });
});
