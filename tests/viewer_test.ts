/**
 * The web viewer in headless Chromium, against a server that speaks LogWisp's SSE wire
 * format. Each scenario takes a {@linkcode Backend}: today the fake server from
 * `src/viewer/testdata`, which can also inject gaps; the real CLI fits the same interface
 * (push = append lines to a followed file, restart = stop and start the process).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir, waitFor, within } from "../src/_test_utils.ts";
import { FakeStreamServer, type TestEntry } from "../src/viewer/testdata/fake_stream_server.ts";
import { indexResponse } from "../src/viewer/viewer_page.ts";
import {
  hasChromium,
  type HeadlessBrowser,
  launchBrowser,
  type OpenOptions,
  type RecordedPage,
} from "./_browser.ts";

/** What a scenario needs of a LogWisp: its viewer, and a way to feed and restart it. */
interface Backend extends AsyncDisposable {
  /** The viewer page of the stream under test. */
  readonly viewerUrl: string;
  /** Makes `entries` reach the stream (in order), each with `source` `app.log` unless given. */
  push(entries: readonly TestEntry[]): Promise<void>;
  /** Stops the server (clients get `disconnect`) and starts it again on the same port. */
  restart(): Promise<void>;
}

function fakeBackend(): Backend {
  const server = FakeStreamServer.start();
  return {
    viewerUrl: `${server.origin}/`,
    push: (entries) => Promise.resolve(server.push(entries)),
    restart: () => server.restart(),
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

type Scenario = (browser: HeadlessBrowser, backend: Backend) => Promise<void>;

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
    const state = await connectionState(page).catch(() => "?");
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

const scenarios: Record<string, Scenario> = {
  async "loads from its own origin only, without errors, and shows entries as text"(
    browser,
    backend,
  ) {
    await using page = await openViewer(browser, backend.viewerUrl);
    const hostile = `<img src=x onerror="document.title='pwned'"><script>alert(1)</script>`;
    await backend.push([...SAMPLE, { level: "WARN", message: hostile }]);
    await until(page, async () => (await rows(page)).length === SAMPLE.length + 1, "all rows");
    const shownRows = await rows(page);
    assert.deepEqual(shownRows.map((row) => row.message), [
      ...SAMPLE.map((entry) => entry.message),
      hostile,
    ]);
    assert.deepEqual(
      shownRows.map((row) => row.level),
      [...SAMPLE.map((entry) => entry.level ?? ""), "WARN"],
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

    const origin = new URL(backend.viewerUrl).origin;
    const elsewhere = page.requests.filter((request) =>
      !request.url.startsWith("data:") && new URL(request.url).origin !== origin
    );
    assert.deepEqual(elsewhere, [], "requests to another origin");
    const [stream] = streamRequests(page);
    assert.equal(new URL(stream!.url).searchParams.get("tail"), "200");

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

  async "level chips, source pills and the filter hide and show the right rows"(
    browser,
    backend,
  ) {
    await using page = await openViewer(browser, backend.viewerUrl);
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

    // The filter applies at once in the page, then reaches the server and the URL.
    const timeouts = SAMPLE.filter((entry) => /timeout/i.test(entry.message))
      .map((entry) => entry.message);
    await page.page.type("#filter", "timeout");
    await until(
      page,
      async () => JSON.stringify(await shown(page)) === JSON.stringify(timeouts),
      "only the matching rows",
    );
    assert.deepEqual(
      (await rows(page)).filter((row) => !row.hidden).map((row) => row.marks),
      [["timeout"], ["TIMEOUT"]],
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
          JSON.stringify(timeouts),
      "the server's matching entries only",
    );

    // Esc clears the filter everywhere.
    await page.page.keyboard.press("Escape");
    await until(
      page,
      async () => (await rows(page)).length === SAMPLE.length,
      "every row back after Esc",
    );
    assert.equal(new URL(page.page.url()).search, "");
    assert.equal(new URL(streamRequests(page).at(-1)!.url).searchParams.get("grep"), null);

    // A pattern the server refuses is shown, not retried in a loop.
    await page.page.click("#regex");
    await page.page.focus("#filter");
    await page.page.keyboard.type("(a)\\1");
    await until(
      page,
      async () => (await text(page, "#filter-error")).includes("backreferences are not supported"),
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

  async "a shared URL opens with its filter"(browser, backend) {
    await backend.push(SAMPLE);
    await using page = await openViewer(browser, backend.viewerUrl, {
      query: "?q=dis%5Bk%5D&regex=1",
    });
    assert.equal(await page.page.$eval("#filter", (e) => e.value), "dis[k]");
    assert.equal(new URL(streamRequests(page)[0]!.url).searchParams.get("grep"), "dis[k]");
    await until(page, async () => (await rows(page)).length === 1, "the one matching row");
    assert.deepEqual((await rows(page))[0]!.marks, ["Disk"]);
  },

  async "pause counts what arrives and shows it on resume; clear empties the page"(
    browser,
    backend,
  ) {
    await using page = await openViewer(browser, backend.viewerUrl);
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
    await using page = await openViewer(browser, backend.viewerUrl);
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
    await using page = await openViewer(browser, backend.viewerUrl);
    await backend.push(SAMPLE.slice(0, 3));
    await until(page, async () => (await rows(page)).length === 3, "three rows");
    const lastId = await page.page.$eval("#state", (e) => e.dataset.lastId);
    assert.ok(lastId, "the page shows the last entry's id");
    const before = streamRequests(page).length;
    await backend.restart();
    await until(
      page,
      async () => ["reconnecting", "disconnected"].includes(await connectionState(page)),
      "the page noticing",
    );
    await until(
      page,
      async () =>
        streamRequests(page).length > before && await connectionState(page) === "connected",
      "reconnected",
      15_000,
    );
    const resumed = streamRequests(page).at(-1)!;
    assert.equal(resumed.headers["last-event-id"], lastId, "Last-Event-ID on reconnect");
    await until(page, () => page.page.$eval(".gap-row", () => true).catch(() => false), "gap");
    assert.match(await text(page, ".gap-row"), /were missed/);
    assert.match(await text(page, "#notice"), /were missed/);
    await backend.push(SAMPLE.slice(3, 5));
    await until(page, async () => (await rows(page)).length === 5, "the new run's rows");
  },

  async "20,000 entries at 5,000/s leave at most the line cap of rows"(browser, backend) {
    await using page = await openViewer(browser, backend.viewerUrl);
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
    // Sampled beside the sender, so a busy page never delays what is sent.
    let sending = true;
    const sampling = (async () => {
      while (sending) {
        const now = await heap();
        heapPeak.js = Math.max(heapPeak.js, now.js);
        heapPeak.dom = Math.max(heapPeak.dom, now.dom);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    for (let sent = 0; sent < total; sent += perBatch) {
      const due = start + (sent / perBatch) * batchMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      await backend.push(Array.from({ length: perBatch }, (_, i): TestEntry => ({
        level: (["INFO", "DEBUG", "WARN", "ERROR"] as const)[(sent + i) % 4]!,
        message: `burst entry ${sent + i} ${"x".repeat((sent + i) % 120)}`,
        ...((sent + i) % 10 === 0 && { fields: { n: sent + i, path: "/api/items" } }),
      })));
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
    sending = false;
    await sampling;
    const probe: { longestTask: number; longTasks: number; maxRows: number } = await page.page
      .$eval("body", (body) => body.ownerDocument.defaultView.logwispProbe);
    await cdp.send("HeapProfiler.collectGarbage");
    const heapAfter = await heap();
    await cdp.detach();
    const rowCount = await page.page.$eval("#rows", (e) => e.querySelectorAll(".row").length);
    assert.equal(rowCount, LINE_CAP);
    assert.ok(probe.maxRows <= LINE_CAP, `${probe.maxRows} rows at one point`);
    const mib = (sizes: { js: number; dom: number }) =>
      `${sizes.js.toFixed(1)} MiB JS + ${sizes.dom.toFixed(1)} MiB DOM`;
    // deno-lint-ignore no-console
    console.log(
      `burst: ${total} entries sent in ${sentMs.toFixed(0)} ms, the last shown after ` +
        `${shownMs.toFixed(0)} ms; ${rowCount} rows (at most ${probe.maxRows} in any frame); ` +
        `heap ${mib(heapBefore)} before, peak ${mib(heapPeak)}, ${mib(heapAfter)} after GC; ` +
        `longest task ${probe.longestTask.toFixed(0)} ms (${probe.longTasks} tasks over 50 ms)`,
    );
  },

  async "copy and download give the lines shown as NDJSON"(browser, backend) {
    await using page = await openViewer(browser, backend.viewerUrl);
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

    const origin = new URL(backend.viewerUrl).origin;
    await browser.browser.defaultBrowserContext().overridePermissions(origin, [
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
    await backend.push(SAMPLE.map((entry, i) => ({
      ...entry,
      time: `2026-12-02T09:30:${String(i * 3).padStart(2, "0")}.${String(123456 + i * 7919)}Z`,
    })));
    const backgrounds: string[] = [];
    for (const colorScheme of ["light", "dark"] as const) {
      await using page = await openViewer(browser, backend.viewerUrl, {
        colorScheme,
        timezone: "UTC",
      });
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

Deno.test({
  name: "web viewer in headless Chromium",
  ignore: !hasChromium,
  fn: async (t) => {
    await using browser = await launchBrowser();
    for (const [name, scenario] of Object.entries(scenarios)) {
      await t.step(name, async () => {
        await using backend = fakeBackend();
        await scenario(browser, backend);
      });
    }
    await t.step("heartbeats, a dropped stream, a gap and a disconnect (fake server)", async () => {
      await using server = FakeStreamServer.start();
      await using page = await openViewer(browser, `${server.origin}/`);
      server.push(SAMPLE.slice(0, 2));
      server.heartbeat();
      server.push(SAMPLE.slice(2, 3));
      await until(page, async () => (await rows(page)).length === 3, "three rows, no heartbeat");

      // A stream cut without a word resumes after the last entry, with nothing missed.
      server.drop();
      await until(
        page,
        async () => server.requests.length === 2 && await connectionState(page) === "connected",
        "reconnected",
      );
      assert.equal(server.requests[1]!.lastEventId, "1-3");
      server.push(SAMPLE.slice(3, 4));
      await until(page, async () => (await rows(page)).length === 4, "four rows");
      assert.equal(await page.page.$("#rows .gap-row"), null);

      server.gap("1-5", "1-9");
      await until(page, async () => (await page.page.$("#rows .gap-row")) !== null, "gap row");
      assert.match(await text(page, "#notice"), /1-5 to 1-9 were missed/);
      assert.equal(
        await text(page, "#rows .gap-row"),
        "Entries 1-5 to 1-9 were missed: the server no longer had them",
      );

      server.disconnect("slow_client");
      await until(
        page,
        async () => (await text(page, "#state")).includes("slow client"),
        "the reason shown",
      );
      assert.deepEqual(page.pageErrors, []);
    });
    await t.step("the router's index page links to every stream's viewer", async () => {
      const streams = [
        { name: "app", viewerPath: "/app/", streamPath: "/app/stream" },
        { name: "system", viewerPath: "/system/", streamPath: "/system/stream" },
      ];
      await using server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        (request) => indexResponse(request, streams),
      );
      await using page = await browser.open(`http://127.0.0.1:${server.addr.port}/`);
      const links = await page.page.$$eval(
        ".streams a",
        (found) => found.map((link) => [link.textContent, link.getAttribute("href")]),
      );
      assert.deepEqual(links, streams.map((stream) => [stream.name, stream.viewerPath]));
      assert.deepEqual(page.consoleErrors, []);
      assert.deepEqual(page.requests.map((request) => request.type), ["document"]);
    });
  },
});
