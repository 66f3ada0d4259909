import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "../_test_utils.ts";
import indexCss from "./index.css" with { type: "text" };
import indexHtml from "./index.html" with { type: "text" };
import viewerCss from "./viewer.css" with { type: "text" };
import viewerHtml from "./viewer.html" with { type: "text" };
import viewerJs from "./viewer.js" with { type: "text" };
import { indexResponse, VIEWER_ASSET_BYTES, viewerResponse } from "./viewer_page.ts";

const PAGE = { stream: "app", streamPath: "/stream", statusPath: "/status" };

function get(method = "GET"): Request {
  return new Request("http://127.0.0.1:8080/", { method });
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
}

/** The directives of a Content-Security-Policy header, by name. */
function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(";").map((part) => part.trim().split(/\s+/)).map((
      [name, ...values],
    ) => [name!, values]),
  );
}

/** The contents of every `<tag …>…</tag>` element whose opening tag matches `attributes`. */
function elements(html: string, tag: string, attributes = ""): string[] {
  const pattern = new RegExp(`<${tag}${attributes}>([^]*?)</${tag}>`, "g");
  return [...html.matchAll(pattern)].map((match) => match[1]!);
}

Deno.test("viewerResponse() allows exactly its inline style and script by hash", async () => {
  const response = viewerResponse(get(), PAGE);
  const html = await response.text();
  const policy = directives(response.headers.get("Content-Security-Policy")!);
  const styles = elements(html, "style");
  const scripts = elements(html, "script", '(?: type="module")?');
  assert.equal(styles.length, 1);
  assert.equal(scripts.length, 1, "one executable script");
  assert.deepEqual(policy.get("style-src"), [await sha256(styles[0]!)]);
  assert.deepEqual(policy.get("script-src"), [await sha256(scripts[0]!)]);
  assert.equal(styles[0], viewerCss);
  assert.equal(scripts[0], viewerJs);
  assert.deepEqual(policy.get("default-src"), ["'none'"]);
  assert.deepEqual(policy.get("connect-src"), ["'self'"]);
  assert.deepEqual(policy.get("frame-ancestors"), ["'none'"]);
  assert.deepEqual(policy.get("require-trusted-types-for"), ["'script'"]);
  assert.equal(html.match(/<script\b/g)?.length, 2, "the script and the data island");
});

Deno.test("viewerResponse() sends the page's security and caching headers", () => {
  const { headers, status } = viewerResponse(get(), PAGE);
  assert.equal(status, 200);
  assert.equal(headers.get("Content-Type"), "text/html; charset=utf-8");
  assert.equal(headers.get("X-Content-Type-Options"), "nosniff");
  assert.equal(headers.get("Referrer-Policy"), "no-referrer");
  assert.equal(headers.get("Cache-Control"), "no-cache");
});

Deno.test("viewerResponse() puts its settings in a data island nothing can break out of", async () => {
  const stream = `</script><script>alert(1)</script><!--`;
  const html = await viewerResponse(get(), { ...PAGE, stream, lineCap: 200 }).text();
  const islands = elements(html, "script", ' type="application/json" id="logwisp-config"');
  assert.equal(islands.length, 1);
  assert.doesNotMatch(islands[0]!, /</);
  assert.deepEqual(JSON.parse(islands[0]!), { ...PAGE, stream, lineCap: 200 });
  assert.equal(html.split("</script>").length - 1, 2);
});

Deno.test("viewerResponse() uses a line cap of 5,000 unless given one", async () => {
  const html = await viewerResponse(get(), PAGE).text();
  const [island] = elements(html, "script", ' type="application/json" id="logwisp-config"');
  assert.equal(JSON.parse(island!).lineCap, 5000);
});

Deno.test("viewerResponse() answers HEAD with the headers only", async () => {
  const head = viewerResponse(get("HEAD"), PAGE);
  const full = viewerResponse(get(), PAGE);
  assert.equal(head.body, null);
  assert.deepEqual([...head.headers], [...full.headers]);
  await full.body?.cancel();
});

Deno.test("indexResponse() lists the streams, escaped, under a policy without scripts", async () => {
  const response = indexResponse(get(), [
    { name: "app", viewerPath: "/app/", streamPath: "/app/stream" },
    { name: `<b>"x"&`, viewerPath: `/"x"/`, streamPath: "/x/stream" },
  ]);
  const html = await response.text();
  const policy = directives(response.headers.get("Content-Security-Policy")!);
  assert.equal(policy.get("script-src"), undefined);
  assert.deepEqual(policy.get("default-src"), ["'none'"]);
  assert.deepEqual(policy.get("style-src"), [await sha256(elements(html, "style")[0]!)]);
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /<a href="\/app\/">app<\/a><code>\/app\/stream<\/code>/);
  assert.match(html, /<a href="\/&#34;x&#34;\/">&#60;b&#62;&#34;x&#34;&#38;<\/a>/);
  assert.equal(response.headers.get("X-Content-Type-Options"), "nosniff");
  assert.equal(indexResponse(get("HEAD"), []).body, null);
  assert.match(await indexResponse(get(), []).text(), /No stream has a viewer/);
});

Deno.test("the viewer's assets refer to no other origin", () => {
  const assets = { viewerHtml, viewerCss, viewerJs, indexHtml, indexCss };
  for (const [name, text] of Object.entries(assets)) {
    assert.doesNotMatch(text, /\b(?:https?|wss?|ftp):/i, name);
    // Protocol-relative references: "//host", url(//host), src=//host.
    assert.doesNotMatch(text, /(?:["'`(=]|url\()\s*\/\//, name);
  }
  for (const css of [viewerCss, indexCss]) assert.doesNotMatch(css, /@import|url\(/i);
  for (const html of [viewerHtml, indexHtml]) {
    const references = [...html.matchAll(/\b(?:src|href|action)="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(references.filter((value) => value !== "data:," && value !== "#"), []);
  }
  assert.doesNotMatch(viewerJs, /\bimport\b|\beval\(|new Function|innerHTML|outerHTML/);
});

Deno.test("VIEWER_ASSET_BYTES counts every embedded asset", () => {
  const bytes = [viewerHtml, viewerCss, viewerJs, indexHtml, indexCss]
    .reduce((total, text) => total + new TextEncoder().encode(text).length, 0);
  assert.equal(VIEWER_ASSET_BYTES, bytes);
});

// The project is type-checked without DOM types (adding them would break Deno's own), so
// the page's script is checked on its own, with `// @ts-check`, against the DOM library.
Deno.test("viewer.js type-checks against the DOM library", async () => {
  await using dir = await tempDir("logwisp_viewer_check_");
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  ).compilerOptions;
  await Deno.writeTextFile(
    join(dir.path, "deno.json"),
    JSON.stringify({ compilerOptions: { ...config, lib: ["dom", "dom.iterable", "esnext"] } }),
  );
  await Deno.writeTextFile(join(dir.path, "viewer.js"), `// @ts-check\n${viewerJs}`);
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--no-lock", "--quiet", "--config", join(dir.path, "deno.json"), "viewer.js"],
    cwd: dir.path,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
});
