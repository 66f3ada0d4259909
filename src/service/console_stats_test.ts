import assert from "node:assert/strict";
import type { MonitorStats } from "../monitor/monitor.ts";
import { Hub } from "../stream/hub.ts";
import { formatConsoleStats } from "./console_stats.ts";

const monitor = (activeWatchers: number, totalEntries: number): MonitorStats => ({
  activeWatchers,
  totalEntries,
  rotations: 0,
  truncatedLines: 0,
  readErrors: 0,
  watchers: [],
});

Deno.test("formatConsoleStats() prints the SPEC §7 lines, with drops only when there are some", () => {
  const app = new Hub(10);
  app.subscribe({ transport: "tcp", remoteAddr: "a", bufferSize: 1 });
  app.subscribe({ transport: "sse", remoteAddr: "b", bufferSize: 10 });
  app.subscribe({ transport: "sse", remoteAddr: "c", bufferSize: 10 });
  app.publish({ time: "t", source: "a.log", message: "one" });
  app.publish({ time: "t", source: "a.log", message: "two" });
  const system = new Hub(0);
  const text = formatConsoleStats([
    { name: "app", uptimeSeconds: 5, monitor: monitor(3, 1542), hub: app },
    { name: "system", uptimeSeconds: 5, monitor: monitor(2, 0), hub: system },
  ], new Date(2024, 0, 1, 15, 4, 5));
  assert.equal(
    text,
    "[15:04:05] Active streams: 2\n" +
      "  app: watchers=3 entries=1542 tcp_conns=1 http_conns=2 dropped=1\n" +
      "  system: watchers=2 entries=0 tcp_conns=0 http_conns=0\n",
  );
});
