import assert from "node:assert/strict";
import { httpServerConfig, TEST_CLIENT, testHub } from "../_test_utils.ts";
import { OPEN_ACCESS } from "../config/defaults.ts";
import { wsCodec } from "./ws_codec.ts";
import { wsHandler } from "./ws_endpoint.ts";

const INFO = { stream: "app", streamPath: "/stream", statusPath: "/status", bufferSize: 5 };
const HANDSHAKE = {
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": "13",
  Host: "localhost",
};

function setup(corsOrigins: readonly string[] = ["*"]) {
  const config = httpServerConfig({ access: { ...OPEN_ACCESS, corsOrigins } });
  const shutdown = new AbortController();
  const handler = wsHandler({
    hub: testHub(),
    codec: wsCodec(INFO, config.heartbeat),
    config,
    shutdown: shutdown.signal,
  });
  const get = (query = "", headers: Record<string, string> = HANDSHAKE) =>
    handler(new Request(`http://localhost/ws${query}`, { headers }), TEST_CLIENT, {});
  return { shutdown, get };
}

Deno.test("wsHandler() accepts a handshake with 101 and the accept key", () => {
  const response = setup().get("?level=WARN&tail=10");
  assert.equal(response.status, 101);
  assert.equal(response.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert.equal(response.headers.get("upgrade"), "websocket");
});

Deno.test("wsHandler() refuses what is no handshake, a bad filter, a foreign origin, shutdown", async () => {
  const { get, shutdown } = setup(["https://logs.example"]);
  const plain = get("", { Host: "localhost" });
  assert.equal(plain.status, 426);
  assert.equal(plain.headers.get("sec-websocket-version"), "13");

  const bad = get("?grep=(");
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).parameter, "grep");

  const foreign = get("", { ...HANDSHAKE, Origin: "https://evil.example" });
  assert.equal(foreign.status, 403);
  assert.match((await foreign.json()).error, /Origin "https:\/\/evil\.example"/);
  assert.equal(get("", { ...HANDSHAKE, Origin: "https://logs.example" }).status, 101);
  // Non-browser clients send no Origin.
  assert.equal(get().status, 101);

  shutdown.abort();
  const late = get();
  assert.equal(late.status, 503);
  await late.body?.cancel();
  await plain.body?.cancel();
});
