import assert from "node:assert/strict";
import type { RedactDetector } from "../config/types.ts";
import {
  compileRedactor,
  isIpv6,
  luhnValid,
  REDACT_DETECTORS,
  redactCardNumber,
  REDACTION_MARKERS,
} from "./redact.ts";

type Cases = readonly [input: string, expected: string][];

async function check(t: Deno.TestContext, detector: RedactDetector, cases: Cases) {
  const redact = compileRedactor([detector])!;
  for (const [input, expected] of cases) {
    await t.step(input, () => assert.equal(redact(input), expected));
  }
}

Deno.test("email", async (t) => {
  const m = REDACTION_MARKERS.email;
  await check(t, "email", [
    ["mail to alice@example.com now", `mail to ${m} now`],
    ["<Bob.Smith+tag@mail.example.co.uk>", `<${m}>`],
    ["user=first_last%x@sub-domain.example.org.", `user=${m}.`],
    ["two: a@b.io, c@d.io", `two: ${m}, ${m}`],
    ["https://user:pass@example.com/path", `https://user:${m}/path`],
    // Negatives: no domain with a dot and a letter top-level domain.
    ["npm i lodash@4.17.21", "npm i lodash@4.17.21"],
    ["user@localhost", "user@localhost"],
    ["@handle and a@b", "@handle and a@b"],
    ["price 5@3.50", "price 5@3.50"],
    ["alice@example.c0m", "alice@example.c0m"],
  ]);
});

Deno.test("ipv4", async (t) => {
  const m = REDACTION_MARKERS.ipv4;
  await check(t, "ipv4", [
    ["from 10.0.0.12 port 22", `from ${m} port 22`],
    ["client=192.168.1.254:8080", `client=${m}:8080`],
    ["255.255.255.255 and 0.0.0.0", `${m} and ${m}`],
    ["net 10.0.0.0/8.", `net ${m}/8.`],
    ["[127.0.0.1]", `[${m}]`],
    // Negatives: versions, out-of-range octets, longer dotted numbers, leading zeros.
    ["version 1.2.3", "version 1.2.3"],
    ["999.1.1.1", "999.1.1.1"],
    ["256.1.1.1", "256.1.1.1"],
    ["1.2.3.4.5", "1.2.3.4.5"],
    ["v1.2.3.4", "v1.2.3.4"],
    ["1.2.3.4a", "1.2.3.4a"],
    ["01.2.3.4", "01.2.3.4"],
    ["took 12.5.1 s at 12:34:56.789", "took 12.5.1 s at 12:34:56.789"],
  ]);
});

Deno.test("ipv6", async (t) => {
  const m = REDACTION_MARKERS.ipv6;
  await check(t, "ipv6", [
    ["from 2001:db8:85a3:0:0:8a2e:370:7334 ok", `from ${m} ok`],
    ["from 2001:DB8::1 ok", `from ${m} ok`],
    ["[::1]:443", `[${m}]:443`],
    ["fe80::1%eth0", `${m}%eth0`],
    ["mapped ::ffff:192.168.1.1.", `mapped ${m}.`],
    ["addr:fe80::a:b", `addr:${m}`],
    ["1::", m],
    // Negatives: times, MAC addresses, too many groups, C++ scopes, a bare "::".
    ["at 12:34:56 and 12:34:56.789012", "at 12:34:56 and 12:34:56.789012"],
    ["mac 00:1a:2b:3c:4d:5e", "mac 00:1a:2b:3c:4d:5e"],
    ["1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"],
    ["1::2::3", "1::2::3"],
    ["12345::1", "12345::1"],
    ["std::vector and Foo::Bar", "std::vector and Foo::Bar"],
    ["key :: value", "key :: value"],
    ["::ffff:999.1.1.1", "::ffff:999.1.1.1"],
  ]);
});

Deno.test("isIpv6() follows the address grammar", () => {
  for (
    const text of ["::1", "1::", "a:b:c:d:e:f:0:1", "a::b", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4"]
  ) {
    assert.equal(isIpv6(text), true, text);
  }
  for (const text of ["::", ":", "1:2", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "g::1"]) {
    assert.equal(isIpv6(text), false, text);
  }
  assert.equal(isIpv6("1:2:3:4:5:6:7:1.2.3.4"), false);
  assert.equal(isIpv6("1:2:3:4:5:6:7::"), true);
});

Deno.test("bearer_token", async (t) => {
  const m = REDACTION_MARKERS.bearer_token;
  await check(t, "bearer_token", [
    ["Authorization: Bearer abc.def-123_x", `Authorization: Bearer ${m}`],
    ["authorization: basic dXNlcjpwYXNz", `authorization: basic ${m}`],
    ["Proxy-Authorization:Token t0k3n", `Proxy-Authorization:Token ${m}`],
    ["authorization=s3cr3t&x=1", `authorization=${m}&x=1`],
    ['{"Authorization":"Bearer abcdefgh12"}', `{"Authorization":"Bearer ${m}"}`],
    ["sent bearer AbCdEfGh1234== upstream", `sent bearer ${m} upstream`],
    ["BEARER abcdefghij", `BEARER ${m}`],
    // Negatives: prose, and a header name without a value.
    ["the bearer of bad news", "the bearer of bad news"],
    ["Authorization header missing", "Authorization header missing"],
    ["authorization:", "authorization:"],
  ]);
});

Deno.test("jwt", async (t) => {
  const m = REDACTION_MARKERS.jwt;
  const token =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  await check(t, "jwt", [
    [`token=${token}&x=1`, `token=${m}&x=1`],
    [`"${token}"`, `"${m}"`],
    ["unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", `unsigned ${m}`],
    // Negatives: one or two segments, or not starting with eyJ.
    ["eyJhbGciOiJIUzI1NiJ9 alone", "eyJhbGciOiJIUzI1NiJ9 alone"],
    ["eyJhbGci.eyJzdWIi", "eyJhbGci.eyJzdWIi"],
    ["abc.def.ghi", "abc.def.ghi"],
    ["xeyJhbGci.eyJzdWIi.sig", "xeyJhbGci.eyJzdWIi.sig"],
  ]);
});

Deno.test("aws_access_key", async (t) => {
  const m = REDACTION_MARKERS.aws_access_key;
  await check(t, "aws_access_key", [
    ["key AKIAIOSFODNN7EXAMPLE used", `key ${m} used`],
    ["id=ASIAY34FZKBOKMUTVV7A,", `id=${m},`],
    // Negatives: wrong length, lower case, other prefixes, inside a longer word.
    ["AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPL"],
    ["AKIAIOSFODNN7EXAMPLE1", "AKIAIOSFODNN7EXAMPLE1"],
    ["akiaiosfodnn7example", "akiaiosfodnn7example"],
    ["AIDAIOSFODNN7EXAMPLE", "AIDAIOSFODNN7EXAMPLE"],
    ["XAKIAIOSFODNN7EXAMPLE", "XAKIAIOSFODNN7EXAMPLE"],
  ]);
});

Deno.test("credit_card", async (t) => {
  const m = REDACTION_MARKERS.credit_card;
  await check(t, "credit_card", [
    ["card 4111111111111111 ok", `card ${m} ok`],
    ["card=4111 1111 1111 1111.", `card=${m}.`],
    ["5555-5555-5555-4444", m],
    ["amex 3782 822463 10005", `amex ${m}`],
    ["visa13 4222222222222", `visa13 ${m}`],
    ["4111 1111 1111 1111 2024", `${m} 2024`],
    // Negatives: Luhn fails, epoch timestamps, too short or long, decimals, IDs.
    ["card 4111111111111112 ok", "card 4111111111111112 ok"],
    ["ts=1704110400123 and 1704110400123456", "ts=1704110400123 and 1704110400123456"],
    ["order 411111111111", "order 411111111111"],
    ["41111111111111111111111", "41111111111111111111111"],
    ["0.4111111111111111", "0.4111111111111111"],
    ["4111111111111111.5", "4111111111111111.5"],
    ["id-x4111111111111111", "id-x4111111111111111"],
    ["2024-01-01 12:00:00", "2024-01-01 12:00:00"],
    ["4111--1111-1111-1111", "4111--1111-1111-1111"],
  ]);
});

Deno.test("luhnValid() and redactCardNumber()", () => {
  assert.equal(luhnValid("4111111111111111"), true);
  assert.equal(luhnValid("4111111111111112"), false);
  assert.equal(luhnValid("79927398713"), true);
  assert.equal(redactCardNumber(4111111111111111), REDACTION_MARKERS.credit_card);
  assert.equal(redactCardNumber(4111111111111112), undefined);
  assert.equal(redactCardNumber(1704110400123), undefined);
  assert.equal(redactCardNumber(42), undefined);
  assert.equal(redactCardNumber(4111111111111111.5), undefined);
});

Deno.test("compileRedactor() applies patterns, then every detector in a fixed order", () => {
  assert.equal(compileRedactor([]), undefined);
  const all = compileRedactor([...REDACT_DETECTORS].reverse(), [
    { regex: /password=\S+/g, replacement: "password=[REDACTED]" },
    { regex: /user=(\w+)/g, replacement: "user=$1!" },
  ])!;
  const line = "user=bob password=alice@example.com from 10.0.0.1 " +
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig card 4111111111111111";
  assert.equal(
    all(line),
    "user=bob! password=[REDACTED] from [REDACTED:ipv4] Authorization: Bearer " +
      "[REDACTED:bearer_token] card [REDACTED:credit_card]",
  );
  // Nothing to redact: the very same string.
  const plain = "2024-01-01T12:00:00Z INFO worker-3 handled request in 12ms";
  assert.equal(all(plain), plain);
  const markers = Object.values(REDACTION_MARKERS).join(" ");
  assert.equal(all(markers), markers);
});

Deno.test("detectors take linear time on hostile text", () => {
  const redact = compileRedactor(REDACT_DETECTORS)!;
  const hostile = [
    "a".repeat(200_000),
    `${"a.".repeat(100_000)}@`,
    `${"a@".repeat(100_000)}`,
    `x@${"a.".repeat(100_000)}1`,
    "1".repeat(200_000),
    "4 ".repeat(100_000),
    "1.".repeat(100_000),
    ":".repeat(200_000),
    "a:".repeat(100_000),
    `${"bearer ".repeat(30_000)}`,
    `authorization: ${"=".repeat(100_000)}`,
    `eyJ${"a.".repeat(100_000)}`,
  ];
  // Each would take minutes if any detector were quadratic.
  for (const text of hostile) assert.equal(typeof redact(text), "string");
});
