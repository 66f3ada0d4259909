import assert from "node:assert/strict";
import { parseHtpasswd, verifyPassword } from "./htpasswd.ts";

/** One `user:hash` line made by the real htpasswd with `flags`. */
async function htpasswd(flags: string[], user: string, password: string): Promise<string> {
  const result = await new Deno.Command("htpasswd", {
    args: ["-n", "-b", ...flags, user, password],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(result.success);
  return new TextDecoder().decode(result.stdout).trim();
}

Deno.test("parseHtpasswd() takes the bcrypt hashes htpasswd -B writes", async () => {
  const text = [
    "# LogWisp users",
    await htpasswd(["-B"], "alice", "correct horse"),
    "",
    await htpasswd(["-B", "-C", "6"], "bob", "battery staple"),
    (await htpasswd(["-B"], "carol", "x")).replace("$2y$", "$2a$"),
    (await htpasswd(["-B"], "dave", "x")).replace("$2y$", "$2b$") + "\r",
  ].join("\n");
  const { htpasswd: file, problems } = parseHtpasswd(text, "/etc/logwisp/users");
  assert.deepEqual(problems, []);
  assert.deepEqual([...file.users.keys()], ["alice", "bob", "carol", "dave"]);
  // Most users have cost 5 (the htpasswd default): unknown users cost the same.
  assert.match(file.dummyHash, /^\$2b\$05\$[./A-Za-z0-9]{53}$/);
  assert.equal(await verifyPassword(file, "alice", "correct horse"), true);
  assert.equal(await verifyPassword(file, "bob", "battery staple"), true);
  assert.equal(await verifyPassword(file, "alice", "battery staple"), false);
  assert.equal(await verifyPassword(file, "mallory", "correct horse"), false);
  assert.equal(await verifyPassword(file, "", ""), false);
});

Deno.test("parseHtpasswd() refuses every other hash, naming file, line and user, never the hash", async () => {
  const lines = [
    await htpasswd(["-m"], "md5", "pw-md5"),
    await htpasswd(["-s"], "sha", "pw-sha"),
    await htpasswd(["-p"], "plain", "hunter2hunter2"),
    await htpasswd(["-d"], "des", "pw-des"),
    await htpasswd(["-2"], "sha256", "pw-2"),
    await htpasswd(["-5"], "sha512", "pw-5"),
    "md5crypt:$1$abcdefgh$0123456789abcdefghijkl",
    "argon:$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
    "broken:$2y$05$tooshort",
    "cost:$2y$99$" + "a".repeat(53),
    "empty:",
    "no colon here",
    ":nobody",
    await htpasswd(["-B"], "twice", "pw"),
    await htpasswd(["-B"], "twice", "pw2"),
  ];
  const { htpasswd: file, problems } = parseHtpasswd(lines.join("\n"), "/etc/users");
  const bcrypt = "only bcrypt is accepted; use htpasswd -B";
  assert.deepEqual(problems, [
    `"/etc/users" line 1: user "md5" has an MD5 (apr1) hash: ${bcrypt}`,
    `"/etc/users" line 2: user "sha" has a SHA-1 hash: ${bcrypt}`,
    `"/etc/users" line 3: user "plain" has a plain-text password or an unknown hash: ${bcrypt}`,
    `"/etc/users" line 4: user "des" has a crypt (DES) hash or a plain-text password: ${bcrypt}`,
    `"/etc/users" line 5: user "sha256" has a SHA-256-crypt hash: ${bcrypt}`,
    `"/etc/users" line 6: user "sha512" has a SHA-512-crypt hash: ${bcrypt}`,
    `"/etc/users" line 7: user "md5crypt" has an MD5-crypt hash: ${bcrypt}`,
    `"/etc/users" line 8: user "argon" has an Argon2 hash: ${bcrypt}`,
    `"/etc/users" line 9: user "broken" has a malformed bcrypt hash: ${bcrypt}`,
    `"/etc/users" line 10: user "cost" has a malformed bcrypt hash: ${bcrypt}`,
    `"/etc/users" line 11: user "empty" has no hash: ${bcrypt}`,
    `"/etc/users" line 12 is not "user:hash"`,
    `"/etc/users" line 13 is not "user:hash"`,
    `"/etc/users" line 15: user "twice" appears again (first on line 14)`,
  ]);
  assert.deepEqual([...file.users.keys()], ["twice"]);
  const text = problems.join("\n");
  for (const line of lines) {
    const hash = line.slice(line.indexOf(":") + 1);
    if (hash.length > 3) {
      assert.ok(!text.includes(hash), `the hash of ${line.split(":")[0]} is not shown`);
    }
  }
  assert.ok(!text.includes("hunter2"));
});

Deno.test("parseHtpasswd(): a file without users is a problem; odd user names are escaped", () => {
  assert.deepEqual(parseHtpasswd("# nobody yet\n\n", "/u").problems, [
    `"/u" holds no users: add them with htpasswd -B /u USER`,
  ]);
  const long = `${"x".repeat(100)}\u001b[31m:plain`;
  assert.deepEqual(parseHtpasswd(long, "/u").problems, [
    `"/u" line 1: user "${"x".repeat(64)}…" has a plain-text password or an unknown hash: ` +
    "only bcrypt is accepted; use htpasswd -B",
  ]);
  assert.deepEqual(parseHtpasswd("\u001b[31m:plain", "/u").problems, [
    `"/u" line 1: user "\\u001b[31m" has a plain-text password or an unknown hash: ` +
    "only bcrypt is accepted; use htpasswd -B",
  ]);
});
