import assert from "node:assert/strict";
import { configIssues, validateToml } from "../_test_utils.ts";
const STREAM = `
[[streams]]
name = "app"
[streams.monitor]
targets = [{ path = "/var/log/app.log", is_file = true }]
[streams.httpserver]
enabled = true
port = 8080
`;

function validate(transform: string) {
  return validateToml(`${STREAM}[streams.transform]\n${transform}`);
}

function issuesOf(transform: string): { key: string; message: string }[] {
  return configIssues(`${STREAM}[streams.transform]\n${transform}`)
    .map(({ key, message }) => ({ key: key ?? "", message }));
}

Deno.test("readTransform() reads every key of [streams.transform]", () => {
  const [stream] = validate(`
min_level = "info"
include = ["a", "(?i)b"]
exclude = ["^health"]
redact = ["email", "ipv4", "ipv6", "bearer_token", "jwt", "credit_card", "aws_access_key"]
redact_patterns = [{ pattern = "password=\\\\S+", replacement = "password=[REDACTED]" }, { pattern = "x+" }]
drop_fields = ["password", "token"]
add_fields = { host = "web-1", env = "prod" }
strip_ansi = true
`).streams;
  assert.deepEqual(stream!.transform, {
    minLevel: "INFO",
    include: ["a", "(?i)b"],
    exclude: ["^health"],
    redact: ["email", "ipv4", "ipv6", "bearer_token", "jwt", "credit_card", "aws_access_key"],
    redactPatterns: [
      { pattern: "password=\\S+", replacement: "password=[REDACTED]" },
      { pattern: "x+", replacement: "[REDACTED]" },
    ],
    dropFields: ["password", "token"],
    addFields: { host: "web-1", env: "prod" },
    stripAnsi: true,
  });
});

Deno.test("readTransform() leaves streams without the table untouched", () => {
  const config = validateToml(STREAM);
  assert.equal(config.streams[0]!.transform, undefined);
});

Deno.test("readTransform() reports every problem at its key path", () => {
  const issues = issuesOf(`
min_level = "LOUD"
include = ["(", 3]
redact = ["emial"]
redact_patterns = [{ pattern = "a*" }, { pattern = "(x)", replacement = "$2" }, { replacement = "y" }]
drop_fields = "token"
add_fields = { host = 1 }
strip_ansi = "yes"
colour = true
`);
  const key = "streams[0].transform";
  const byKey = new Map(issues.map(({ key, message }) => [key, message]));
  assert.deepEqual([...byKey.keys()].sort(), [
    `${key}.add_fields.host`,
    `${key}.colour`,
    `${key}.drop_fields`,
    `${key}.include[0]`,
    `${key}.include[1]`,
    `${key}.min_level`,
    `${key}.redact[0]`,
    `${key}.redact_patterns[0].pattern`,
    `${key}.redact_patterns[1].replacement`,
    `${key}.redact_patterns[2].pattern`,
    `${key}.strip_ansi`,
  ]);
  assert.match(byKey.get(`${key}.min_level`)!, /^unknown level "LOUD"/);
  assert.match(byKey.get(`${key}.redact[0]`)!, /did you mean "email"\?/);
  assert.match(byKey.get(`${key}.include[0]`)!, /^invalid regular expression/);
  assert.match(byKey.get(`${key}.redact_patterns[0].pattern`)!, /matches the empty string/);
  assert.match(byKey.get(`${key}.redact_patterns[1].replacement`)!, /group \$2/);
  assert.match(byKey.get(`${key}.redact_patterns[2].pattern`)!, /^required/);
  assert.equal(byKey.get(`${key}.colour`), "unknown key");
});
