import assert from "node:assert/strict";
import { headEnd, parseRequestHead } from "./request_head.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const parse = (text: string) => parseRequestHead(bytes(text));

Deno.test("headEnd() finds the blank line, CRLF or bare LF, across reads", () => {
  assert.equal(headEnd(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\nrest")), 27);
  assert.equal(headEnd(bytes("GET / HTTP/1.1\nHost: a\n\nrest")), 24);
  assert.equal(headEnd(bytes("GET / HTTP/1.1\r\nHost: a\r\n")), -1);
  const text = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(headEnd(text, 25), 27, "a search resumed near the end still sees the CRLF pair");
});

Deno.test("parseRequestHead() reads method, path, version, headers and connection handling", () => {
  const result = parse("GET /stream?level=WARN HTTP/1.1\r\nHost: logs:8080\r\nX-A:  b \r\n\r\n");
  assert.ok("head" in result);
  assert.deepEqual(result.head, {
    method: "GET",
    target: "/stream?level=WARN",
    version: "1.1",
    headers: [["host", "logs:8080"], ["x-a", "b"]],
    keepAlive: true,
    hasBody: false,
  });
  const closing = parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n");
  assert.ok("head" in closing && !closing.head.keepAlive);
  const old = parse("GET / HTTP/1.0\r\n\r\n");
  assert.ok("head" in old && !old.head.keepAlive && old.head.version === "1.0");
  const oldKept = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  assert.ok("head" in oldKept && oldKept.head.keepAlive);
  const body = parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
  assert.ok("head" in body && body.head.hasBody);
  const absolute = parse("GET http://other.example:81/status?x HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.ok("head" in absolute && absolute.head.target === "/status?x");
  const star = parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.ok("head" in star && star.head.target === "*");
});

Deno.test("parseRequestHead() accepts the hosts clients send", () => {
  for (
    const host of [
      "localhost",
      "logs.example.com:8443",
      "127.0.0.1:80",
      "[::1]:8080",
      "[::1]",
      "xn--bcher-kva.example",
      "a%20b",
    ]
  ) {
    assert.ok("head" in parse(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`), host);
  }
});

Deno.test("parseRequestHead() refuses what is not HTTP/1.x, with a status", () => {
  const cases: [string, number][] = [
    ["GET / HTTP/1.1\r\nHost: %zz\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: [::\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nNo colon\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400],
    ["GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET / a HTTP/1.1\r\n\r\n", 400],
    ["G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET relative HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET * HTTP/1.1\r\nHost: a\r\n\r\n", 405],
    ["TRACE /status HTTP/1.1\r\nHost: a\r\n\r\n", 405],
    ["CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 405],
    ["track / HTTP/1.1\r\nHost: a\r\n\r\n", 405],
    ["GET / HTTP/2\r\nHost: a\r\n\r\n", 505],
    ["GET / SPDY/3\r\nHost: a\r\n\r\n", 400],
    ["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400],
  ];
  for (const [text, status] of cases) {
    const result = parse(text);
    assert.ok("error" in result, JSON.stringify(text));
    assert.equal(result.error.status, status, JSON.stringify(text));
  }
});
