import assert from "node:assert/strict";
import type { LogEntry } from "../entry/entry.ts";
import { decodeEntry, encodeEntry } from "./wire_entry.ts";

const encoder = new TextEncoder();

Deno.test("encodeEntry() is the entry's JSON, which decodeEntry() reads back", () => {
  const entry: LogEntry = {
    time: "2024-01-01T12:00:00.123456Z",
    source: "app.log",
    level: "ERROR",
    message: "Connection timeout",
    fields: { user_id: "12345" },
  };
  const { body, shortened } = encodeEntry(entry, 1_000_000);
  assert.equal(shortened, false);
  assert.equal(new TextDecoder().decode(body), JSON.stringify(entry));
  assert.deepEqual(decodeEntry(body), entry);
});

Deno.test("encodeEntry() cuts an entry too large for the payload limit at a character", () => {
  const entry: LogEntry = {
    time: "2024-01-01T12:00:00.123456Z",
    source: "app.log",
    level: "INFO",
    message: 'é\u{1F600}"\n'.repeat(5_000),
    fields: { big: "x".repeat(10_000) },
  };
  for (const max of [200, 1_000, 4_321]) {
    const { body, shortened } = encodeEntry(entry, max);
    assert.equal(shortened, true);
    assert.ok(body.length <= max, `${body.length} > ${max}`);
    const back = decodeEntry(body)!;
    assert.ok(entry.message.startsWith(back.message));
    assert.ok(back.message.length > 0);
    assert.deepEqual(back.fields, { truncated: true });
    assert.equal(back.level, "INFO");
    assert.ok(!back.message.includes("\ufffd"));
  }
});

Deno.test("decodeEntry() refuses what is not an entry", () => {
  const bad = [
    "not json",
    "[]",
    "null",
    '"text"',
    '{"time":"t","source":"s"}',
    '{"time":1,"source":"s","message":"m"}',
    '{"time":"t","source":"s","message":"m","level":"LOUD"}',
    '{"time":"t","source":"s","message":"m","fields":[1]}',
    '{"time":"t","source":"s","message":"m","fields":"x"}',
  ];
  for (const text of bad) assert.equal(decodeEntry(encoder.encode(text)), undefined, text);
  assert.equal(decodeEntry(new Uint8Array([0xff, 0xfe, 0x00])), undefined);
});

Deno.test("decodeEntry() keeps the wire key order and drops unknown keys", () => {
  const entry = decodeEntry(
    encoder.encode(
      '{"extra":1,"fields":{"a":1},"message":"m","level":"WARN","source":"s","time":"t"}',
    ),
  );
  assert.deepEqual(Object.keys(entry!), ["time", "source", "level", "message", "fields"]);
});

Deno.test("encodeEntry() sends an entry whose fields JSON cannot hold without them", () => {
  const entry: LogEntry = {
    time: "2024-01-01T12:00:00.123456Z",
    source: "app.log",
    message: "kept",
    fields: { n: 10n },
  };
  const { body, shortened } = encodeEntry(entry, 1_000);
  assert.equal(shortened, true);
  assert.deepEqual(decodeEntry(body), { ...entry, fields: { truncated: true } });
});
