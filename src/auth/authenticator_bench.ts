import bcrypt from "bcryptjs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { type Authenticator, createAuthenticator } from "./authenticator.ts";

const PASSWORD = "correct horse battery staple";
const TOKEN = "tok_3f9a8c77e1d24b0c9a1e";
const SECRET = new TextEncoder().encode("jwt-secret-jwt-secret-jwt-secret-0123456789");
const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;

const dir = await Deno.makeTempDir({ prefix: "logwisp_bench_" });
const rsa = await generateKeyPair("RS256");
const ec = await generateKeyPair("ES256");
const authenticators: Record<string, Authenticator> = {};
try {
  for (const cost of [5, 10]) {
    const usersFile = join(dir, `users-${cost}`);
    // htpasswd -B writes $2y$; bcryptjs writes $2b$: the same algorithm.
    const hash = bcrypt.hashSync(PASSWORD, cost).replace(/^\$2b\$/, "$2y$");
    await Deno.writeTextFile(usersFile, `alice:${hash}\n`);
    const config = { type: "basic", realm: "LogWisp", usersFile } as const;
    authenticators[`basic ${cost}`] = await createAuthenticator(config, { cache: { ttlMs: 0 } });
    authenticators[`basic ${cost} cached`] = await createAuthenticator(config);
  }
  const tokensFile = join(dir, "tokens");
  await Deno.writeTextFile(tokensFile, `ci:${createHash("sha256").update(TOKEN).digest("hex")}\n`);
  const jwtJwksFile = join(dir, "jwks.json");
  await Deno.writeTextFile(
    jwtJwksFile,
    JSON.stringify({ keys: [await exportJWK(rsa.publicKey), await exportJWK(ec.publicKey)] }),
  );
  const jwtSecretFile = join(dir, "secret");
  await Deno.writeTextFile(jwtSecretFile, new TextDecoder().decode(SECRET));
  const bearer = {
    type: "bearer",
    realm: "LogWisp",
    tokensFile,
    jwtJwksFile,
    jwtSecretFile,
    jwtIssuer: "https://idp.example",
    jwtAudience: "logwisp",
    allowQueryToken: false,
  } as const;
  authenticators.bearer = await createAuthenticator(bearer, { cache: { ttlMs: 0 } });
  authenticators["bearer cached"] = await createAuthenticator(bearer);
} finally {
  await Deno.remove(dir, { recursive: true });
}

const claims = { iss: "https://idp.example", aud: "logwisp", sub: "alice" };
const jwt = (alg: string, key: CryptoKey | Uint8Array) =>
  new SignJWT(claims).setProtectedHeader({ alg }).setExpirationTime("1h").sign(key);
const tokens = {
  HS256: await jwt("HS256", SECRET),
  RS256: await jwt("RS256", rsa.privateKey),
  ES256: await jwt("ES256", ec.privateKey),
};

// The functions are async, not merely returning a promise: Deno.bench awaits async functions
// only, and would otherwise start every iteration at once.
async function verify(name: string, authorization: string, ok: boolean): Promise<void> {
  const result = await authenticators[name]!.verify({ authorization });
  if (result.ok !== ok) throw new Error(`${name}: expected ok=${ok}`);
}

for (const cost of [5, 10]) {
  const group = `bcrypt cost ${cost}`;
  Deno.bench(
    `Basic, cost ${cost}: right password, no cache`,
    { group, baseline: true },
    async () => await verify(`basic ${cost}`, basic("alice", PASSWORD), true),
  );
  Deno.bench(
    `Basic, cost ${cost}: wrong password`,
    { group },
    async () => await verify(`basic ${cost}`, basic("alice", "wrong"), false),
  );
  Deno.bench(
    `Basic, cost ${cost}: unknown user`,
    { group },
    async () => await verify(`basic ${cost}`, basic("mallory", PASSWORD), false),
  );
  Deno.bench(
    `Basic, cost ${cost}: right password, cache hit`,
    { group },
    async () => await verify(`basic ${cost} cached`, basic("alice", PASSWORD), true),
  );
}

Deno.bench(
  "Bearer: static token",
  { group: "bearer" },
  async () => await verify("bearer", `Bearer ${TOKEN}`, true),
);
for (const [alg, token] of Object.entries(tokens)) {
  Deno.bench(
    `Bearer: JWT ${alg}, no cache`,
    { group: "bearer" },
    async () => await verify("bearer", `Bearer ${token}`, true),
  );
}
Deno.bench(
  "Bearer: JWT RS256, cache hit",
  { group: "bearer" },
  async () => await verify("bearer cached", `Bearer ${tokens.RS256}`, true),
);
