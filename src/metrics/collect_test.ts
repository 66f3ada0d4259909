import assert from "node:assert/strict";
import { collectMetrics, type StreamMetrics, sumHistograms } from "./collect.ts";
import { Histogram } from "./histogram.ts";

function stream(name: string, overrides: Partial<StreamMetrics> = {}): StreamMetrics {
  return {
    stream: name,
    entries: 10,
    bytesRead: 100,
    filteredEntries: 0,
    truncatedLines: 1,
    readErrors: 0,
    rotations: { inode_change: 2 },
    files: { following: 3 },
    transports: ["sse", "tcp"],
    clients: new Map([["sse", 2]]),
    totals: new Map([["sse", {
      connections: 5,
      entriesSent: 40,
      bytesSent: 4000,
      dropped: 3,
      slowDisconnected: 1,
      filterDisconnected: 0,
    }]]),
    refusals: [{ transport: "tcp", counts: new Map([["max_connections", 4]]) }],
    authFailures: {},
    tlsExpiry: {},
    latency: new Histogram([0.001, 0.01]).snapshot(),
    ...overrides,
  };
}

Deno.test("collectMetrics() writes each stream's numbers, zeros for transports without clients yet", async () => {
  const text = await collectMetrics({ streams: [stream("app")] });
  for (
    const line of [
      'logwisp_entries_total{stream="app"} 10',
      'logwisp_bytes_read_total{stream="app"} 100',
      'logwisp_truncated_lines_total{stream="app"} 1',
      'logwisp_rotations_total{stream="app",reason="inode_change"} 2',
      'logwisp_watched_files{stream="app",state="following"} 3',
      'logwisp_clients{stream="app",transport="sse"} 2',
      'logwisp_clients{stream="app",transport="tcp"} 0',
      'logwisp_connections_total{stream="app",transport="sse"} 5',
      'logwisp_connections_total{stream="app",transport="tcp"} 0',
      'logwisp_entries_dropped_total{stream="app",transport="sse"} 3',
      'logwisp_slow_clients_disconnected_total{stream="app"} 1',
      'logwisp_expensive_filters_disconnected_total{stream="app"} 0',
      'logwisp_connections_rejected_total{stream="app",transport="tcp",reason="max_connections"} 4',
      "logwisp_read_to_send_seconds_count 0",
    ]
  ) {
    assert.ok(text.split("\n").includes(line), `${line} in:\n${text}`);
  }
  assert.match(text, /^process_cpu_seconds_total \d/m);
});

Deno.test('collectMetrics(): one latency histogram for all streams; shared refusals add up under stream=""', async () => {
  const a = new Histogram([0.001, 0.01]);
  a.observe(0.0005);
  const b = new Histogram([0.001, 0.01]);
  b.observe(0.005, 2);
  const text = await collectMetrics({
    streams: [stream("a", { latency: a.snapshot() }), stream("b", { latency: b.snapshot() })],
    shared: [
      { transport: "http", counts: new Map([["max_connections", 1]]) },
      { transport: "http", counts: new Map([["max_connections", 2], ["denied", 1]]) },
    ],
    sharedTlsExpiry: { router: 1_900_000_000 },
  });
  assert.match(text, /^logwisp_read_to_send_seconds_bucket\{le="0.001"\} 1$/m);
  assert.match(text, /^logwisp_read_to_send_seconds_bucket\{le="0.01"\} 3$/m);
  assert.match(text, /^logwisp_read_to_send_seconds_count 3$/m);
  assert.match(
    text,
    /^logwisp_connections_rejected_total\{stream="",transport="http",reason="max_connections"\} 3$/m,
  );
  assert.match(
    text,
    /^logwisp_connections_rejected_total\{stream="",transport="http",reason="denied"\} 1$/m,
  );
  assert.match(
    text,
    /^logwisp_tls_certificate_expiry_timestamp_seconds\{stream="",server="router"\} 1900000000$/m,
  );
});

Deno.test("collectMetrics() writes auth failures, certificate expiry and the publisher's numbers", async () => {
  const text = await collectMetrics({
    streams: [
      stream("app", {
        authFailures: { rejected: 2 },
        tlsExpiry: { http: 1_800_000_000, tcp: 1_800_086_400 },
        publish: { state: "reconnecting", published: 7, pending: 3 },
      }),
      stream("quiet"),
    ],
  });
  for (
    const line of [
      'logwisp_auth_failures_total{stream="app",reason="rejected"} 2',
      'logwisp_tls_certificate_expiry_timestamp_seconds{stream="app",server="http"} 1800000000',
      'logwisp_tls_certificate_expiry_timestamp_seconds{stream="app",server="tcp"} 1800086400',
      'logwisp_publish_state{stream="app",state="connected"} 0',
      'logwisp_publish_state{stream="app",state="reconnecting"} 1',
      'logwisp_publish_state{stream="app",state="blocked"} 0',
      'logwisp_published_entries_total{stream="app"} 7',
      'logwisp_publish_pending{stream="app"} 3',
    ]
  ) {
    assert.ok(text.split("\n").includes(line), `${line} in:\n${text}`);
  }
  // A stream that does not publish and serves no TLS has no such samples.
  assert.doesNotMatch(text, /^logwisp_(publish|tls)\w*\{stream="quiet"/m);
});

Deno.test("sumHistograms() of none is undefined and leaves its inputs alone", () => {
  assert.equal(sumHistograms([]), undefined);
  const one = new Histogram([1]);
  one.observe(0.5);
  const snapshot = one.snapshot();
  const sum = sumHistograms([snapshot, snapshot])!;
  assert.deepEqual(sum, { buckets: [{ le: 1, count: 2 }], count: 2, sum: 1 });
  assert.equal(snapshot.buckets[0]!.count, 1);
});
