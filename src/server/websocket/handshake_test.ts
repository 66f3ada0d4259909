import assert from "node:assert/strict";
import {
  acceptKey,
  checkHandshake,
  type HandshakeRejected,
  rejectionResponse,
  type UpgradeRequest,
  upgradeResponse,
} from "./handshake.ts";
import { startServer } from "./_test_utils.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

const request = (
  headers: Record<string, string | undefined> = {},
  rest: Partial<UpgradeRequest> = {},
): UpgradeRequest => ({
  method: "GET",
  httpVersion: "1.1",
  headers: {
    "host": "logs.example:8080",
    "upgrade": "websocket",
    "connection": "Upgrade",
    "sec-websocket-version": "13",
    "sec-websocket-key": KEY,
    ...headers,
  },
  ...rest,
});

function rejected(result: ReturnType<typeof checkHandshake>): HandshakeRejected {
  assert.equal(result.ok, false, "expected a rejection");
  return result as HandshakeRejected;
}

Deno.test("acceptKey matches the example of RFC 6455", () => {
  assert.equal(acceptKey(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("checkHandshake accepts what browsers and libraries send", () => {
  assert.deepEqual(checkHandshake(request()), { ok: true, key: KEY, protocols: [] });
  const variants: Record<string, string>[] = [
    { "upgrade": "WebSocket" },
    { "upgrade": "h2c, websocket" },
    { "connection": "keep-alive, Upgrade" },
    { "connection": "upgrade" },
    { "sec-websocket-version": " 13 " },
    { "sec-websocket-extensions": "permessage-deflate; client_max_window_bits" },
  ];
  for (const headers of variants) {
    assert.equal(checkHandshake(request(headers)).ok, true, JSON.stringify(headers));
  }
  assert.equal(checkHandshake(request({}, { httpVersion: "2.0" })).ok, true);
  assert.deepEqual(checkHandshake(request({ "sec-websocket-protocol": "a, b.v2 ,, c" })), {
    ok: true,
    key: KEY,
    protocols: ["a", "b.v2", "c"],
  });
});

Deno.test("checkHandshake answers 426 to a request that is no WebSocket handshake", () => {
  for (const upgrade of [undefined, "", "h2c", "websockets"]) {
    const result = rejected(checkHandshake(request({ "upgrade": upgrade })));
    assert.equal(result.status, 426);
    assert.match(result.reason, /^Not a WebSocket handshake: expected "Upgrade: websocket"$/);
    assert.deepEqual(result.headers, {
      "Upgrade": "websocket",
      "Connection": "Upgrade",
      "Sec-WebSocket-Version": "13",
    });
  }
});

Deno.test("checkHandshake answers 426 naming version 13 to another version", () => {
  const old = rejected(checkHandshake(request({ "sec-websocket-version": "8" })));
  assert.equal(old.status, 426);
  assert.equal(old.reason, 'Unsupported WebSocket version "8": expected 13');
  assert.equal(old.headers["Sec-WebSocket-Version"], "13");
  const missing = rejected(checkHandshake(request({ "sec-websocket-version": undefined })));
  assert.equal(missing.status, 426);
  assert.equal(missing.reason, "Missing Sec-WebSocket-Version: expected 13");
  // Two version headers, joined by node:http.
  assert.equal(rejected(checkHandshake(request({ "sec-websocket-version": "13, 8" }))).status, 426);
});

Deno.test("checkHandshake answers 405 to a method other than GET", () => {
  const result = rejected(checkHandshake(request({}, { method: "POST" })));
  assert.deepEqual(result, {
    ok: false,
    status: 405,
    reason: 'Method "POST" is not allowed: expected GET',
    headers: { "Allow": "GET" },
  });
});

Deno.test("checkHandshake answers 400 to a malformed handshake", () => {
  const cases: [UpgradeRequest, string][] = [
    [request({}, { httpVersion: "1.0" }), 'HTTP version "1.0" cannot upgrade: expected 1.1'],
    [request({}, { httpVersion: "x" }), 'HTTP version "x" cannot upgrade: expected 1.1'],
    [request({ "host": undefined }), "Missing Host header"],
    [request({ "host": "" }), "Missing Host header"],
    [request({ "connection": undefined }), 'Missing "Connection: upgrade"'],
    [request({ "connection": "keep-alive" }), 'Missing "Connection: upgrade"'],
    [request({ "connection": "upgrades" }), 'Missing "Connection: upgrade"'],
    [request({ "sec-websocket-key": undefined }), "Missing Sec-WebSocket-Key"],
    [
      request({ "sec-websocket-key": "c2hvcnQ=" }),
      'Invalid Sec-WebSocket-Key "c2hvcnQ=": expected 16 bytes in base64',
    ],
    [
      request({ "sec-websocket-key": `${KEY}, ${KEY}` }),
      `Invalid Sec-WebSocket-Key "${KEY}, ${KEY}": expected 16 bytes in base64`,
    ],
    [
      request({ "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ" }),
      'Invalid Sec-WebSocket-Key "dGhlIHNhbXBsZSBub25jZQ": expected 16 bytes in base64',
    ],
    [
      request({ "sec-websocket-key": "x".repeat(5000) }),
      `Invalid Sec-WebSocket-Key "${"x".repeat(64)}…": expected 16 bytes in base64`,
    ],
  ];
  for (const [input, reason] of cases) {
    const result = rejected(checkHandshake(input));
    assert.deepEqual([result.status, result.reason], [400, reason]);
    assert.deepEqual(result.headers, {});
  }
});

Deno.test("upgradeResponse is the exact 101 response, with a subprotocol only when asked", () => {
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(
    decode(upgradeResponse(KEY)),
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
  );
  assert.equal(
    decode(upgradeResponse(KEY, { protocol: "logwisp.v1" })),
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: logwisp.v1\r\n\r\n",
  );
  assert.throws(
    () => upgradeResponse(KEY, { protocol: "a\r\nX-Injected: 1" }),
    /Invalid subprotocol "a\\r\\nX-Injected: 1"/,
  );
});

Deno.test("rejectionResponse is a complete HTTP response with a JSON body", () => {
  const result = rejected(checkHandshake(request({ "sec-websocket-version": "8" })));
  const body = '{"error":"Unsupported WebSocket version \\"8\\": expected 13"}';
  assert.equal(
    new TextDecoder().decode(rejectionResponse(result)),
    "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
      "Connection: Upgrade, close\r\nContent-Type: application/json\r\nCache-Control: no-cache\r\n" +
      `Content-Length: ${body.length}\r\n\r\n${body}`,
  );
  const method = rejected(checkHandshake(request({}, { method: "PUT" })));
  assert.match(
    new TextDecoder().decode(rejectionResponse(method)),
    /^HTTP\/1\.1 405 Method Not Allowed\r\nAllow: GET\r\nConnection: close\r\n/,
  );
});

Deno.test("A node:http server answers bad handshakes from real clients", async () => {
  await using server = await startServer();
  const plain = await fetch(`http://127.0.0.1:${server.port}/ws`);
  assert.equal(plain.status, 426);
  assert.equal(plain.headers.get("upgrade"), "websocket");
  assert.deepEqual(await plain.json(), {
    error: 'Not a WebSocket handshake: expected "Upgrade: websocket"',
  });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await conn.write(new TextEncoder().encode(
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  ));
  let answer = "";
  const buffer = new Uint8Array(4096);
  for (let read; (read = await conn.read(buffer)) !== null;) {
    answer += new TextDecoder().decode(buffer.subarray(0, read));
  }
  assert.match(answer, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  assert.match(answer, /\r\nSec-WebSocket-Version: 13\r\n/);
  assert.equal(server.sessions.length, 0);
});
