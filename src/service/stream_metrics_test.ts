import assert from "node:assert/strict";
import { httpServerConfig, tcpServerConfig, testHub } from "../_test_utils.ts";
import { Histogram } from "../metrics/histogram.ts";
import { sseCodec } from "../server/sse.ts";
import { tcpCodec } from "../server/tcp_server.ts";
import { wsCodec } from "../server/ws_codec.ts";
import { streamMetrics } from "./stream_metrics.ts";

const latency = new Histogram([1]).snapshot();
const codecOptions = {
  stream: "app",
  streamPath: "/stream",
  statusPath: "/status",
  bufferSize: 10,
};

Deno.test("streamMetrics(): ws beside sse, every refusal reason from zero, auth failures, certificate expiry", () => {
  const hub = testHub(10);
  const heartbeat = httpServerConfig().heartbeat;
  const [sse, ws] = [sseCodec(codecOptions, heartbeat), wsCodec(codecOptions, heartbeat)];
  hub.subscribe({ codec: ws, remoteAddr: "a", limits: { entries: 10, bytes: 1 << 20 } });
  const notAfter = new Date(Date.UTC(2027, 0, 1));
  const metrics = streamMetrics({
    name: "app",
    state: "running",
    uptimeSeconds: 1,
    hub,
    filteredEntries: 4,
    http: {
      port: 1,
      codecs: [sse, ws],
      refused: new Map([["auth_failure", 2], ["tls_error", 1]]),
      authFailures: new Map([["invalid", 1], ["expired", 1]]),
      tls: { subject: "CN=localhost", notAfter, clientCertificates: false },
    },
    tcp: {
      port: 2,
      codecs: [tcpCodec(tcpServerConfig().heartbeat)],
      refused: new Map([["auth_failure", 1]]),
      authFailures: new Map([["invalid", 1]]),
    },
  }, latency);
  assert.deepEqual(metrics.transports, ["sse", "ws", "tcp"]);
  assert.equal(metrics.clients.get("ws"), 1);
  assert.equal(metrics.filteredEntries, 4);
  assert.deepEqual(metrics.authFailures, { missing: 0, invalid: 2, expired: 1 });
  assert.deepEqual(metrics.tlsExpiry, { http: notAfter.getTime() / 1000 });
  assert.deepEqual(Object.fromEntries(metrics.refusals[0]!.counts), {
    max_connections: 0,
    max_connections_per_ip: 0,
    denied: 0,
    rate_limited: 0,
    tls_error: 1,
    auth_failure: 2,
  });
  assert.equal(metrics.refusals[1]!.transport, "tcp");
  assert.equal(metrics.publish, undefined);
});

Deno.test("streamMetrics(): the publisher's numbers from the stream's publish status", () => {
  const metrics = streamMetrics({
    name: "app",
    state: "running",
    uptimeSeconds: 1,
    hub: testHub(10),
    nats: {
      publish: {
        type: "nats",
        state: "blocked",
        subject: "logwisp.h.app",
        published_entries: 10,
        duplicates: 1,
        pending_entries: 5,
        retries: 2,
        shortened_entries: 0,
      },
    },
  }, latency);
  assert.deepEqual(metrics.publish, { state: "blocked", published: 10, pending: 5 });
  assert.deepEqual(metrics.authFailures, { missing: 0, invalid: 0 });
  assert.deepEqual(metrics.refusals, []);
});
