import assert from "node:assert/strict";
import { streamIndex, streamViewer } from "./viewer_routes.ts";

const PATHS = { viewerPath: "/", streamPath: "/stream", statusPath: "/status" };
const get = (path = "/") => new Request(`http://localhost${path}`);

/** The settings the page was given in its data island. */
async function settings(response: Response): Promise<unknown> {
  const html = await response.text();
  const island = /<script type="application\/json" id="logwisp-config">(.*?)<\/script>/s.exec(html);
  return JSON.parse(island![1]!);
}

Deno.test("streamViewer() points the page at the stream's endpoints under the prefix", async () => {
  assert.deepEqual(await settings(streamViewer("app", PATHS, "")!(get())), {
    stream: "app",
    streamPath: "/stream",
    statusPath: "/status",
    lineCap: 5000,
  });
  assert.deepEqual(await settings(streamViewer("app", PATHS, "/app")!(get())), {
    stream: "app",
    streamPath: "/app/stream",
    statusPath: "/app/status",
    lineCap: 5000,
  });
});

Deno.test('streamViewer() and streamIndex() are off with a viewer_path of ""', () => {
  assert.equal(streamViewer("app", { ...PATHS, viewerPath: "" }, ""), undefined);
  assert.equal(streamIndex("", [{ name: "app", paths: PATHS }]), undefined);
});

Deno.test("streamIndex() links the streams that have a viewer, escaped", async () => {
  const index = streamIndex("/", [
    { name: "app", paths: PATHS },
    { name: "off", paths: { ...PATHS, viewerPath: "" } },
    { name: "a&b", paths: { ...PATHS, viewerPath: "/view" } },
  ])!;
  const html = await index(get()).text();
  assert.deepEqual(
    [...html.matchAll(/<a href="([^"]*)">([^<]*)<\/a><code>([^<]*)<\/code>/g)].map((m) =>
      m.slice(1)
    ),
    [["/app/", "app", "/app/stream"], ["/a&#38;b/view", "a&#38;b", "/a&#38;b/stream"]],
  );
  const empty = await streamIndex("/", [{ name: "off", paths: { ...PATHS, viewerPath: "" } }])!(
    get(),
  ).text();
  assert.match(empty, /No stream has a viewer/);
});
