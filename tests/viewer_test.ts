/**
 * The web viewer (README "Viewer") in headless Chromium, served by the real CLI: entries
 * are JSON lines appended to the files a stream follows, a restart is a real stop and start
 * on the same port, and LogWisp runs with `--allow-read` of its temporary directory only,
 * so the page needs nothing from disk beyond the program itself.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Level } from "../src/entry/entry.ts";
import { tempDir, waitFor, within } from "../src/_test_utils.ts";
import {
  hasChromium,
  type HeadlessBrowser,
  launchBrowser,
  type OpenOptions,
  type RecordedPage,
} from "./_browser.ts";
import { freePort, getJson, type LogWisp, startLogWisp } from "./_logwisp.ts";

/** What a test writes: one JSON line in `source` (`app.log` unless given). */
interface TestEntry {
  readonly level?: Level;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
  /** The entry's time; the time it is read when absent. */
  readonly time?: string;
  readonly source?: string;
}

const SOURCES = ["app.log", "system.log"];

/** A stream named `name` following `app.log` and `system.log` in `dir`, JSON heartbeats on. */
function streamTable(dir: string, name: string, port: number): string {
  const targets = SOURCES.map((file) => `{ path = "${join(dir, name, file)}", is_file = true }`);
  return `
[[streams]]
name = "${name}"
[streams.monitor]
check_interval_ms = 50
targets = [${targets.join(", ")}]
[streams.httpserver]
enabled = true
host = "127.0.0.1"
port = ${port}
[streams.httpserver.heartbeat]
enabled = true
interval_seconds = 1
format = "json"
`;
}

/**
 * The real CLI for the viewer: `push` appends JSON lines to the stream's files, waiting for
 * LogWisp to have read one file before writing to the other so that entries keep their
 * order; `stop` and `start` restart it on the same port.
 */
class CliBackend implements AsyncDisposable {
  readonly origin: string;
  /** Whether the streams are served through the router. */
  readonly router: boolean;
  readonly #dir: { path: string } & AsyncDisposable;
  readonly #config: string;
  readonly #streams: readonly string[];
  #logwisp: LogWisp | undefined;
  /** Entries written to each stream since the current run started. */
  readonly #written = new Map<string, number>();
  readonly #lastSource = new Map<string, string>();

  private constructor(
    dir: { path: string } & AsyncDisposable,
    port: number,
    streams: readonly string[],
    router: boolean,
  ) {
    this.#dir = dir;
    this.#streams = streams;
    this.origin = `http://127.0.0.1:${port}`;
    this.#config = join(dir.path, "logwisp.toml");
    this.router = router;
  }

  /** LogWisp serving `streams` (each on its own port, or all through the router). */
  static async start(
    options: { streams?: readonly string[]; router?: boolean } = {},
  ): Promise<CliBackend> {
    const { streams = ["app"], router = false } = options;
    const dir = await tempDir("logwisp_viewer_");
    const port = freePort();
    const backend = new CliBackend(dir, port, streams, router);
    try {
      let toml = router ? `[router]\nport = ${port}\nhost = "127.0.0.1"\n` : "";
      for (const [i, name] of streams.entries()) {
        await Deno.mkdir(join(dir.path, name));
        for (const file of SOURCES) await Deno.writeTextFile(join(dir.path, name, file), "");
        toml += streamTable(dir.path, name, i === 0 ? port : freePort());
      }
      await Deno.writeTextFile(backend.#config, toml);
      await backend.start();
    } catch (error) {
      await backend[Symbol.asyncDispose]();
      throw error;
    }
    return backend;
  }

  /** Where a stream's endpoints are: `/app` through the router, `` on its own server. */
  prefix(stream = this.#streams[0]!): string {
    return this.router ? `/${stream}` : "";
  }

  /** The viewer page of `stream` (the first stream unless given). */
  viewerUrl(stream = this.#streams[0]!): string {
    return `${this.origin}${this.prefix(stream)}/`;
  }

  /** The stream's status document. */
  status(stream = this.#streams[0]!): Promise<Record<string, unknown>> {
    return getJson(`${this.origin}${this.prefix(stream)}/status`);
  }

  /** Appends `entries` (in order) to the stream's files. */
  async push(entries: readonly TestEntry[], stream = this.#streams[0]!): Promise<void> {
    let at = 0;
    while (at < entries.length) {
      const source = entries[at]!.source ?? "app.log";
      let end = at;
      let text = "";
      for (; end < entries.length && (entries[end]!.source ?? "app.log") === source; end++) {
        const { level, message, fields, time } = entries[end]!;
        text += JSON.stringify({ time, level, msg: message, ...fields }) + "\n";
      }
      const previous = this.#lastSource.get(stream);
      if (previous !== undefined && previous !== source) await this.#counted(stream);
      await Deno.writeTextFile(join(this.#dir.path, stream, source), text, { append: true });
      this.#written.set(stream, (this.#written.get(stream) ?? 0) + end - at);
      this.#lastSource.set(stream, source);
      at = end;
    }
  }

  /** Waits until LogWisp has read every entry written to `stream`. */
  async #counted(stream: string): Promise<void> {
    const written = this.#written.get(stream) ?? 0;
    await waitFor(async () => {
      const { monitor } = await this.status(stream) as { monitor: { total_entries: number } };
      return monitor.total_entries >= written;
    }, { intervalMs: 20, message: `LogWisp to read ${written} entries of "${stream}"` });
  }

  /** Starts LogWisp, allowed to read its temporary directory only. */
  async start(): Promise<void> {
    this.#written.clear();
    this.#lastSource.clear();
    this.#logwisp = await startLogWisp(
      ["--config", this.#config, "--quiet", ...(this.router ? ["--router"] : [])],
      { permissions: [`--allow-read=${this.#dir.path}`, "--allow-net"] },
    );
  }

  /** Stops LogWisp (its clients get `disconnect`); it must exit 0. */
  async stop(): Promise<void> {
    const exit = await this.#logwisp?.stop();
    this.#logwisp = undefined;
    assert.equal(exit?.code, 0);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.#logwisp?.[Symbol.asyncDispose]();
    } finally {
      await this.#dir[Symbol.asyncDispose]();
    }
  }
}

type Scenario = (browser: HeadlessBrowser, backend: CliBackend) => Promise<void>;

const LINE_CAP = 5000;
const DOCS = new URL("../docs/", import.meta.url);

/** What the page shows, row by row. */
interface Row {
  readonly level: string;
  readonly source: string;
  readonly message: string;
  readonly hidden: boolean;
  readonly marks: string[];
}

function rows(page: RecordedPage): Promise<Row[]> {
  // One evaluation for all rows: a handle per row would cost seconds at thousands.
  return page.page.$eval("#rows", (root) =>
    [...root.querySelectorAll(".row")].map((row) => ({
      level: row.querySelector(".lv")?.textContent.trim() ?? "",
      source: row.querySelector(".src")?.textContent.trim() ?? "",
      message: row.querySelector(".msg")?.textContent ?? "",
      hidden: row.hidden,
      marks: [...row.querySelectorAll("mark")].map((mark) => mark.textContent ?? ""),
    })));
}

async function shown(page: RecordedPage): Promise<string[]> {
  return (await rows(page)).filter((row) => !row.hidden).map((row) => row.message);
}

function connectionState(page: RecordedPage): Promise<string> {
  return page.page.$eval("#state", (element) => element.dataset.state ?? "");
}

function text(page: RecordedPage, selector: string): Promise<string> {
  return page.page.$eval(selector, (element) => element.textContent ?? "");
}

/** Waits until `check` holds for the page, polling it; fails with what the page showed. */
async function until(
  page: RecordedPage,
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  try {
    await waitFor(check, { timeoutMs, intervalMs: 25, message: what });
  } catch (error) {
    const state = await text(page, "#state").catch(() => "?");
    const messages = JSON.stringify(await shown(page).catch(() => [])).slice(0, 400);
    throw new Error(`${(error as Error).message}; page: ${state} ${messages}`);
  }
}

function streamRequests(page: RecordedPage) {
  return page.requests.filter((request) => request.type === "eventsource");
}

async function openViewer(
  browser: HeadlessBrowser,
  viewerUrl: string,
  options: { query?: string } & OpenOptions = {},
): Promise<RecordedPage> {
  const { query = "", ...open } = options;
  const page = await browser.open(viewerUrl + query, open);
  await until(page, async () => await connectionState(page) === "connected", "connected");
  return page;
}

const SAMPLE: TestEntry[] = [
  { level: "INFO", message: "Server started on :8080", fields: { pid: 4242, version: "1.0.0" } },
  { level: "DEBUG", message: "Loaded 12 routes" },
  { level: "WARN", message: "Disk almost full: 91% used on /var", source: "system.log" },
  { level: "ERROR", message: "Connection timeout after 30s to db-1", fields: { retry: 3 } },
  { message: "plain line without a level" },
  { level: "TRACE", message: "tick", source: "system.log" },
  { level: "FATAL", message: "Out of memory: killing worker 7" },
  { level: "INFO", message: "GET /api/users 200 12ms", fields: { user_id: "12345" } },
  { level: "ERROR", message: "Request TIMEOUT while calling payments", source: "system.log" },
];

const TIMEOUTS = SAMPLE.filter((entry) => /timeout/i.test(entry.message)).map((entry) =>
  entry.message
);

const scenarios: Record<string, Scenario> = {
  async "loads from its own origin only, without errors, and shows entries as text"(
    browser,
    backend,
  ) {
    await using page = await openViewer(browser, backend.viewerUrl());
    const hostile = `<img src=x onerror="document.title='pwned'"><script>alert(1)</script>`;
    await backend.push([...SAMPLE, { level: "WARN", message: hostile }]);
    await until(page, async () => (await rows(page)).length === SAMPLE.length + 1, "all rows");
    // Heartbeats (every second) never become rows.
    await until(page, async () => {
      const { server } = await backend.status() as { server: { uptime_seconds: number } };
      return server.uptime_seconds >= 2;
    }, "a heartbeat or two");
    const shownRows = await rows(page);
    assert.deepEqual(shownRows.map((row) => row.message), [
      ...SAMPLE.map((entry) => entry.message),
      hostile,
    ]);
    assert.deepEqual(
      shownRows.map((row) => row.level),
      [...SAMPLE.map((entry) => entry.level ?? ""), "WARN"],
    );
    assert.deepEqual(
      shownRows.map((row) => row.source),
      [...SAMPLE.map((entry) => entry.source ?? "app.log"), "app.log"],
    );
    assert.equal(await page.page.$$eval("#rows img, #rows script", (found) => found.length), 0);
    assert.equal(await page.page.title(), "app · LogWisp");
    assert.deepEqual(page.consoleErrors, []);
    assert.deepEqual(page.pageErrors, []);
    // The policy's Trusted Types rule refuses any HTML parsed from a string.
    assert.equal(
      await page.page.$eval("body", (body) => {
        try {
          body.insertAdjacentHTML("beforeend", "<b>x</b>");
          return "parsed";
        } catch (error) {
          return (error as Error).name;
        }
      }),
      "TypeError",
    );

    // Fields open as pretty JSON, as text.
    await page.page.click(".row .fx");
    assert.equal(
      await text(page, ".row pre.fields"),
      JSON.stringify(SAMPLE[0]!.fields, null, 2),
    );
    assert.equal(await page.page.$eval(".row .fx", (b) => b.getAttribute("aria-expanded")), "true");

    const elsewhere = page.requests.filter((request) =>
      !request.url.startsWith("data:") && new URL(request.url).origin !== backend.origin
    );
    assert.deepEqual(elsewhere, [], "requests to another origin");
    const [stream] = streamRequests(page);
    assert.equal(new URL(stream!.url).pathname, "/stream");
    assert.equal(new URL(stream!.url).searchParams.get("tail"), "200");
    assert.equal(await page.page.$eval("#status-link", (a) => a.getAttribute("href")), "/status");

    // Every control has an accessible name.
    const snapshot = await page.page.accessibility.snapshot({ interestingOnly: false });
    const unnamed: string[] = [];
    const controls = new Set(["button", "textbox", "searchbox", "spinbutton", "link"]);
    const walk = (node: NonNullable<typeof snapshot>) => {
      if (controls.has(node.role) && !node.name?.trim()) unnamed.push(node.role);
      for (const child of node.children ?? []) walk(child);
    };
    walk(snapshot!);
    assert.deepEqual(unnamed, [], "controls without an accessible name");
  },

  async "level chips and source pills hide and show the right rows"(browser, backend) {
    await using page = await openViewer(browser, backend.viewerUrl());
    await backend.push(SAMPLE);
    await until(page, async () => (await rows(page)).length === SAMPLE.length, "all rows");

    await page.page.click("#levels .chip-ERROR");
    assert.deepEqual(
      await shown(page),
      SAMPLE.filter((entry) => entry.level !== "ERROR").map((entry) => entry.message),
    );
    await page.page.click("#levels .chip-ERROR");
    await page.page.click('#levels [aria-label="No level"]');
    assert.equal((await shown(page)).length, SAMPLE.length - 1);
    await page.page.click('#levels [aria-label="No level"]');

    const pill = await page.page.waitForSelector(
      '#sources button[title="Entries from system.log"]',
    );
    await pill!.click();
    assert.deepEqual(
      await shown(page),
      SAMPLE.filter((entry) => entry.source !== "system.log").map((entry) => entry.message),
    );
    await pill!.click();
    assert.equal((await shown(page)).length, SAMPLE.length);
  },

  async "a shared URL opens with its filter, sent as grep, and marks the matches"(
    browser,
    backend,
  ) {
    await using page = await openViewer(browser, backend.viewerUrl(), {
      query: "?q=dis%5Bk%5D&regex=1&access_token=t0k3n",
    });
    assert.equal(await page.page.$eval("#filter", (e) => e.value), "dis[k]");
    const params = new URL(streamRequests(page)[0]!.url).searchParams;
    assert.equal(params.get("grep"), "dis[k]");
    assert.equal(params.get("icase"), "1");
    // A token the page was given reaches the stream and the status link, which need it too.
    assert.equal(params.get("access_token"), "t0k3n");
    assert.equal(
      await page.page.$eval("#status-link", (a) => a.getAttribute("href")),
      "/status?access_token=t0k3n",
    );
    // Whether or not the server filters, the page shows the matching entries only.
    await backend.push(SAMPLE);
    await until(
      page,
      async () => JSON.stringify(await shown(page)) === JSON.stringify([SAMPLE[2]!.message]),
      "the one matching row",
    );
    assert.deepEqual((await rows(page)).find((row) => !row.hidden)!.marks, ["Disk"]);
  },

  async "pause counts what arrives and shows it on resume; clear empties the page"(
    browser,
    backend,
  ) {
    await using page = await openViewer(browser, backend.viewerUrl());
    await backend.push(SAMPLE.slice(0, 2));
    await until(page, async () => (await rows(page)).length === 2, "two rows");
    await page.page.keyboard.press("Space");
    assert.equal(await page.page.$eval("#pause", (e) => e.getAttribute("aria-pressed")), "true");
    await backend.push(SAMPLE.slice(2, 7));
    await until(page, async () => await text(page, "#pending") === "5 new", "5 pending");
    assert.equal((await rows(page)).length, 2);
    await page.page.keyboard.press("Space");
    await until(page, async () => (await rows(page)).length === 7, "seven rows");
    assert.equal(await page.page.$eval("#pending", (e) => e.hidden), true);
    assert.deepEqual(await shown(page), SAMPLE.slice(0, 7).map((entry) => entry.message));

    await page.page.click("#clear");
    assert.equal((await rows(page)).length, 0);
    await backend.push(SAMPLE.slice(7, 8));
    await until(page, async () => (await rows(page)).length === 1, "one row after clear");
  },

  async "follow stops when scrolled up; End jumps to the latest; UTC and wrap toggle"(
    browser,
    backend,
  ) {
    await using page = await openViewer(browser, backend.viewerUrl());
    const many = Array.from({ length: 300 }, (_, i) => ({
      message: `line ${i}`,
      time: "2024-03-05T06:07:08.123456Z",
    }));
    await backend.push(many);
    const atEnd = () =>
      page.page.$eval("#log", (log) => log.scrollHeight - log.scrollTop - log.clientHeight < 2);
    await until(page, async () => (await rows(page)).length === 300 && await atEnd(), "followed");
    assert.equal(await page.page.$eval("#latest", (e) => e.hidden), true);

    await page.page.$eval("#log", (log) => log.scrollTop = 0);
    await until(
      page,
      () => page.page.$eval("#latest", (e) => !e.hidden),
      "the jump button",
    );
    await backend.push([{ message: "newest" }]);
    await until(page, async () => (await rows(page)).length === 301, "the new row");
    assert.equal(await page.page.$eval("#log", (log) => log.scrollTop), 0);
    await page.page.focus("#log");
    await page.page.keyboard.press("End");
    await until(page, atEnd, "at the end again");
    assert.equal(await page.page.$eval("#latest", (e) => e.hidden), true);

    const time = () => text(page, ".row .t");
    assert.doesNotMatch(await time(), /Z/);
    await page.page.click("#utc");
    assert.equal(await time(), "03-05 06:07:08.123Z ");
    await page.page.click("#wrap");
    assert.equal(await page.page.$eval("#log", (e) => e.classList.contains("wrap")), false);
  },

  async "a restart is survived: Last-Event-ID on reconnect, then the gap notice"(
    browser,
    backend,
  ) {
    await using page = await openViewer(browser, backend.viewerUrl());
    await backend.push(SAMPLE.slice(0, 3));
    await until(page, async () => (await rows(page)).length === 3, "three rows");
    const lastId = await page.page.$eval("#state", (e) => e.dataset.lastId);
    assert.ok(lastId, "the page shows the last entry's id");
    const before = streamRequests(page).length;

    await backend.stop();
    await until(
      page,
      async () => (await text(page, "#state")).includes("the server shut down"),
      "the page telling why",
    );
    assert.notEqual(await connectionState(page), "connected");
    await backend.start();
    await until(
      page,
      async () =>
        streamRequests(page).length > before && await connectionState(page) === "connected",
      "reconnected",
      20_000,
    );
    const resumed = streamRequests(page).at(-1)!;
    const sent = resumed.headers["last-event-id"] ??
      new URL(resumed.url).searchParams.get("last_event_id");
    assert.equal(sent, lastId, "Last-Event-ID on reconnect");
    // The new run cannot resume the old one's ids: it says so instead of skipping silently.
    await until(page, () => page.page.$eval(".gap-row", () => true).catch(() => false), "gap");
    assert.match(await text(page, ".gap-row"), /missed/);
    assert.match(await text(page, "#notice"), /missed/);
    await backend.push(SAMPLE.slice(3, 5));
    await until(page, async () => (await rows(page)).length === 5, "the new run's rows");
    assert.deepEqual(page.pageErrors, []);
  },

  async "20,000 entries at 5,000/s leave at most the line cap of rows"(browser, backend) {
    await using page = await openViewer(browser, backend.viewerUrl());
    // Long tasks and the most rows at any frame, recorded by the page itself.
    await page.page.$eval("#rows", (rowsElement) => {
      const window = rowsElement.ownerDocument.defaultView;
      const probe = { longestTask: 0, longTasks: 0, maxRows: 0 };
      window.logwispProbe = probe;
      new window.PerformanceObserver((list: { getEntries(): { duration: number }[] }) => {
        for (const task of list.getEntries()) {
          probe.longTasks++;
          probe.longestTask = Math.max(probe.longestTask, task.duration);
        }
      }).observe({ type: "longtask" });
      const sample = () => {
        let count = 0;
        for (const chunk of rowsElement.children) count += chunk.childElementCount;
        probe.maxRows = Math.max(probe.maxRows, count);
        window.requestAnimationFrame(sample);
      };
      window.requestAnimationFrame(sample);
    });
    const cdp = await page.page.createCDPSession();
    // JavaScript objects, and the DOM (Blink's own heap), in MiB.
    const heap = async () => {
      const usage = await cdp.send("Runtime.getHeapUsage");
      return { js: usage.usedSize / 2 ** 20, dom: usage.embedderHeapUsedSize / 2 ** 20 };
    };
    await cdp.send("HeapProfiler.collectGarbage");
    const heapBefore = await heap();
    const heapPeak = { ...heapBefore };

    const total = 20_000;
    const perBatch = 100;
    const batchMs = (perBatch / 5000) * 1000;
    const start = performance.now();
    // Sampled beside the writer, so a busy page never delays what is written.
    let sending = true;
    const sampling = (async () => {
      while (sending) {
        const now = await heap();
        heapPeak.js = Math.max(heapPeak.js, now.js);
        heapPeak.dom = Math.max(heapPeak.dom, now.dom);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    try {
      for (let sent = 0; sent < total; sent += perBatch) {
        const due = start + (sent / perBatch) * batchMs;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
        await backend.push(Array.from({ length: perBatch }, (_, i): TestEntry => ({
          level: (["INFO", "DEBUG", "WARN", "ERROR"] as const)[(sent + i) % 4]!,
          message: `burst entry ${sent + i} ${"x".repeat((sent + i) % 120)}`,
          ...((sent + i) % 10 === 0 && { fields: { n: sent + i, path: "/api/items" } }),
        })));
      }
    } finally {
      sending = false;
      await sampling;
    }
    const sentMs = performance.now() - start;
    await until(
      page,
      () =>
        page.page.$eval(
          "#rows",
          (e, last) =>
            e.lastElementChild?.lastElementChild?.querySelector(".msg")?.textContent
              ?.startsWith(last),
          `burst entry ${total - 1} `,
        ).then(Boolean),
      "the last entry",
      30_000,
    );
    const shownMs = performance.now() - start;
    const probe: { longestTask: number; longTasks: number; maxRows: number } = await page.page
      .$eval("body", (body) => body.ownerDocument.defaultView.logwispProbe);
    await cdp.send("HeapProfiler.collectGarbage");
    const heapAfter = await heap();
    await cdp.detach();
    const rowCount = await page.page.$eval("#rows", (e) => e.querySelectorAll(".row").length);
    assert.equal(rowCount, LINE_CAP);
    assert.ok(probe.maxRows <= LINE_CAP, `${probe.maxRows} rows at one point`);
    const { monitor } = await backend.status() as { monitor: { dropped_entries: number } };
    const mib = (sizes: { js: number; dom: number }) =>
      `${sizes.js.toFixed(1)} MiB JS + ${sizes.dom.toFixed(1)} MiB DOM`;
    // deno-lint-ignore no-console
    console.log(
      `burst: ${total} entries written in ${sentMs.toFixed(0)} ms, the last shown after ` +
        `${shownMs.toFixed(0)} ms; ${rowCount} rows (at most ${probe.maxRows} in any frame); ` +
        `heap ${mib(heapBefore)} before, peak ${mib(heapPeak)}, ${mib(heapAfter)} after GC; ` +
        `longest task ${probe.longestTask.toFixed(0)} ms (${probe.longTasks} tasks over 50 ms); ` +
        `${monitor.dropped_entries} dropped for the page`,
    );
  },

  async "copy and download give the lines shown as NDJSON"(browser, backend) {
    await using page = await openViewer(browser, backend.viewerUrl());
    await backend.push(SAMPLE);
    await until(page, async () => (await rows(page)).length === SAMPLE.length, "all rows");
    await page.page.click("#levels .chip-ERROR");
    const expected = SAMPLE.filter((entry) => entry.level !== "ERROR").map((entry) =>
      entry.message
    );
    const messages = (ndjson: string) => {
      assert.match(ndjson, /\n$/);
      return ndjson.trimEnd().split("\n").map((line) => JSON.parse(line).message);
    };

    await browser.browser.defaultBrowserContext().overridePermissions(backend.origin, [
      "clipboard-read",
      "clipboard-sanitized-write",
    ]);
    await page.page.click("#copy");
    await until(page, async () => (await text(page, "#notice")).startsWith("Copied"), "copied");
    const copied = await page.page.$eval(
      "body",
      (body) => body.ownerDocument.defaultView.navigator.clipboard.readText(),
    );
    assert.deepEqual(messages(copied), expected);

    await using downloads = await tempDir("logwisp_downloads_");
    const cdp = await browser.browser.target().createCDPSession();
    const done = Promise.withResolvers<void>();
    cdp.on("Browser.downloadProgress", (event) => {
      if (event.state === "completed") done.resolve();
      if (event.state === "canceled") done.reject(new Error("Download canceled"));
    });
    await cdp.send("Browser.setDownloadBehavior", {
      behavior: "allowAndName",
      downloadPath: downloads.path,
      eventsEnabled: true,
    });
    try {
      await page.page.click("#download");
      await within(done.promise, 10_000, "the download");
    } finally {
      await cdp.detach();
    }
    const [file] = [...Deno.readDirSync(downloads.path)];
    assert.deepEqual(messages(await Deno.readTextFile(join(downloads.path, file!.name))), expected);
  },

  async "light and dark themes follow the system setting"(browser, backend) {
    // Fixed times in a fixed zone: the screenshots change only when the page does.
    const sample = SAMPLE.map((entry, i) => ({
      ...entry,
      time: `2026-12-02T09:30:${String(i * 3).padStart(2, "0")}.${String(123456 + i * 7919)}Z`,
    }));
    const backgrounds: string[] = [];
    for (const colorScheme of ["light", "dark"] as const) {
      if (colorScheme === "dark") {
        // A new run, so that the second page does not get the first one's entries as its tail.
        await backend.stop();
        await backend.start();
      }
      await using page = await openViewer(browser, backend.viewerUrl(), {
        colorScheme,
        timezone: "UTC",
      });
      await backend.push(sample);
      await until(page, async () => (await rows(page)).length === SAMPLE.length, "all rows");
      await page.page.click(".row .fx");
      await page.page.mouse.move(600, 690);
      backgrounds.push(
        await page.page.$eval(
          "body",
          (body) => body.ownerDocument.defaultView.getComputedStyle(body).backgroundColor,
        ),
      );
      const png = await page.page.screenshot({ type: "png" });
      await Deno.writeFile(new URL(`viewer-${colorScheme}.png`, DOCS), png);
      const colours = await distinctColours(browser, png);
      assert.ok(colours > 50, `${colorScheme} screenshot has ${colours} distinct colours`);
    }
    assert.match(backgrounds[0]!, /rgb\(255, 255, 255\)/);
    assert.match(backgrounds[1]!, /rgb\(13, 17, 23\)/);
  },
};

/**
 * What needs the server's own filters (`grep`, `tail`): the view starts over with what the
 * server sends for a filter, and a pattern the server refuses is shown, not retried.
 */
const serverFilterScenarios: Record<string, Scenario> = {
  async "the filter applies at once, then reaches the server and the URL; Esc clears it"(
    browser,
    backend,
  ) {
    // Written before the page opens: only `tail` brings them.
    await backend.push(SAMPLE);
    await using page = await openViewer(browser, backend.viewerUrl());
    await until(page, async () => (await rows(page)).length === SAMPLE.length, "the tail");

    await page.page.type("#filter", "timeout");
    await until(
      page,
      async () => JSON.stringify(await shown(page)) === JSON.stringify(TIMEOUTS),
      "only the matching rows",
    );
    await until(
      page,
      async () =>
        streamRequests(page).some((request) => {
          const params = new URL(request.url).searchParams;
          return params.get("grep") === "timeout" && params.get("icase") === "1" &&
            params.get("tail") === "200";
        }) && await connectionState(page) === "connected",
      "a stream request with grep=timeout",
    );
    assert.equal(new URL(page.page.url()).search, "?q=timeout");
    // The view started over with what the server sends for the filter.
    await until(
      page,
      async () =>
        JSON.stringify((await rows(page)).map((row) => row.message)) ===
          JSON.stringify(TIMEOUTS),
      "the server's matching entries only",
    );
    assert.deepEqual((await rows(page)).map((row) => row.marks), [["timeout"], ["TIMEOUT"]]);

    await page.page.keyboard.press("Escape");
    await until(
      page,
      async () => (await rows(page)).length === SAMPLE.length,
      "every row back after Esc",
    );
    assert.equal(new URL(page.page.url()).search, "");
    assert.equal(new URL(streamRequests(page).at(-1)!.url).searchParams.get("grep"), null);
  },

  async "a pattern the server refuses is shown, not retried in a loop"(browser, backend) {
    await using page = await openViewer(browser, backend.viewerUrl());
    await page.page.click("#regex");
    await page.page.focus("#filter");
    await page.page.keyboard.type("(a)\\1");
    await until(
      page,
      async () => (await text(page, "#filter-error")).includes("backreferences"),
      "the server's message",
    );
    assert.equal(await connectionState(page), "disconnected");
    assert.equal(await page.page.$eval("#filter", (e) => e.getAttribute("aria-invalid")), "true");
    const refused = () =>
      streamRequests(page).filter((request) =>
        new URL(request.url).searchParams.get("grep") === "(a)\\1"
      ).length;
    assert.equal(refused(), 1);
    await page.page.keyboard.press("Backspace");
    await page.page.keyboard.press("Backspace");
    await until(page, async () => await connectionState(page) === "connected", "reconnected");
    assert.equal(refused(), 1);
    assert.equal(await page.page.$eval("#filter", (e) => e.getAttribute("aria-invalid")), "false");
  },
};

/** Distinct RGB colours in a PNG, counted by the browser's own decoder. */
async function distinctColours(browser: HeadlessBrowser, png: Uint8Array): Promise<number> {
  await using blank = await browser.open("about:blank");
  const dataUrl = `data:image/png;base64,${
    btoa(Array.from(png, (b) => String.fromCharCode(b)).join(""))
  }`;
  return await blank.page.$eval("body", async (body, url) => {
    const document = body.ownerDocument;
    const image = document.createElement("img");
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d")!;
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, image.width, image.height);
    const seen = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    }
    return seen.size;
  }, dataUrl);
}

/** Whether this LogWisp filters on the server: an unknown level is then a `400`. */
async function filtersOnServer(backend: CliBackend): Promise<boolean> {
  const response = await fetch(`${backend.origin}${backend.prefix()}/stream?level=NOPE`);
  await response.body?.cancel();
  return response.status === 400;
}

Deno.test({
  name: "web viewer in headless Chromium, served by the CLI",
  ignore: !hasChromium,
  fn: async (t) => {
    await using browser = await launchBrowser();
    for (const [name, scenario] of Object.entries(scenarios)) {
      await t.step(name, async () => {
        await using backend = await CliBackend.start();
        await scenario(browser, backend);
      });
    }
    const filters = await (async () => {
      await using backend = await CliBackend.start();
      return await filtersOnServer(backend);
    })();
    for (const [name, scenario] of Object.entries(serverFilterScenarios)) {
      await t.step({
        name,
        ignore: !filters,
        fn: async () => {
          await using backend = await CliBackend.start();
          await scenario(browser, backend);
        },
      });
    }

    await t.step("router mode: an index links to every stream's viewer at /{name}/", async () => {
      await using backend = await CliBackend.start({ streams: ["app", "system"], router: true });
      await using index = await browser.open(`${backend.origin}/`);
      const links = await index.page.$$eval(
        ".streams a",
        (found) => found.map((link) => [link.textContent, link.getAttribute("href")]),
      );
      assert.deepEqual(links, [["app", "/app/"], ["system", "/system/"]]);
      assert.deepEqual(index.consoleErrors, []);
      assert.deepEqual(index.requests.map((request) => request.type), ["document"]);

      await Promise.all([
        index.page.waitForNavigation(),
        index.page.click('.streams a[href="/system/"]'),
      ]);
      await until(index, async () => await connectionState(index) === "connected", "connected");
      assert.equal(await index.page.title(), "system · LogWisp");
      assert.equal(new URL(streamRequests(index)[0]!.url).pathname, "/system/stream");
      await backend.push([{ level: "INFO", message: "through the router" }], "system");
      await backend.push([{ level: "INFO", message: "not for this page" }], "app");
      await until(
        index,
        async () => JSON.stringify(await shown(index)) === '["through the router"]',
        "the system stream's entry",
      );
      assert.equal(
        await index.page.$eval("#status-link", (a) => a.getAttribute("href")),
        "/system/status",
      );
      assert.deepEqual(index.pageErrors, []);
    });
  },
});
