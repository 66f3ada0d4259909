import assert from "node:assert/strict";
import type { Connection } from "./connection.ts";
import { readHello } from "./tcp_hello.ts";

/** A connection whose client sends `chunks` (a number: wait that many ms), then closes. */
function scripted(chunks: readonly (string | number)[]): Connection & { closed: boolean } {
  const queue = [...chunks];
  const connection = {
    peer: { address: "127.0.0.1", port: 1 },
    closed: false,
    async read(buffer: Uint8Array): Promise<number | null> {
      for (;;) {
        const next = queue.shift();
        if (next === undefined || connection.closed) return null;
        if (typeof next === "number") {
          await new Promise((resolve) => setTimeout(resolve, next));
          continue;
        }
        const bytes = new TextEncoder().encode(next);
        if (bytes.length > buffer.length) {
          queue.unshift(new TextDecoder().decode(bytes.subarray(buffer.length)));
        }
        buffer.set(bytes.subarray(0, buffer.length));
        return Math.min(bytes.length, buffer.length);
      }
    },
    write: (bytes: Uint8Array) => Promise.resolve(bytes.length),
    close() {
      connection.closed = true;
    },
  };
  return connection;
}

Deno.test("readHello() reads a JSON object line, also split across reads", async () => {
  const { hello, input } = readHello(scripted(['{"level":', '"WARN","tail":3}\n', "ignored"]));
  assert.deepEqual(await hello, { kind: "hello", object: { level: "WARN", tail: 3 } });
  await input;
});

Deno.test("readHello() serves a client that sends nothing, or no JSON, unfiltered", async () => {
  const silent = readHello(scripted([50]), { waitMs: 10 });
  assert.deepEqual(await silent.hello, { kind: "none" });
  await silent.input;
  const chatty = readHello(scripted(["hello there\n"]));
  assert.deepEqual(await chatty.hello, { kind: "none" });
  await chatty.input;
  const gone = readHello(scripted([]));
  assert.deepEqual(await gone.hello, { kind: "closed" });
  await gone.input;
});

Deno.test("readHello() refuses a hello that is not a JSON object, too long or unfinished", async () => {
  const cases: [(string | number)[], RegExp][] = [
    [['{"level": \n'], /^Hello line is not JSON/],
    [["{}x\n"], /^Hello line is not JSON/],
    [[`{"a":"${"x".repeat(20_000)}"}\n`], /longer than 16384 bytes/],
    [["{", 100], /not complete within 0\.02 s/],
  ];
  for (const [chunks, error] of cases) {
    const { hello, input } = readHello(scripted(chunks), { timeoutMs: 20 });
    const said = await hello;
    assert.equal(said.kind, "error");
    assert.match((said as { error: string }).error, error);
    await input;
  }
  const array = readHello(scripted(["[1]\n"]));
  assert.equal((await array.hello).kind, "none");
  await array.input;
});
