import assert from "node:assert/strict";
import type { MonitorStats } from "../monitor/monitor.ts";
import { httpServerConfig, tcpServerConfig, testHub } from "../_test_utils.ts";
import { sseCodec } from "../server/sse.ts";
import { tcpCodec } from "../server/tcp_server.ts";
import type { Codec } from "../stream/codec.ts";
import { formatConsoleStats } from "./console_stats.ts";

const monitor = (activeWatchers: number, totalEntries: number): MonitorStats => ({
  activeWatchers,
  totalEntries,
  rotations: 0,
  truncatedLines: 0,
  readErrors: 0,
  bytesRead: 0,
  rotationsBy: {},
  watchers: [],
  targets: [],
});

Deno.test("formatConsoleStats() prints the console lines of the README, with drops only when there are some", () => {
  const app = testHub(10);
  const tcp = tcpCodec(tcpServerConfig().heartbeat);
  const sse = sseCodec(
    { stream: "app", streamPath: "/stream", statusPath: "/status", bufferSize: 10 },
    httpServerConfig().heartbeat,
  );
  const subscribe = (codec: Codec, entries: number) =>
    app.subscribe({ codec, remoteAddr: "a", limits: { entries, bytes: 1 << 20 } });
  subscribe(tcp, 1);
  subscribe(sse, 10);
  subscribe(sse, 10);
  app.publish({ time: "t", source: "a.log", message: "one" });
  app.publish({ time: "t", source: "a.log", message: "two" });
  const text = formatConsoleStats([
    {
      name: "app",
      state: "running",
      uptimeSeconds: 5,
      monitor: monitor(3, 1542),
      hub: app,
      http: { port: 1, codecs: [sse] },
      tcp: { port: 2, codecs: [tcp] },
    },
    { name: "system", state: "running", uptimeSeconds: 5, monitor: monitor(2, 0), hub: testHub(0) },
  ], new Date(2024, 0, 1, 15, 4, 5));
  assert.equal(
    text,
    "[15:04:05] Active streams: 2\n" +
      "  app: watchers=3 entries=1542 tcp_conns=1 http_conns=2 dropped=1\n" +
      "  system: watchers=2 entries=0 tcp_conns=0 http_conns=0\n",
  );
});
