/**
 * The built-in web viewer: one HTML response with its CSS and JavaScript inline, so it
 * needs nothing from another origin and ships inside the compiled binary. A strict
 * `Content-Security-Policy` allows exactly those inline blocks by their SHA-256 hashes.
 *
 * @module
 */
import indexCss from "./index.css" with { type: "text" };
import indexHtml from "./index.html" with { type: "text" };
import viewerCss from "./viewer.css" with { type: "text" };
import viewerHtml from "./viewer.html" with { type: "text" };
import viewerJs from "./viewer.js" with { type: "text" };

/** What one viewer page shows and where it connects. */
export interface ViewerPage {
  /** The stream's name, shown in the title. */
  readonly stream: string;
  /** The SSE endpoint as the browser sees it: `/stream`, or `/app/stream` in router mode. */
  readonly streamPath: string;
  /** The status endpoint as the browser sees it, linked from the page. */
  readonly statusPath: string;
  /** Lines kept in the page before the oldest leave (the user can change it); 5,000 by default. */
  readonly lineCap?: number;
}

/** A stream listed by the router's index page. */
export interface IndexStream {
  /** The stream's name, the link's text. */
  readonly name: string;
  /** Where the stream's viewer is, e.g. `/app/`. */
  readonly viewerPath: string;
  /** Where its SSE endpoint is, e.g. `/app/stream`. */
  readonly streamPath: string;
}

/** Lines a viewer page keeps unless told otherwise. */
const DEFAULT_LINE_CAP = 5000;

const encoder = new TextEncoder();

/** Bytes of the page templates, styles and script embedded in the program. */
export const VIEWER_ASSET_BYTES: number = [viewerHtml, viewerCss, viewerJs, indexHtml, indexCss]
  .reduce((total, text) => total + encoder.encode(text).length, 0);

const STYLE_SLOT = "<style></style>";
const ISLAND_OPEN = '<script type="application/json" id="logwisp-config">';
const SCRIPT_SLOT = '<script type="module"></script>';
const STREAMS_SLOT = '<ul class="streams"></ul>';

/** The CSP source for an inline block: what the browser hashes is the text between the tags. */
async function hashSource(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
}

/** `template` around the one occurrence of `slot`. */
function around(template: string, slot: string): [string, string] {
  const at = template.indexOf(slot);
  if (at < 0 || template.indexOf(slot, at + 1) >= 0) {
    throw new Error(`Viewer template must hold ${JSON.stringify(slot)} exactly once`);
  }
  return [template.slice(0, at), template.slice(at + slot.length)];
}

/** Text that can sit inside a `<style>` or `<script>` element without ending it early. */
function inlineSafe(text: string, tag: "style" | "script"): string {
  if (new RegExp(`</${tag}|<!--`, "i").test(text)) {
    throw new Error(`Inline ${tag} must not contain "</${tag}" or "<!--"`);
  }
  return text;
}

const SHARED_POLICY = "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
  "require-trusted-types-for 'script'; trusted-types 'none'";

const [viewerPrefix, viewerSuffix, viewerPolicy] = await (async () => {
  const [beforeStyle, afterStyle] = around(viewerHtml, STYLE_SLOT);
  const [beforeIsland, afterIsland] = around(afterStyle, `${ISLAND_OPEN}</script>`);
  const [beforeScript, afterScript] = around(afterIsland, SCRIPT_SLOT);
  const css = inlineSafe(viewerCss, "style");
  const js = inlineSafe(viewerJs, "script");
  return [
    `${beforeStyle}<style>${css}</style>${beforeIsland}${ISLAND_OPEN}`,
    `</script>${beforeScript}<script type="module">${js}</script>${afterScript}`,
    `default-src 'none'; script-src ${await hashSource(js)}; style-src ${await hashSource(
      css,
    )}; connect-src 'self'; img-src data:; ${SHARED_POLICY}`,
  ];
})();

const [indexPrefix, indexSuffix, indexPolicy] = await (async () => {
  const [beforeStyle, afterStyle] = around(indexHtml, STYLE_SLOT);
  const [beforeList, afterList] = around(afterStyle, STREAMS_SLOT);
  const css = inlineSafe(indexCss, "style");
  return [
    `${beforeStyle}<style>${css}</style>${beforeList}<ul class="streams">`,
    `</ul>${afterList}`,
    `default-src 'none'; style-src ${await hashSource(css)}; img-src data:; ${SHARED_POLICY}`,
  ];
})();

/** JSON for a `<script type="application/json">` data block: no `<` can end it. */
function dataIsland(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c");
}

/** Text safe in HTML element content and quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function htmlResponse(request: Request, body: string, policy: string): Response {
  return new Response(request.method === "HEAD" ? null : body, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": policy,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-cache",
    },
  });
}

/**
 * `GET {viewer_path}`: the viewer page for one stream; for `HEAD`, the same headers
 * without the body. Other methods are the caller's to refuse.
 */
export function viewerResponse(request: Request, page: ViewerPage): Response {
  const settings = {
    stream: page.stream,
    streamPath: page.streamPath,
    statusPath: page.statusPath,
    lineCap: page.lineCap ?? DEFAULT_LINE_CAP,
  };
  return htmlResponse(request, viewerPrefix + dataIsland(settings) + viewerSuffix, viewerPolicy);
}

/**
 * `GET /` in router mode: a page linking to each stream's viewer; for `HEAD`, the same
 * headers without the body.
 */
export function indexResponse(request: Request, streams: readonly IndexStream[]): Response {
  const items = streams.length === 0
    ? "<li>No stream has a viewer.</li>"
    : streams.map(({ name, viewerPath, streamPath }) =>
      `<li><a href="${escapeHtml(viewerPath)}">${escapeHtml(name)}</a>` +
      `<code>${escapeHtml(streamPath)}</code></li>`
    ).join("");
  return htmlResponse(request, indexPrefix + items + indexSuffix, indexPolicy);
}
