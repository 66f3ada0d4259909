/**
 * LogWisp's browser viewer. One EventSource; entries are queued as they arrive and put in
 * the page once per animation frame, so thousands per second cost a few DOM insertions a
 * frame. Log text is data: it only ever reaches the page as text nodes.
 */

/**
 * @typedef {object} Config
 * @property {string} stream
 * @property {string} streamPath
 * @property {string} statusPath
 * @property {number} lineCap
 */

/**
 * @typedef {object} Entry
 * @property {string} time
 * @property {string} source
 * @property {string} [level]
 * @property {string} message
 * @property {Record<string, unknown>} [fields]
 */

/**
 * A line of the page: an entry, or the notice of entries the server could not send.
 * @typedef {object} Item
 * @property {"entry" | "gap"} kind
 * @property {string} raw The entry's JSON as received, for copy and download.
 * @property {Entry} entry
 * @property {string} text What a gap line says.
 * @property {HTMLElement | null} el
 * @property {HTMLElement | null} msg
 * @property {HTMLElement | null} time
 */

/**
 * @typedef {object} Filter
 * @property {string} grep What the server gets as `grep`; "" for no filter.
 * @property {boolean} icase
 * @property {RegExp | null} test
 * @property {RegExp | null} highlight The same pattern with the global flag.
 */

const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
/** The chip for entries without a level. */
const NO_LEVEL = "NONE";
/** Entries asked for when a view starts. */
const TAIL = 200;
const FILTER_DEBOUNCE_MS = 400;
/** Bounds of the line cap the user can set. */
const MIN_CAP = 100;
const MAX_CAP = 100_000;
/** Rows are grouped in blocks the browser can skip as a whole while out of view. */
const CHUNK_ROWS = 64;
/** Characters of the source column; longer names are cut (the pills show them whole). */
const SOURCE_WIDTH = 16;
/** How long a frame may spend making rows, in milliseconds. */
const FRAME_BUDGET_MS = 8;
/** Beyond this many matches in one message the rest stays unmarked: bounded DOM per line. */
const MAX_MARKS = 100;
const RETRY_MIN_MS = 3000;
const RETRY_MAX_MS = 30_000;
const NOTICE_MS = 4000;
const SETTINGS_KEY = "logwisp.viewer";
/** Frames after a jump to the bottom during which it is checked again. */
const SETTLE_FRAMES = 3;
/** How close to the bottom still counts as following, in pixels. */
const END_SLACK = 24;

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function element(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`The page has no ${JSON.stringify(id)} element`);
  return found;
}

const ui = {
  streamName: element("stream-name", HTMLElement),
  state: element("state", HTMLElement),
  notice: element("notice", HTMLElement),
  statusLink: element("status-link", HTMLAnchorElement),
  filter: element("filter", HTMLInputElement),
  regex: element("regex", HTMLButtonElement),
  matchCase: element("case", HTMLButtonElement),
  filterError: element("filter-error", HTMLElement),
  levels: element("levels", HTMLElement),
  sources: element("sources", HTMLElement),
  pause: element("pause", HTMLButtonElement),
  pending: element("pending", HTMLElement),
  clear: element("clear", HTMLButtonElement),
  wrap: element("wrap", HTMLButtonElement),
  utc: element("utc", HTMLButtonElement),
  copy: element("copy", HTMLButtonElement),
  download: element("download", HTMLButtonElement),
  cap: element("cap", HTMLInputElement),
  log: element("log", HTMLElement),
  rows: element("rows", HTMLElement),
  empty: element("empty", HTMLElement),
  latest: element("latest", HTMLButtonElement),
  count: element("count", HTMLElement),
};

const config = readConfig();
const settings = readSettings();

const view = {
  /** @type {Item[]} In the page, oldest first, in the order of their rows. */
  items: [],
  /** @type {Item[]} Received and waiting for the next frame (or for the end of a pause). */
  incoming: [],
  frame: 0,
  /** @type {HTMLElement | null} The block new rows go into. */
  chunk: null,
  /** Rows made so far, for striping. */
  rendered: 0,
  paused: false,
  arrivedWhilePaused: 0,
  following: true,
  /** Where the log was scrolled to last, to tell scrolling up from content growing. */
  scrollTop: 0,
  settleFrame: 0,
  settleFrames: 0,
  wrap: settings.wrap !== false,
  utc: settings.utc === true,
  lineCap: clampCap(typeof settings.lineCap === "number" ? settings.lineCap : config.lineCap),
  /** @type {Set<string>} */
  hiddenLevels: new Set(),
  /** @type {Set<string>} */
  hiddenSources: new Set(),
  /** @type {Set<string>} */
  sources: new Set(),
  text: "",
  regex: false,
  matchCase: false,
  /** @type {Filter} */
  filter: { grep: "", icase: false, test: null, highlight: null },
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  filterTimer: undefined,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  noticeTimer: undefined,
};

const connection = {
  /** @type {EventSource | null} */
  source: null,
  /** Bumped by every new connection, so late answers about an old one are ignored. */
  generation: 0,
  lastId: "",
  /** The `grep`/`icase` the current connection was opened with. */
  query: "",
  /** Why the server went away, shown while reconnecting. */
  reason: "",
  retryMs: RETRY_MIN_MS,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  retryTimer: undefined,
};

/** @type {WeakMap<Element, Item>} */
const itemOfRow = new WeakMap();

/** @returns {Config} */
function readConfig() {
  const island = document.getElementById("logwisp-config");
  /** @type {Record<string, unknown>} */
  let value = {};
  try {
    value = JSON.parse(island?.textContent || "{}");
  } catch {
    // A page without settings still works against `stream` next to it.
  }
  const text = (/** @type {unknown} */ v, /** @type {string} */ fallback) =>
    typeof v === "string" ? v : fallback;
  return {
    stream: text(value.stream, ""),
    streamPath: text(value.streamPath, "stream"),
    statusPath: text(value.statusPath, ""),
    lineCap: typeof value.lineCap === "number" ? value.lineCap : 5000,
  };
}

/** @returns {Record<string, unknown>} */
function readSettings() {
  try {
    const value = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? "{}");
    return value !== null && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

function saveSettings() {
  try {
    localStorage.setItem(
      SETTINGS_KEY,
      JSON.stringify({ wrap: view.wrap, utc: view.utc, lineCap: view.lineCap }),
    );
  } catch {
    // Storage may be disabled; the settings then last as long as the page.
  }
}

/** @param {number} value */
function clampCap(value) {
  if (!Number.isFinite(value)) return 5000;
  return Math.min(MAX_CAP, Math.max(MIN_CAP, Math.round(value)));
}

// ---------------------------------------------------------------------------------------
// Connection

/**
 * A same-origin endpoint's URL. A bearer token the page was opened with (`?access_token=`,
 * for servers that accept it) goes along: EventSource cannot send an Authorization header.
 * @param {string} path
 */
function endpointUrl(path) {
  const url = new URL(path, location.href);
  const token = new URLSearchParams(location.search).get("access_token");
  if (token !== null) url.searchParams.set("access_token", token);
  return url;
}

/** @param {string} resumeId */
function streamUrl(resumeId) {
  const url = endpointUrl(config.streamPath);
  url.searchParams.set("tail", String(TAIL));
  if (view.filter.grep !== "") {
    url.searchParams.set("grep", view.filter.grep);
    if (view.filter.icase) url.searchParams.set("icase", "1");
  }
  // A new EventSource cannot set Last-Event-ID; the server takes it as a parameter too.
  if (resumeId !== "") url.searchParams.set("last_event_id", resumeId);
  // Credentials typed into the address bar must not travel in URLs (Chromium even refuses
  // such requests); the browser sends what it has for this origin by itself.
  url.username = "";
  url.password = "";
  return url.href;
}

function queryOf(/** @type {Filter} */ filter) {
  return filter.grep === "" ? "" : `${filter.icase ? "i" : ""}/${filter.grep}`;
}

function disconnect() {
  connection.source?.close();
  connection.source = null;
  clearTimeout(connection.retryTimer);
  connection.generation++;
}

/**
 * Opens the stream. `resume` continues after the last entry seen (after an error the
 * browser does not retry by itself); otherwise the view starts over with the last entries.
 * @param {boolean} resume
 */
function connect(resume) {
  disconnect();
  const generation = connection.generation;
  const url = streamUrl(resume ? connection.lastId : "");
  connection.query = queryOf(view.filter);
  const source = new EventSource(url);
  connection.source = source;
  if (resume) setState("reconnecting", "Reconnecting…");
  else setState("connecting", "Connecting…");

  source.addEventListener("open", () => setState("connected", "Connected"));
  source.addEventListener("connected", (event) => {
    connection.reason = "";
    connection.retryMs = RETRY_MIN_MS;
    setState("connected", "Connected");
    const info = parseObject(/** @type {MessageEvent} */ (event).data);
    if (info) {
      ui.state.title = `Client ${String(info.client_id)}, server buffer ${
        String(info.buffer_size)
      } entries`;
    }
  });
  source.addEventListener("message", (event) => {
    connection.lastId = event.lastEventId;
    // Parsed when rendered: entries that never reach the page cost no parsing.
    receive(entryItem(event.data));
  });
  source.addEventListener("gap", (event) => {
    const gap = parseObject(/** @type {MessageEvent} */ (event).data) ?? {};
    const text = gap.from === undefined
      ? "Some entries were missed: the server no longer had them"
      : `Entries ${String(gap.from)} to ${
        String(gap.to)
      } were missed: the server no longer had them`;
    receive(gapItem(text));
    notify(text, "gap", false);
  });
  source.addEventListener("disconnect", (event) => {
    const data = parseObject(/** @type {MessageEvent} */ (event).data);
    const reason = typeof data?.reason === "string" ? data.reason : "";
    connection.reason = reason === "server_shutdown"
      ? "the server shut down"
      : reason.replaceAll("_", " ");
    setState("disconnected", `Disconnected: ${connection.reason || "by the server"}`);
  });
  source.addEventListener("error", () => {
    if (generation !== connection.generation) return;
    if (source.readyState === EventSource.CONNECTING) {
      setState(
        "reconnecting",
        connection.reason ? `Reconnecting… (${connection.reason})` : "Reconnecting…",
      );
      return;
    }
    // Closed for good: the answer was not an event stream. Ask again to learn why.
    connection.source = null;
    diagnose(url, generation);
  });
}

/**
 * Why the stream was refused: a `400` (a bad filter) is shown and not retried, since the
 * same request would fail the same way; anything else is retried with a growing delay.
 * @param {string} url
 * @param {number} generation
 */
async function diagnose(url, generation) {
  const abort = new AbortController();
  let status = 0;
  let eventStream = false;
  let message = "";
  let parameter = "";
  try {
    const response = await fetch(url, {
      signal: abort.signal,
      cache: "no-store",
      headers: { Accept: "text/event-stream" },
    });
    status = response.status;
    eventStream = (response.headers.get("Content-Type") ?? "").startsWith("text/event-stream");
    if (!response.ok) {
      const text = await response.text();
      const body = parseObject(text);
      if (body) {
        if (typeof body.error === "string") message = body.error;
        if (typeof body.parameter === "string") parameter = body.parameter;
      } else {
        message = text.trim().slice(0, 200);
      }
    }
  } catch {
    // Unreachable: retried below like any other failure.
  } finally {
    abort.abort();
  }
  if (generation !== connection.generation) return;
  if (status === 400) {
    const text = message || "The server rejected the request";
    setState("disconnected", "Disconnected: the server rejected the filter");
    showFilterError(text, parameter === "grep");
    return;
  }
  const why = status === 0
    ? "the server cannot be reached"
    : status < 300
    ? (eventStream ? "the stream was interrupted" : "the answer was not an event stream")
    : `HTTP ${status}${message ? `: ${message}` : ""}`;
  const seconds = Math.round(connection.retryMs / 1000);
  setState("disconnected", `Disconnected: ${why}; retrying in ${seconds} s`);
  connection.retryTimer = setTimeout(() => connect(true), connection.retryMs);
  connection.retryMs = Math.min(connection.retryMs * 2, RETRY_MAX_MS);
}

/**
 * @param {"connecting" | "connected" | "reconnecting" | "disconnected"} state
 * @param {string} text
 */
function setState(state, text) {
  ui.state.dataset.state = state;
  ui.state.textContent = text;
}

/** @param {string} text */
function parseObject(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? /** @type {Record<string, unknown>} */ (value)
      : null;
  } catch {
    return null;
  }
}

/**
 * @param {string} text
 * @returns {Entry | null}
 */
function parseEntry(text) {
  const value = parseObject(text);
  if (value === null || typeof value.message !== "string") return null;
  /** @type {Entry} */
  const entry = {
    time: typeof value.time === "string" ? value.time : "",
    source: typeof value.source === "string" ? value.source : "",
    message: value.message,
  };
  if (typeof value.level === "string") entry.level = value.level;
  if (value.fields !== null && typeof value.fields === "object") {
    entry.fields = /** @type {Record<string, unknown>} */ (value.fields);
  }
  return entry;
}

// ---------------------------------------------------------------------------------------
// Lines

/** What an entry item holds until it is parsed. */
const UNPARSED = Object.freeze({ time: "", source: "", message: "" });

/**
 * @param {string} raw
 * @returns {Item}
 */
function entryItem(raw) {
  return { kind: "entry", raw, entry: UNPARSED, text: "", el: null, msg: null, time: null };
}

/**
 * @param {string} text
 * @returns {Item}
 */
function gapItem(text) {
  return {
    kind: "gap",
    raw: "",
    entry: UNPARSED,
    text,
    el: null,
    msg: null,
    time: null,
  };
}

/** @param {Item} item */
function receive(item) {
  view.incoming.push(item);
  if (view.paused && item.kind === "entry") view.arrivedWhilePaused++;
  // Unrendered lines beyond the cap would be dropped at once; a hidden tab stays bounded.
  if (view.incoming.length > 2 * view.lineCap) {
    view.incoming.splice(0, view.incoming.length - view.lineCap);
  }
  if (view.frame === 0) view.frame = requestAnimationFrame(render);
}

/**
 * Puts what arrived since the last frame in the page, for at most a few milliseconds:
 * when lines come faster than the page can show them, frames stay short and the rest
 * waits for the next one (beyond the cap, the oldest waiting lines are dropped, as they
 * would leave the page at once anyway).
 */
function render() {
  view.frame = 0;
  updatePending();
  if (view.paused || view.incoming.length === 0) return;
  const started = performance.now();
  const waiting = view.incoming;
  const first = Math.max(0, waiting.length - view.lineCap);
  let next = first;
  const fresh = document.createDocumentFragment();
  /** @type {Item[]} */
  const made = [];
  while (next < waiting.length) {
    const item = /** @type {Item} */ (waiting[next++]);
    if (item.kind === "entry") {
      const entry = parseEntry(item.raw);
      if (entry === null) continue;
      item.entry = entry;
      if (!view.sources.has(entry.source)) addSource(entry.source);
    }
    const row = item.kind === "gap" ? gapRow(item) : entryRow(item);
    itemOfRow.set(row, item);
    if (view.chunk === null || view.chunk.childElementCount >= CHUNK_ROWS) {
      view.chunk = document.createElement("div");
      view.chunk.className = "chunk";
      fresh.append(view.chunk);
    }
    view.chunk.append(row);
    made.push(item);
    if (next % 16 === 0 && performance.now() - started > FRAME_BUDGET_MS) break;
  }
  view.incoming = waiting.slice(next);
  trim(view.lineCap - made.length);
  view.items.push(...made);
  ui.rows.append(fresh);
  ui.state.dataset.lastId = connection.lastId;
  updateCount();
  if (view.following) scrollToEnd();
  if (view.incoming.length > 0) view.frame = requestAnimationFrame(render);
}

/**
 * Removes the oldest lines until at most `keep` are left: whole chunks, then the start of
 * the chunk holding the last line to go.
 * @param {number} keep
 */
function trim(keep) {
  const excess = view.items.length - Math.max(0, keep);
  if (excess <= 0) return;
  const removed = view.items.splice(0, excess);
  const last = removed[removed.length - 1]?.el;
  const chunk = last?.parentElement;
  if (!last || !chunk) return;
  while (ui.rows.firstElementChild !== null && ui.rows.firstElementChild !== chunk) {
    ui.rows.firstElementChild.remove();
  }
  const range = document.createRange();
  range.setStart(chunk, 0);
  range.setEndAfter(last);
  range.deleteContents();
  if (chunk.firstChild === null && chunk !== view.chunk) chunk.remove();
}

/**
 * One line: few elements, classes rather than attributes, no per-row listeners (clicks
 * are delegated), so a frame can make thousands.
 * @param {Item} item
 * @returns {HTMLElement}
 */
function entryRow(item) {
  const { entry } = item;
  const row = document.createElement("div");
  // Striped by arrival, not position, so removing old rows restyles none of the others.
  row.className = `row l-${levelOf(entry)}${++view.rendered % 2 === 0 ? " alt" : ""}`;
  const time = span("t", `${formatTime(entry.time).padEnd(19)} `);
  const msg = span("msg", "");
  fillMessage(msg, entry.message);
  row.append(
    time,
    span("lv", column(entry.level ?? "", 5)),
    span("src", ` ${column(entry.source, SOURCE_WIDTH)} `),
    msg,
  );
  const fieldCount = entry.fields ? Object.keys(entry.fields).length : 0;
  if (fieldCount > 0) {
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "fx";
    toggle.textContent = `{${fieldCount}}`;
    toggle.setAttribute("aria-label", `Fields (${fieldCount})`);
    toggle.setAttribute("aria-expanded", "false");
    row.append(toggle);
  }
  item.el = row;
  item.msg = msg;
  item.time = time;
  if (!isShown(item)) row.hidden = true;
  return row;
}

/**
 * @param {Item} item
 * @returns {HTMLElement}
 */
function gapRow(item) {
  const row = document.createElement("div");
  row.className = "gap-row";
  row.setAttribute("role", "note");
  row.textContent = item.text;
  item.el = row;
  return row;
}

/**
 * `text` cut or padded to `width` characters, for the fixed-width columns.
 * @param {string} text
 * @param {number} width
 */
function column(text, width) {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/**
 * @param {string} className
 * @param {string} text
 */
function span(className, text) {
  const node = document.createElement("span");
  node.className = className;
  node.textContent = text;
  return node;
}

/** @param {Entry} entry */
function levelOf(entry) {
  return entry.level !== undefined && LEVELS.includes(entry.level) ? entry.level : NO_LEVEL;
}

/**
 * The message as text nodes, with `<mark>` elements around what the filter matches.
 * @param {HTMLElement} target
 * @param {string} text
 */
function fillMessage(target, text) {
  const pattern = view.filter.highlight;
  if (pattern === null) {
    target.textContent = text;
    return;
  }
  target.textContent = "";
  pattern.lastIndex = 0;
  let end = 0;
  let marks = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match[0] === "") {
      pattern.lastIndex++;
      continue;
    }
    if (match.index > end) target.append(text.slice(end, match.index));
    const mark = document.createElement("mark");
    mark.textContent = match[0];
    target.append(mark);
    end = match.index + match[0].length;
    if (++marks >= MAX_MARKS) break;
  }
  if (end < text.length) target.append(text.slice(end));
}

/**
 * `MM-DD HH:MM:SS.mmm`, local or UTC; the full stamp shows on hover.
 * @param {string} iso
 */
function formatTime(iso) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  // Shifted by the zone's offset at that instant, the UTC form reads as local time.
  const shifted = view.utc ? ms : ms - new Date(ms).getTimezoneOffset() * 60_000;
  const text = new Date(shifted).toISOString();
  return `${text.slice(5, 10)} ${text.slice(11, 23)}${view.utc ? "Z" : ""}`;
}

/** @param {Item} item */
function isShown(item) {
  if (item.kind === "gap") return true;
  const { entry } = item;
  if (view.hiddenLevels.has(levelOf(entry))) return false;
  if (view.hiddenSources.has(entry.source)) return false;
  return view.filter.test === null || view.filter.test.test(entry.message);
}

function applyVisibility() {
  for (const item of view.items) {
    if (item.el) item.el.hidden = !isShown(item);
  }
  updateCount();
  if (view.following) scrollToEnd();
}

function shownEntries() {
  return view.items.filter((item) => item.kind === "entry" && item.el && !item.el.hidden);
}

function updateCount() {
  let total = 0;
  let shown = 0;
  for (const item of view.items) {
    if (item.kind !== "entry") continue;
    total++;
    if (item.el && !item.el.hidden) shown++;
  }
  ui.count.textContent = shown === total
    ? `${total} ${total === 1 ? "line" : "lines"} (max ${view.lineCap})`
    : `${shown} of ${total} lines shown (max ${view.lineCap})`;
  ui.empty.hidden = view.items.length > 0;
}

function updatePending() {
  ui.pending.hidden = view.arrivedWhilePaused === 0;
  ui.pending.textContent = `${view.arrivedWhilePaused} new`;
}

function clearLines() {
  view.items = [];
  view.incoming = [];
  view.arrivedWhilePaused = 0;
  ui.rows.textContent = "";
  view.chunk = null;
  updatePending();
  updateCount();
  setFollowing(true);
}

// ---------------------------------------------------------------------------------------
// Scrolling

function distanceToEnd() {
  return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight;
}

/**
 * Scrolls to the bottom, and again over the next frames if the bottom moves: a block of
 * rows the browser skipped keeps its estimated height until it comes into view.
 */
function scrollToEnd() {
  ui.log.scrollTop = ui.log.scrollHeight;
  view.scrollTop = ui.log.scrollTop;
  view.settleFrames = SETTLE_FRAMES;
  if (view.settleFrame === 0) view.settleFrame = requestAnimationFrame(settle);
}

function settle() {
  view.settleFrame = 0;
  if (!view.following) return;
  if (distanceToEnd() > 1) {
    ui.log.scrollTop = ui.log.scrollHeight;
    view.scrollTop = ui.log.scrollTop;
  }
  if (--view.settleFrames > 0) view.settleFrame = requestAnimationFrame(settle);
}

/** @param {boolean} following */
function setFollowing(following) {
  view.following = following;
  ui.latest.hidden = following;
}

function jumpToLatest() {
  setFollowing(true);
  scrollToEnd();
}

// Following stops when the user scrolls up, and starts again at the bottom. Content that
// grows below does not fire `scroll`, and this page only ever scrolls down.
ui.log.addEventListener("scroll", () => {
  const top = ui.log.scrollTop;
  if (distanceToEnd() <= END_SLACK) setFollowing(true);
  else if (top < view.scrollTop - 1) setFollowing(false);
  view.scrollTop = top;
}, { passive: true });

// ---------------------------------------------------------------------------------------
// Filters

/** @param {string} text */
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** @returns {Filter | string} The filter, or why the pattern is not valid. */
function compileFilter() {
  if (view.text === "") return { grep: "", icase: false, test: null, highlight: null };
  const grep = view.regex ? view.text : escapeRegExp(view.text);
  const flags = view.matchCase ? "" : "i";
  try {
    return {
      grep,
      icase: !view.matchCase,
      test: new RegExp(grep, flags),
      highlight: new RegExp(grep, `${flags}g`),
    };
  } catch (error) {
    return `Invalid regular expression: ${error instanceof Error ? error.message : error}`;
  }
}

/**
 * @param {string} message
 * @param {boolean} [invalidFilter]
 */
function showFilterError(message, invalidFilter = true) {
  ui.filterError.textContent = message;
  ui.filterError.hidden = message === "";
  ui.filter.setAttribute("aria-invalid", String(invalidFilter && message !== ""));
}

/** Applies the filter to the page now; the server gets it once typing pauses. */
function filterChanged() {
  const filter = compileFilter();
  clearTimeout(view.filterTimer);
  if (typeof filter === "string") {
    showFilterError(filter);
    return;
  }
  showFilterError("");
  view.filter = filter;
  writeUrl();
  for (const item of view.items) {
    if (item.msg) fillMessage(item.msg, item.entry.message);
  }
  applyVisibility();
  if (queryOf(filter) !== connection.query || connection.source === null) {
    view.filterTimer = setTimeout(() => {
      clearLines();
      connect(false);
    }, FILTER_DEBOUNCE_MS);
  }
}

function clearFilter() {
  ui.filter.value = "";
  view.text = "";
  filterChanged();
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  view.text = params.get("q") ?? "";
  view.regex = params.get("regex") === "1";
  view.matchCase = params.get("case") === "1";
}

function writeUrl() {
  const url = new URL(location.href);
  const set = (/** @type {string} */ name, /** @type {string} */ value) =>
    value === "" ? url.searchParams.delete(name) : url.searchParams.set(name, value);
  set("q", view.text);
  set("regex", view.text !== "" && view.regex ? "1" : "");
  set("case", view.text !== "" && view.matchCase ? "1" : "");
  url.username = "";
  url.password = "";
  if (url.href !== location.href) history.replaceState(history.state, "", url);
}

/**
 * @param {HTMLButtonElement} button
 * @param {boolean} pressed
 */
function press(button, pressed) {
  button.setAttribute("aria-pressed", String(pressed));
}

function addLevelChips() {
  for (const level of [...LEVELS, NO_LEVEL]) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = `chip-${level}`;
    chip.textContent = level === NO_LEVEL ? "none" : level;
    chip.title = level === NO_LEVEL ? "Entries without a level" : `${level} entries`;
    if (level === NO_LEVEL) chip.setAttribute("aria-label", "No level");
    press(chip, true);
    chip.addEventListener("click", () => {
      const hidden = !view.hiddenLevels.delete(level);
      if (hidden) view.hiddenLevels.add(level);
      press(chip, !hidden);
      applyVisibility();
    });
    ui.levels.append(chip);
  }
}

/** @param {string} source */
function addSource(source) {
  view.sources.add(source);
  const pill = document.createElement("button");
  pill.type = "button";
  pill.textContent = source === "" ? "(none)" : source;
  pill.title = `Entries from ${source === "" ? "no source" : source}`;
  press(pill, true);
  pill.addEventListener("click", () => {
    const hidden = !view.hiddenSources.delete(source);
    if (hidden) view.hiddenSources.add(source);
    press(pill, !hidden);
    applyVisibility();
  });
  ui.sources.append(pill);
  ui.sources.hidden = false;
}

// ---------------------------------------------------------------------------------------
// Actions

function togglePause() {
  view.paused = !view.paused;
  press(ui.pause, view.paused);
  if (!view.paused) {
    view.arrivedWhilePaused = 0;
    updatePending();
    if (view.frame === 0) view.frame = requestAnimationFrame(render);
  }
}

/**
 * @param {string} text
 * @param {"info" | "gap"} [kind]
 * @param {boolean} [fade]
 */
function notify(text, kind = "info", fade = true) {
  ui.notice.textContent = text;
  ui.notice.className = `notice ${kind}`;
  clearTimeout(view.noticeTimer);
  if (fade) {
    view.noticeTimer = setTimeout(() => {
      ui.notice.textContent = "";
    }, NOTICE_MS);
  }
}

function shownNdjson() {
  const lines = shownEntries().map((item) => item.raw);
  return { count: lines.length, text: lines.length === 0 ? "" : `${lines.join("\n")}\n` };
}

async function copyShown() {
  const { count, text } = shownNdjson();
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Plain HTTP has no Clipboard API: the older way still works on a user's click.
    const area = document.createElement("textarea");
    area.value = text;
    area.readOnly = true;
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    if (!copied) {
      notify("The browser did not allow copying");
      return;
    }
  }
  notify(`Copied ${count} ${count === 1 ? "line" : "lines"} as NDJSON`);
}

function downloadShown() {
  const { count, text } = shownNdjson();
  const url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
  const link = document.createElement("a");
  link.href = url;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d+Z$/, "Z");
  const name = (config.stream || "logwisp").replace(/[^\w.-]+/g, "_");
  link.download = `${name}-${stamp}.ndjson`;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoking at once can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  notify(`Downloaded ${count} ${count === 1 ? "line" : "lines"} as NDJSON`);
}

/** @param {EventTarget | null} target */
function isTyping(target) {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
    (target instanceof HTMLElement && target.isContentEditable);
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape") {
    if (ui.filter.value !== "") {
      event.preventDefault();
      clearFilter();
    } else if (event.target === ui.filter) {
      ui.filter.blur();
    }
    return;
  }
  if (isTyping(event.target)) return;
  if (event.key === "/") {
    event.preventDefault();
    ui.filter.focus();
    ui.filter.select();
  } else if (event.key === " ") {
    // Space on a focused button presses that button.
    if (event.target instanceof HTMLButtonElement || event.target instanceof HTMLAnchorElement) {
      return;
    }
    event.preventDefault();
    togglePause();
  } else if (event.key === "End") {
    event.preventDefault();
    jumpToLatest();
  }
});

ui.filter.addEventListener("input", () => {
  view.text = ui.filter.value;
  filterChanged();
});
ui.regex.addEventListener("click", () => {
  view.regex = !view.regex;
  press(ui.regex, view.regex);
  filterChanged();
});
ui.matchCase.addEventListener("click", () => {
  view.matchCase = !view.matchCase;
  press(ui.matchCase, view.matchCase);
  filterChanged();
});
ui.pause.addEventListener("click", togglePause);
ui.clear.addEventListener("click", clearLines);
ui.wrap.addEventListener("click", () => {
  view.wrap = !view.wrap;
  press(ui.wrap, view.wrap);
  ui.log.classList.toggle("wrap", view.wrap);
  saveSettings();
});
ui.utc.addEventListener("click", () => {
  view.utc = !view.utc;
  press(ui.utc, view.utc);
  for (const item of view.items) {
    if (item.time) item.time.textContent = `${formatTime(item.entry.time).padEnd(19)} `;
  }
  saveSettings();
});
ui.copy.addEventListener("click", () => void copyShown());
ui.download.addEventListener("click", downloadShown);
ui.latest.addEventListener("click", jumpToLatest);
ui.cap.addEventListener("change", () => {
  view.lineCap = clampCap(ui.cap.valueAsNumber);
  ui.cap.value = String(view.lineCap);
  trim(view.lineCap);
  updateCount();
  saveSettings();
});
// The full time stamp and source as tooltips, made only for the rows the pointer visits.
ui.rows.addEventListener("mouseover", (event) => {
  const cell = event.target instanceof HTMLElement ? event.target : null;
  const item = cell?.parentElement ? itemOfRow.get(cell.parentElement) : undefined;
  if (!cell || !item || cell.title !== "") return;
  if (cell.classList.contains("t")) cell.title = item.entry.time;
  else if (cell.classList.contains("src")) cell.title = item.entry.source;
});
ui.rows.addEventListener("click", (event) => {
  const toggle = event.target instanceof Element ? event.target.closest("button.fx") : null;
  const row = toggle?.parentElement;
  const item = row ? itemOfRow.get(row) : undefined;
  if (!toggle || !row || !item) return;
  let fields = row.querySelector("pre.fields");
  if (fields === null) {
    fields = document.createElement("pre");
    fields.className = "fields";
    fields.textContent = JSON.stringify(item.entry.fields, null, 2);
    row.append(fields);
  } else {
    fields.toggleAttribute("hidden");
  }
  toggle.setAttribute("aria-expanded", String(!fields.hasAttribute("hidden")));
});

// ---------------------------------------------------------------------------------------
// Start

document.title = config.stream === "" ? "LogWisp" : `${config.stream} · LogWisp`;
ui.streamName.textContent = config.stream;
if (config.statusPath.startsWith("/")) {
  const status = endpointUrl(config.statusPath);
  ui.statusLink.href = status.pathname + status.search;
} else {
  ui.statusLink.hidden = true;
}
addLevelChips();
press(ui.wrap, view.wrap);
ui.log.classList.toggle("wrap", view.wrap);
press(ui.utc, view.utc);
ui.cap.value = String(view.lineCap);
readUrl();
ui.filter.value = view.text;
press(ui.regex, view.regex);
press(ui.matchCase, view.matchCase);
const initial = compileFilter();
if (typeof initial === "string") showFilterError(initial);
else view.filter = initial;
updateCount();
connect(false);
