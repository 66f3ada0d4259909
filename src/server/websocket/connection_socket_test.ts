import assert from "node:assert/strict";
import { waitFor } from "../../_test_utils.ts";
import { denoConnection } from "../connection.ts";
import { ConnectionSocket, SOCKET_HIGH_WATER_MARK } from "./connection_socket.ts";

/** A socket over a real TCP connection, and the client end of it. */
async function pair(): Promise<
  { socket: ConnectionSocket; client: Deno.TcpConn } & AsyncDisposable
> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [server, client] = await Promise.all([
    listener.accept(),
    Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port }),
  ]);
  const socket = new ConnectionSocket(denoConnection(server));
  return {
    socket,
    client,
    async [Symbol.asyncDispose]() {
      socket.destroy();
      try {
        client.close();
      } catch {
        // Closed by the test.
      }
      await socket.finished;
    },
  };
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  for (let count; (count = await conn.read(buffer)) !== null;) chunks.push(buffer.slice(0, count));
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

Deno.test("ConnectionSocket writes in order, asks to wait past its mark, then drains", async () => {
  await using p = await pair();
  let drains = 0;
  p.socket.on("drain", () => drains++);
  const written: number[] = [];
  assert.equal(p.socket.write(new Uint8Array(10).fill(1), () => written.push(1)), true);
  const big = new Uint8Array(SOCKET_HIGH_WATER_MARK).fill(2);
  assert.equal(p.socket.write(big, () => written.push(2)), false);
  assert.ok(p.socket.writableLength >= SOCKET_HIGH_WATER_MARK);
  const received = readAll(p.client);
  await waitFor(() => drains === 1);
  assert.deepEqual(written, [1, 2]);
  assert.equal(p.socket.writableLength, 0);
  // end() closes once what is queued is written.
  p.socket.write(new Uint8Array([3]));
  p.socket.end();
  const bytes = await received;
  assert.equal(bytes.length, 10 + SOCKET_HIGH_WATER_MARK + 1);
  assert.equal(bytes.at(-1), 3);
  await waitFor(() => p.socket.destroyed);
});

Deno.test("ConnectionSocket reports input, the end of input, and close exactly once", async () => {
  await using p = await pair();
  const events: string[] = [];
  p.socket.on("data", (chunk) => events.push(`data ${new TextDecoder().decode(chunk)}`));
  p.socket.on("end", () => events.push("end"));
  p.socket.on("close", () => events.push("close"));
  await p.client.write(new TextEncoder().encode("hi"));
  await waitFor(() => events.length === 1);
  await p.client.closeWrite();
  await waitFor(() => events.includes("end"));
  p.socket.destroy();
  p.socket.destroy();
  await waitFor(() => events.includes("close"));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(events, ["data hi", "end", "close"]);
  assert.equal(p.socket.write(new Uint8Array(1)), false);
});
