/**
 * A real browser as the client: headless Chromium opens a page (served by this test on
 * another origin) whose script uses `EventSource` against LogWisp, like the original
 * README's JavaScript example, and posts what it receives back to the test.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { append, tempDir, waitFor, which, within } from "../src/_test_utils.ts";
import {
  freePort,
  getJson,
  serversToml,
  startLogWisp,
  streamToml,
  writeConfig,
} from "./_logwisp.ts";

const PAGE = (streamUrl: string) =>
  `<!doctype html>
<meta charset="utf-8">
<title>LogWisp EventSource</title>
<script>
  const report = (kind, data) =>
    fetch("/report", { method: "POST", body: JSON.stringify({ kind, data }) });
  const eventSource = new EventSource(${JSON.stringify(streamUrl)});
  eventSource.addEventListener("connected", (e) => {
    const data = JSON.parse(e.data);
    report("connected", data.client_id);
  });
  eventSource.addEventListener("message", (e) => {
    const entry = JSON.parse(e.data);
    report("message", { id: e.lastEventId, level: entry.level, message: entry.message });
  });
  eventSource.addEventListener("error", () => report("error", eventSource.readyState));
</script>`;

/** The Chromium binary, or undefined when none is installed (`apt-get install chromium`). */
const chromium = ["chromium", "chromium-browser", "google-chrome"].map(which).find(Boolean);

Deno.test({
  name: "headless Chromium receives entries through EventSource",
  ignore: chromium === undefined,
  fn: async () => {
    await using dir = await tempDir("logwisp_browser_");
    const log = join(dir.path, "app.log");
    await Deno.writeTextFile(log, "");
    const port = freePort();
    const config = await writeConfig(
      dir.path,
      streamToml(dir.path, "app", serversToml({ httpPort: port })),
    );
    await using logwisp = await startLogWisp(["--config", config, "--quiet"]);

    // The page comes from another origin, as a dashboard would: CORS is part of the test.
    const reports: { kind: string; data: unknown }[] = [];
    const connected = Promise.withResolvers<void>();
    await using page = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        const url = new URL(req.url);
        if (url.pathname === "/report") {
          const report = await req.json();
          reports.push(report);
          if (report.kind === "connected") connected.resolve();
          return new Response(null, { status: 204 });
        }
        return new Response(PAGE(`http://127.0.0.1:${port}/stream`), {
          headers: { "Content-Type": "text/html; charset=utf-8" },
        });
      },
    );

    const browser = new Deno.Command(chromium!, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        `--user-data-dir=${join(dir.path, "chromium")}`,
        `http://127.0.0.1:${page.addr.port}/`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const seen = () => `reports: ${JSON.stringify(reports)}`;
      await within(connected.promise, 30_000, seen);
      await append(log, "WARN disk almost full\nplain line\n");
      await waitFor(() => reports.filter((report) => report.kind === "message").length >= 2, {
        timeoutMs: 15_000,
        message: seen,
      });
      const messages = reports.filter((report) => report.kind === "message")
        .map((r) => r.data as { id: string });
      const run = messages[0]?.id.split("-")[0];
      assert.deepEqual(messages, [
        { id: `${run}-1`, level: "WARN", message: "WARN disk almost full" },
        { id: `${run}-2`, message: "plain line" },
      ]);
      const status = await getJson(`http://127.0.0.1:${port}/status`) as {
        server: { active_clients: number };
      };
      assert.equal(status.server.active_clients, 1);
    } finally {
      browser.kill("SIGKILL");
      await browser.status;
    }
    assert.equal((await logwisp.stop()).code, 0);
  },
});
