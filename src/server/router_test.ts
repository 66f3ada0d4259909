import assert from "node:assert/strict";
import { routerHandler } from "./router.ts";
import { TEST_CLIENT } from "../_test_utils.ts";
import type { HttpHandler } from "./http_server.ts";

/** A stream handler that answers with its name and the path it was given. */
const echo = (name: string): HttpHandler => (request) =>
  Response.json({ name, path: new URL(request.url).pathname + new URL(request.url).search });

const handler = routerHandler([
  { name: "app", handler: echo("app"), streamPath: "/stream", statusPath: "/status" },
  { name: "app2", handler: echo("app2"), streamPath: "/logs", statusPath: "/health" },
], () => ({ mode: "router" }));
const get = async (path: string, method = "GET") =>
  await handler(new Request(`http://localhost${path}`, { method }), TEST_CLIENT);

Deno.test("router hands /{name}/… to that stream, by whole path segment", async () => {
  assert.deepEqual(await (await get("/app/stream?last_event_id=3")).json(), {
    name: "app",
    path: "/stream?last_event_id=3",
  });
  assert.deepEqual(await (await get("/app2/logs")).json(), { name: "app2", path: "/logs" });
  assert.deepEqual(await (await get("/app/logs")).json(), { name: "app", path: "/logs" });
});

Deno.test("router serves the global /status and lists every endpoint on 404", async () => {
  assert.deepEqual(await (await get("/status")).json(), { mode: "router" });
  assert.equal((await get("/status", "POST")).status, 405);
  for (const path of ["/", "/app", "/ap/stream", "/app2x/logs", "/stream"]) {
    const response = await get(path);
    assert.equal(response.status, 404, path);
    assert.deepEqual((await response.json()).endpoints, {
      status: "/status",
      "app.stream": "/app/stream",
      "app.status": "/app/status",
      "app2.stream": "/app2/logs",
      "app2.status": "/app2/health",
    });
  }
});

Deno.test("router serves an index of the streams' viewers at its viewer_path", async () => {
  const routed = routerHandler(
    [
      {
        name: "app",
        handler: echo("app"),
        streamPath: "/stream",
        statusPath: "/status",
        viewerPath: "/",
      },
      {
        name: "quiet",
        handler: echo("quiet"),
        streamPath: "/stream",
        statusPath: "/status",
        viewerPath: "",
      },
      {
        name: "sys",
        handler: echo("sys"),
        streamPath: "/logs",
        statusPath: "/health",
        viewerPath: "/view",
      },
    ],
    () => ({ mode: "router" }),
    undefined,
    "/",
  );
  const get = (path: string, method = "GET") =>
    routed(new Request(`http://localhost${path}`, { method }), TEST_CLIENT);
  const index = await get("/");
  assert.equal(index.status, 200);
  assert.match(index.headers.get("content-security-policy")!, /default-src 'none'/);
  const html = await index.text();
  assert.deepEqual([...html.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((m) => [m[2], m[1]]), [
    ["app", "/app/"],
    ["sys", "/sys/view"],
  ]);
  assert.equal((await get("/", "DELETE")).status, 405);
  // A stream's own viewer is the stream's to serve.
  assert.deepEqual(await (await get("/app/")).json(), { name: "app", path: "/" });
  const notFound = await get("/nope/x");
  assert.deepEqual((await notFound.json()).endpoints, {
    status: "/status",
    viewer: "/",
    "app.stream": "/app/stream",
    "app.status": "/app/status",
    "app.viewer": "/app/",
    "quiet.stream": "/quiet/stream",
    "quiet.status": "/quiet/status",
    "sys.stream": "/sys/logs",
    "sys.status": "/sys/health",
    "sys.viewer": "/sys/view",
  });
});
