import assert from "node:assert/strict";
import { MAX_MESSAGE_ID_LENGTH, natsMessageId } from "./message_id.ts";

Deno.test("natsMessageId() is the same for the same line", () => {
  const parts = { host: "web-1.example.com", stream: "app", file: "2049:131", offset: 4096 };
  assert.equal(natsMessageId(parts), natsMessageId({ ...parts }));
  assert.equal(natsMessageId(parts), "web-1_2e_example_2e_com.app.2049_3a_131.4096");
});

Deno.test("natsMessageId() differs whenever a part differs, even after escaping", () => {
  const ids = new Set([
    natsMessageId({ host: "a.b", stream: "s", file: "1:2", offset: 0 }),
    natsMessageId({ host: "a_b", stream: "s", file: "1:2", offset: 0 }),
    natsMessageId({ host: "a_2e_b", stream: "s", file: "1:2", offset: 0 }),
    natsMessageId({ host: "a", stream: "b.s", file: "1:2", offset: 0 }),
    natsMessageId({ host: "a.b", stream: "s", file: "1:2", offset: 1 }),
    natsMessageId({ host: "a.b", stream: "s", file: "1:3", offset: 0 }),
    natsMessageId({ host: "a.b", stream: "s", file: "12", offset: 0 }),
  ]);
  assert.equal(ids.size, 7);
});

Deno.test("natsMessageId() is bounded and printable for any input", () => {
  const long = "h".repeat(300) + "\n\u00e9\u{1F600}";
  const id = natsMessageId({
    host: long,
    stream: long,
    file: long,
    offset: Number.MAX_SAFE_INTEGER,
  });
  assert.ok(id.length <= MAX_MESSAGE_ID_LENGTH, `${id.length}`);
  assert.match(id, /^[A-Za-z0-9_~.-]+$/);
  const other = natsMessageId({ host: long + "x", stream: long, file: long, offset: 1 });
  assert.notEqual(id.split(".")[0], other.split(".")[0]);
  assert.match(natsMessageId({ host: "é", stream: "s", file: "f", offset: 0 }), /^[A-Za-z0-9_.]+$/);
});

Deno.test("natsMessageId() refuses an offset that is not a byte position", () => {
  assert.throws(() => natsMessageId({ host: "h", stream: "s", file: "f", offset: -1 }), RangeError);
  assert.throws(
    () => natsMessageId({ host: "h", stream: "s", file: "f", offset: 1.5 }),
    RangeError,
  );
});
