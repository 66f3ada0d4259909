/**
 * Headless Chromium for browser tests, driven by `puppeteer-core` against the system's
 * `/usr/bin/chromium` (nothing is downloaded). Pages record every request, console error
 * and uncaught exception, so a test can check what a page asked for and what went wrong.
 *
 * @module
 */
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Where the browser is; tests skip themselves when it is missing. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether {@linkcode CHROMIUM} is installed. */
export const hasChromium: boolean = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

/** A request a page made, as the browser sent it. */
export interface RecordedRequest {
  /** The URL requested. */
  readonly url: string;
  /** `GET`, `POST`… */
  readonly method: string;
  /** The resource type in lower case: `document`, `eventsource`, `fetch`… */
  readonly type: string;
  /** What was sent on the wire where known, header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
}

/** A page and what it did; disposing it closes the page. */
export interface RecordedPage extends AsyncDisposable {
  /** The page, to drive with Puppeteer. */
  readonly page: Page;
  /** Every request since the page was opened, in order. */
  readonly requests: readonly RecordedRequest[];
  /** `console.error` messages (CSP violations and failed loads among them). */
  readonly consoleErrors: readonly string[];
  /** Uncaught exceptions and unhandled rejections. */
  readonly pageErrors: readonly string[];
}

/** Options of {@linkcode HeadlessBrowser.open}. */
export interface OpenOptions {
  /** `prefers-color-scheme` to emulate. */
  readonly colorScheme?: "light" | "dark";
  /** IANA time zone to emulate, e.g. `UTC`; the system's unless given. */
  readonly timezone?: string;
  /** Viewport size in CSS pixels; 1200×700 unless given. */
  readonly viewport?: { readonly width: number; readonly height: number };
}

/** A running headless Chromium; disposing it closes the browser and removes its profile. */
export interface HeadlessBrowser extends AsyncDisposable {
  /** The browser, for what pages cannot do (permissions, downloads). */
  readonly browser: Browser;
  /** Opens `url` in a new page, recording from before the first request. */
  open(url: string, options?: OpenOptions): Promise<RecordedPage>;
}

/** The command line: no network beyond what pages ask for, a throwaway profile. */
function chromiumArgs(profile: string): string[] {
  return [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${profile}`,
  ];
}

/** Starts headless Chromium with a profile in a temporary directory. */
export async function launchBrowser(): Promise<HeadlessBrowser> {
  const profile = await Deno.makeTempDir({ prefix: "logwisp_chromium_" });
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: chromiumArgs(profile),
      // Signals belong to the test runner, not to Puppeteer.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (error) {
    await Deno.remove(profile, { recursive: true });
    throw error;
  }
  return {
    browser,
    open: (url, options) => openPage(browser, url, options),
    async [Symbol.asyncDispose]() {
      try {
        await browser.close();
      } finally {
        await Deno.remove(profile, { recursive: true });
      }
    },
  };
}

async function openPage(
  browser: Browser,
  url: string,
  options: OpenOptions = {},
): Promise<RecordedPage> {
  const page = await browser.newPage();
  const requests: { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] }[] = [];
  const byId = new Map<string, (typeof requests)[number]>();
  const wireHeaders = new Map<string, Record<string, string>>();
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const lowerCase = (headers: Record<string, string>) =>
    Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  // Puppeteer's own request events lack the headers the network stack adds, such as
  // EventSource's Last-Event-ID; the extra-info events carry what went on the wire.
  const cdp = await page.createCDPSession();
  cdp.on("Network.requestWillBeSent", (event) => {
    const request = {
      url: event.request.url,
      method: event.request.method,
      type: (event.type ?? "other").toLowerCase(),
      headers: { ...lowerCase(event.request.headers), ...wireHeaders.get(event.requestId) },
    };
    requests.push(request);
    byId.set(event.requestId, request);
  });
  cdp.on("Network.requestWillBeSentExtraInfo", (event) => {
    const headers = lowerCase(event.headers);
    const request = byId.get(event.requestId);
    if (request) request.headers = { ...request.headers, ...headers };
    else wireHeaders.set(event.requestId, headers);
  });
  await cdp.send("Network.enable");
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.setViewport(options.viewport ?? { width: 1200, height: 700 });
  if (options.timezone) await page.emulateTimezone(options.timezone);
  if (options.colorScheme) {
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: options.colorScheme }]);
  }
  await page.goto(url, { waitUntil: "load" });
  return {
    page,
    requests,
    consoleErrors,
    pageErrors,
    async [Symbol.asyncDispose]() {
      if (!page.isClosed()) await page.close();
    },
  };
}
