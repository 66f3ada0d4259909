import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { findToken, parseTokensFile } from "./tokens_file.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

Deno.test("parseTokensFile() reads name:digest lines and findToken() finds the name", () => {
  const text = [
    "# CI and dashboards",
    `ci:${sha256("token-ci-1234")}`,
    "",
    `  grafana : ${sha256("token-grafana").toUpperCase()}  `,
    `team:ops:${sha256("token-ops")}`,
  ].join("\n");
  const { tokens, problems } = parseTokensFile(text, "/etc/tokens");
  assert.deepEqual(problems, []);
  assert.deepEqual(tokens.map((token) => token.name), ["ci", "grafana", "team:ops"]);
  assert.equal(findToken(tokens, "token-ci-1234"), "ci");
  assert.equal(findToken(tokens, "token-grafana"), "grafana");
  assert.equal(findToken(tokens, "token-ops"), "team:ops");
  assert.equal(findToken(tokens, "token-ci-123"), undefined);
  assert.equal(findToken(tokens, ""), undefined);
  assert.equal(findToken([], "token-ci-1234"), undefined);
});

Deno.test("parseTokensFile() reports bad lines without showing what they hold", () => {
  const text = [
    "ci:my-raw-secret-token",
    "no colon",
    `:${sha256("a")}`,
    `ci:${sha256("b")}`,
    `ci:${sha256("c")}`,
    `other:${sha256("b")}`,
    `short:${sha256("d").slice(1)}`,
  ].join("\n");
  const { tokens, problems } = parseTokensFile(text, "/t");
  const digest = "has no SHA-256 digest (64 hex digits) after the colon: write the digest of the " +
    "token, not the token";
  assert.deepEqual(problems, [
    `"/t" line 1: token "ci" ${digest}`,
    `"/t" line 2 is not "name:sha256-hex-of-token"`,
    `"/t" line 3 is not "name:sha256-hex-of-token"`,
    `"/t" line 5: token "ci" appears again (first on line 4)`,
    `"/t" line 6: token "other" has the same digest as line 4: one token, two names`,
    `"/t" line 7: token "short" ${digest}`,
  ]);
  assert.deepEqual(tokens.map((token) => token.name), ["ci"]);
  const shown = problems.join("\n");
  assert.ok(!shown.includes("my-raw-secret-token"));
  assert.ok(!shown.includes(sha256("b")));
  assert.deepEqual(parseTokensFile("# none\n", "/t").problems, [`"/t" holds no tokens`]);
});
