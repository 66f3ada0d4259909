import assert from "node:assert/strict";
import { selectionFromRequest } from "./filter_request.ts";

const request = (query: string, method = "GET") =>
  new Request(`http://localhost/stream${query}`, { method });

Deno.test("selectionFromRequest() leaves unfiltered clients on the hub's fast path", () => {
  const selection = selectionFromRequest(request("?last_event_id=5&foo=1"), {});
  assert.deepEqual(selection, { filter: undefined, filterDescription: undefined, tail: undefined });
});

Deno.test("selectionFromRequest() gives the filter, its description and tail", () => {
  const selection = selectionFromRequest(request("?level=WARN&tail=20"), {});
  assert.ok(!(selection instanceof Response));
  assert.equal(selection.filterDescription, "level=WARN tail=20");
  assert.equal(selection.tail, 20);
  assert.equal(
    selection.filter!.matches({ time: "", source: "a", level: "ERROR", message: "" }),
    true,
  );
  assert.equal(selection.filter!.matches({ time: "", source: "a", message: "" }), false);
  const tailOnly = selectionFromRequest(request("?tail=0"), {});
  assert.ok(!(tailOnly instanceof Response));
  assert.equal(tailOnly.filter, undefined);
  assert.equal(tailOnly.tail, 0);
});

Deno.test("selectionFromRequest() answers a bad parameter with 400 naming it", async () => {
  const response = selectionFromRequest(request("?field.user=a&tail=x"), { Vary: "Origin" });
  assert.ok(response instanceof Response);
  assert.equal(response.status, 400);
  assert.equal(response.headers.get("vary"), "Origin");
  const body = await response.json();
  assert.equal(body.parameter, "tail");
  assert.match(body.error, /^Parameter "tail": expected a whole number/);
  const head = selectionFromRequest(request("?level=x", "HEAD"), {});
  assert.ok(head instanceof Response);
  assert.equal(head.body, null);
});
