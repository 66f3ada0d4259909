import assert from "node:assert/strict";
import { type OpsEndpoints, opsHandler, opsResponse, type Readiness } from "./ops_endpoints.ts";
import { TEST_CLIENT } from "../_test_utils.ts";

function ops(readiness: Readiness, metricsPath = "/metrics"): OpsEndpoints {
  return {
    metricsPath,
    metrics: () => Promise.resolve("# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n"),
    readiness: () => readiness,
  };
}

function request(path: string, method = "GET"): Request {
  return new Request(`http://localhost${path}`, { method });
}

async function answer(
  path: string,
  endpoints: OpsEndpoints,
  method = "GET",
): Promise<{ status: number; body: string; type: string | null }> {
  const response = await opsResponse(request(path, method), path, endpoints);
  assert.ok(response, `${path} is an operator endpoint`);
  return {
    status: response.status,
    body: await response.text(),
    type: response.headers.get("content-type"),
  };
}

Deno.test("/readyz is 200 only when ready; /healthz is 200 in every state", async () => {
  for (const state of ["starting", "ready", "stopping"] as const) {
    const ready = await answer("/readyz", ops(state));
    assert.deepEqual(
      [ready.status, JSON.parse(ready.body)],
      [state === "ready" ? 200 : 503, { status: state }],
    );
    const alive = await answer("/healthz", ops(state));
    assert.deepEqual([alive.status, JSON.parse(alive.body)], [200, { status: "alive" }]);
  }
});

Deno.test("metrics: the exposition with its content type; HEAD without a body; POST is 405", async () => {
  const get = await answer("/metrics", ops("ready"));
  assert.equal(get.status, 200);
  assert.equal(get.type, "text/plain; version=0.0.4; charset=utf-8");
  assert.match(get.body, /^x_total 1$/m);
  const head = await answer("/metrics", ops("ready"), "HEAD");
  assert.deepEqual([head.status, head.body], [200, ""]);
  const post = await answer("/metrics", ops("ready"), "POST");
  assert.equal(post.status, 405);
  const custom = await answer("/prom", ops("ready", "/prom"));
  assert.equal(custom.status, 200);
});

Deno.test('other paths are not operator endpoints; metrics_path "" turns metrics off', () => {
  assert.equal(opsResponse(request("/status"), "/status", ops("ready")), undefined);
  assert.equal(opsResponse(request("/metrics"), "/metrics", ops("ready", "")), undefined);
  assert.equal(opsResponse(request(""), "", ops("ready", "")), undefined);
});

Deno.test("opsHandler answers 404 with its endpoints elsewhere", async () => {
  const handler = opsHandler(ops("starting", "/prom"));
  const response = await handler(request("/stream"), TEST_CLIENT);
  assert.equal(response.status, 404);
  assert.deepEqual((await response.json()).endpoints, {
    healthz: "/healthz",
    readyz: "/readyz",
    metrics: "/prom",
  });
  const ready = await handler(request("/readyz"), TEST_CLIENT);
  assert.equal(ready.status, 503);
  await ready.body?.cancel();
});
