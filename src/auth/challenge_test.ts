import assert from "node:assert/strict";
import {
  authErrorBody,
  basicChallenge,
  bearerChallenge,
  TCP_UNAUTHORIZED_LINE,
} from "./challenge.ts";

Deno.test("challenges follow RFC 7617 and RFC 6750", () => {
  assert.equal(basicChallenge("LogWisp"), 'Basic realm="LogWisp", charset="UTF-8"');
  assert.equal(bearerChallenge("LogWisp", false), 'Bearer realm="LogWisp"');
  assert.equal(bearerChallenge("LogWisp", true), 'Bearer realm="LogWisp", error="invalid_token"');
});

Deno.test("realms are quoted strings a header can carry", () => {
  assert.equal(basicChallenge('a "b" \\c'), 'Basic realm="a \\"b\\" \\\\c", charset="UTF-8"');
  assert.equal(
    bearerChallenge("line\r\nSet-Cookie: x=1", false),
    'Bearer realm="lineSet-Cookie: x=1"',
  );
  assert.equal(bearerChallenge("café\ttab", false), 'Bearer realm="caf\ttab"');
  new Headers({ "WWW-Authenticate": basicChallenge('\u0000\u2028é"') });
});

Deno.test("refusal bodies and the TCP line are JSON", () => {
  assert.deepEqual(JSON.parse(authErrorBody({ status: 401, reason: "expired" })), {
    error: "unauthorized",
    reason: "expired",
  });
  assert.deepEqual(JSON.parse(authErrorBody({ status: 403, reason: "forbidden_subject" })), {
    error: "forbidden",
    reason: "forbidden_subject",
  });
  assert.deepEqual(JSON.parse(TCP_UNAUTHORIZED_LINE), { type: "error", error: "unauthorized" });
  assert.ok(TCP_UNAUTHORIZED_LINE.endsWith("}\n"));
});
