import assert from "node:assert/strict";
import { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import NodeWebSocket from "ws";
import { nextTurn } from "../../async.ts";
import { tempDir, waitFor, within } from "../../_test_utils.ts";
import { OPCODE, textFrame } from "./frame.ts";
import { FrameDecoder, type WebSocketEvent } from "./frame_decoder.ts";
import { type WebSocketCloseInfo, WebSocketSession, type WebSocketSocket } from "./session.ts";
import {
  clientFrame,
  parseServerFrames,
  RawClient,
  selfSignedCert,
  type ServedSession,
  startServer,
} from "./_test_utils.ts";

const encoder = new TextEncoder();
const text = (value: string) => textFrame(encoder.encode(value));

/** The first session the server accepted, once it has. */
async function firstSession(sessions: ServedSession[]): Promise<ServedSession> {
  await waitFor(() => sessions.length > 0, { message: "no session accepted" });
  return sessions[0]!;
}

/** Waits for the session to close; checks `onClose` came once and returns what it said. */
async function closedOnce(served: ServedSession): Promise<WebSocketCloseInfo> {
  const info = await within(served.session.closed, 10_000, "the session to close");
  await nextTurn();
  assert.equal(served.closeCalls.length, 1, "onClose called exactly once");
  assert.strictEqual(served.closeCalls[0], info);
  assert.equal(served.session.state, "closed");
  return info;
}

/** Everything the client sends, decoded by a second decoder watching the server's socket. */
function watchClient(served: ServedSession): WebSocketEvent[] {
  const decoder = new FrameDecoder();
  const events: WebSocketEvent[] = [];
  served.socket.on("data", (chunk: Uint8Array) => events.push(...decoder.push(chunk)));
  return events;
}

/** A Deno WebSocket, its messages, and its close event once it comes. */
async function denoClient(url: string) {
  const socket = new WebSocket(url);
  const messages: string[] = [];
  socket.onmessage = (event) => messages.push(event.data);
  const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  return { socket, messages, closed };
}

/** An npm `ws` client, its messages and pongs, and its close once it comes. */
async function wsClient(url: string, options: Record<string, unknown> = {}) {
  const socket = new NodeWebSocket(url, options);
  const messages: (string | Uint8Array)[] = [];
  const pongs: Uint8Array[] = [];
  const pings: Uint8Array[] = [];
  socket.on("message", (data: Uint8Array, isBinary: boolean) => {
    messages.push(isBinary ? new Uint8Array(data) : new TextDecoder().decode(data));
  });
  socket.on("pong", (data: Uint8Array) => pongs.push(new Uint8Array(data)));
  socket.on("ping", (data: Uint8Array) => pings.push(new Uint8Array(data)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on("close", (code: number, reason: Uint8Array) => {
      resolve({ code, reason: new TextDecoder().decode(reason) });
    });
  });
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  return { socket, messages, pongs, pings, closed };
}

Deno.test("Deno's WebSocket: text both ways, clean close by the client", async () => {
  await using server = await startServer();
  const client = await denoClient(server.url);
  const served = await firstSession(server.sessions);
  assert.ok(served.session.send(text('{"type":"connected"}')));
  await waitFor(() => client.messages.length === 1);
  assert.deepEqual(client.messages, ['{"type":"connected"}']);
  client.socket.send("héllo");
  await waitFor(() => client.messages.length === 2, { message: "no echo" });
  assert.deepEqual(served.messages, ["héllo"]);
  assert.equal(client.messages[1], "héllo");
  client.socket.close(1000, "bye");
  const [event, info] = await Promise.all([client.closed, closedOnce(served)]);
  assert.deepEqual([event.code, event.reason, event.wasClean], [1000, "bye", true]);
  assert.deepEqual(info, { code: 1000, reason: "bye", wasClean: true, initiator: "client" });
});

// A ping that crosses the client's own close makes Deno's WebSocket report 1005 at once, so
// here the server closes: it sends no ping after its close frame.
Deno.test("Deno's WebSocket: server pings answered, clean close by the server", async () => {
  await using server = await startServer({ session: { pingIntervalMs: 20, pongTimeoutMs: 5000 } });
  const client = await denoClient(server.url);
  const served = await firstSession(server.sessions);
  const seen = watchClient(served);
  await waitFor(() => seen.filter((event) => event.type === "pong").length >= 3, {
    message: "Deno's WebSocket answered no pings",
  });
  served.session.send(text("last words"));
  served.session.close(1001, "Server shutting down");
  assert.equal(served.session.state, "closing");
  assert.equal(served.session.send(text("too late")), false);
  assert.equal(await served.session.drained(), false);
  const [event, info] = await Promise.all([client.closed, closedOnce(served)]);
  assert.deepEqual(client.messages, ["last words"]);
  assert.deepEqual([event.code, event.reason, event.wasClean], [
    1001,
    "Server shutting down",
    true,
  ]);
  assert.deepEqual(info, {
    code: 1001,
    reason: "Server shutting down",
    wasClean: true,
    initiator: "server",
  });
});

Deno.test("npm ws: text and binary, pings both ways, clean close by the client", async () => {
  await using server = await startServer({ session: { pingIntervalMs: 20, pongTimeoutMs: 5000 } });
  const client = await wsClient(server.url);
  const served = await firstSession(server.sessions);
  client.socket.send("one");
  client.socket.send(new Uint8Array([1, 2, 3]));
  client.socket.ping(new Uint8Array([7, 7]));
  await waitFor(() => client.messages.length === 1 && client.pongs.length === 1);
  assert.deepEqual(served.messages, ["one", new Uint8Array([1, 2, 3])]);
  assert.deepEqual(client.messages, ["one"]);
  assert.deepEqual(client.pongs, [new Uint8Array([7, 7])]);
  await waitFor(() => client.pings.length >= 3, { message: "the server sent no pings" });
  assert.equal(served.session.state, "open", "ws answers pings, so the session lives on");
  client.socket.close(4000, "done");
  const [closed, info] = await Promise.all([client.closed, closedOnce(served)]);
  assert.deepEqual(closed, { code: 4000, reason: "done" });
  assert.deepEqual(info, { code: 4000, reason: "done", wasClean: true, initiator: "client" });
});

Deno.test("npm ws: clean close by the server, and frames of every length", async () => {
  await using server = await startServer();
  const client = await wsClient(server.url);
  const served = await firstSession(server.sessions);
  const sizes = [0, 125, 126, 65535, 65536, 1024 * 1024];
  const payloads = sizes.map((size) => "x".repeat(size));
  for (const payload of payloads) {
    if (!served.session.send(text(payload))) await served.session.drained();
  }
  await waitFor(() => client.messages.length === sizes.length);
  assert.deepEqual(client.messages.map((message) => message.length), sizes);
  assert.deepEqual(client.messages, payloads);
  served.session.close(1000);
  const [closed, info] = await Promise.all([client.closed, closedOnce(served)]);
  assert.deepEqual(closed, { code: 1000, reason: "" });
  assert.deepEqual(info, { code: 1000, reason: "", wasClean: true, initiator: "server" });
});

Deno.test("npm ws: a client that does not answer pings is dropped after the pong timeout", async () => {
  await using server = await startServer({ session: { pingIntervalMs: 30, pongTimeoutMs: 60 } });
  const client = await wsClient(server.url, { autoPong: false });
  const served = await firstSession(server.sessions);
  const [closed, info] = await Promise.all([client.closed, closedOnce(served)]);
  assert.ok(client.pings.length >= 1);
  assert.equal(closed.code, 1006);
  assert.deepEqual(info, {
    code: 1006,
    reason: "No pong within 60 ms",
    wasClean: false,
    initiator: "server",
  });
});

for (const kind of ["deno", "ws"]) {
  Deno.test(`A killed ${kind} client process: onClose once, with 1006`, async () => {
    await using server = await startServer();
    const script = fileURLToPath(new URL("./testdata/client.ts", import.meta.url));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-net", "--allow-env", script, kind, server.url],
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    try {
      const served = await firstSession(server.sessions);
      await waitFor(() => served.messages.length === 1, { message: "no ready message" });
      assert.deepEqual(served.messages, ["ready"]);
      child.kill("SIGKILL");
      const info = await closedOnce(served);
      assert.equal(info.code, 1006);
      assert.equal(info.wasClean, false);
      assert.equal(info.initiator, "client");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already killed.
      }
      await child.status;
    }
  });
}

Deno.test("npm ws: terminate() on either side ends the session once", async () => {
  await using server = await startServer();
  const a = await wsClient(server.url);
  const b = await wsClient(server.url);
  await waitFor(() => server.sessions.length === 2);
  const [first, second] = server.sessions as [ServedSession, ServedSession];
  a.socket.terminate();
  second.session.terminate("Slow client");
  second.session.terminate("Twice");
  const [infoA, infoB] = await Promise.all([closedOnce(first), closedOnce(second), a.closed]);
  assert.equal(infoA.code, 1006);
  assert.equal(infoA.initiator, "client");
  assert.deepEqual(infoB, {
    code: 1006,
    reason: "Slow client",
    wasClean: false,
    initiator: "server",
  });
  assert.equal((await b.closed).code, 1006);
});

Deno.test("A protocol error gets a close frame with its code, then the end of the connection", async () => {
  await using server = await startServer();
  using client = await RawClient.connect(server.port);
  const served = await firstSession(server.sessions);
  await client.write(clientFrame(OPCODE.TEXT, "hi", { masked: false }));
  const frames = parseServerFrames(await client.readToEnd());
  client[Symbol.dispose]();
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.opcode, OPCODE.CLOSE);
  const payload = frames[0]!.payload;
  assert.equal(payload[0]! << 8 | payload[1]!, 1002);
  assert.equal(new TextDecoder().decode(payload.subarray(2)), "Unmasked client frame");
  const info = await closedOnce(served);
  assert.deepEqual(info, {
    code: 1002,
    reason: "Unmasked client frame",
    wasClean: false,
    initiator: "server",
  });
});

Deno.test("npm ws: a message over the limit is refused with 1009", async () => {
  await using server = await startServer({ session: { maxMessageBytes: 1000 } });
  const client = await wsClient(server.url);
  const served = await firstSession(server.sessions);
  client.socket.send("x".repeat(1000));
  client.socket.send("x".repeat(1001));
  const [closed, info] = await Promise.all([client.closed, closedOnce(served)]);
  assert.equal(served.messages.length, 1);
  assert.deepEqual(closed, { code: 1009, reason: "Message over 1000 bytes" });
  assert.equal(info.code, 1009);
});

Deno.test("Frames sent with the handshake (the upgrade's head) are not lost", async () => {
  await using server = await startServer();
  using client = await RawClient.connect(server.port, {
    extra: new Uint8Array([...clientFrame(OPCODE.TEXT, "early"), ...clientFrame(OPCODE.CLOSE)]),
  });
  const frames = parseServerFrames(await client.readToEnd());
  client[Symbol.dispose]();
  assert.deepEqual(
    frames.map((frame) => [frame.opcode, new TextDecoder().decode(frame.payload)]),
    [[OPCODE.TEXT, "early"], [OPCODE.CLOSE, ""]],
  );
  const served = await firstSession(server.sessions);
  assert.deepEqual(served.messages, ["early"]);
  const info = await closedOnce(served);
  assert.deepEqual(info, { code: 1005, reason: "", wasClean: true, initiator: "client" });
});

for (const secure of [false, true]) {
  Deno.test(`A client that does not read (${secure ? "wss" : "ws"}): send() turns false, drained() waits, then resolves false when it goes`, async () => {
    await using dir = await tempDir();
    const tls = secure ? await selfSignedCert(dir.path) : undefined;
    await using server = await startServer({ tls });
    const client = await RawClient.connect(server.port, { cert: tls?.cert });
    const served = await firstSession(server.sessions);
    const { session } = served;
    const frame = text("y".repeat(60 * 1024));
    let sent = 0;
    let waiting = false;
    let mostBuffered = 0;
    const writer = (async () => {
      for (;;) {
        const writable = session.send(frame);
        mostBuffered = Math.max(mostBuffered, session.bufferedAmount);
        if (writable) {
          sent++;
          continue;
        }
        waiting = true;
        if (!(await session.drained())) return;
        waiting = false;
        sent++;
      }
    })();
    // A few megabytes fill the kernel's buffers; after that the writer waits for good.
    await waitFor(() => waiting && sent * frame.length > 1024 * 1024, {
      timeoutMs: 20_000,
      message: () => `sent ${sent} frames`,
    });
    client[Symbol.dispose]();
    await within(writer, 10_000, "the writer to see the session end");
    const info = await closedOnce(served);
    assert.equal(info.code, 1006);
    // Past the socket's high-water mark, the writer waited: one batch over it at most.
    const limit = served.socket.writableHighWaterMark + frame.length;
    assert.ok(mostBuffered < limit, `buffered up to ${mostBuffered}, limit ${limit}`);
  });
}

Deno.test("A client that floods pings and does not read gets its pongs coalesced", async () => {
  await using server = await startServer();
  using client = await RawClient.connect(server.port);
  const served = await firstSession(server.sessions);
  const ping = clientFrame(OPCODE.PING, new Uint8Array(125));
  const count = 100_000;
  const flood = new Uint8Array(ping.length * count);
  for (let i = 0; i < count; i++) flood.set(ping, i * ping.length);
  await client.write(flood);
  await client.write(clientFrame(OPCODE.TEXT, "after the flood"));
  await waitFor(() => served.messages.length === 1, { timeoutMs: 20_000 });
  // 12.7 MB of pongs would not fit in the kernel's buffers: at most one waits in the socket.
  assert.ok(
    served.session.bufferedAmount <= 127,
    `${served.session.bufferedAmount} bytes buffered`,
  );
});

Deno.test("A client that never answers a close frame is cut off after the close timeout", async () => {
  await using server = await startServer({ session: { closeTimeoutMs: 50 } });
  using client = await RawClient.connect(server.port);
  const served = await firstSession(server.sessions);
  served.session.close(1008, "Too slow");
  const frames = parseServerFrames(await client.readToEnd());
  assert.deepEqual(frames.map((frame) => frame.opcode), [OPCODE.CLOSE]);
  const info = await closedOnce(served);
  assert.deepEqual(info, { code: 1008, reason: "Too slow", wasClean: false, initiator: "server" });
});

Deno.test("A message handler that throws closes the session with 1011", async () => {
  const failure = new Error("Handler broke");
  await using server = await startServer({
    onMessage: () => {
      throw failure;
    },
  });
  const client = await wsClient(server.url);
  const served = await firstSession(server.sessions);
  client.socket.send("boom");
  const [closed, info] = await Promise.all([client.closed, closedOnce(served)]);
  assert.deepEqual(closed, { code: 1011, reason: "Internal error" });
  assert.deepEqual(info, {
    code: 1011,
    reason: "Internal error",
    wasClean: true,
    initiator: "server",
    error: failure,
  });
});

Deno.test("WebSocketSession refuses invalid durations and close codes", () => {
  const socket: WebSocketSocket = {
    write: () => true,
    end: () => {},
    destroy: () => {},
    writableLength: 0,
    destroyed: false,
    on: () => {},
  };
  assert.throws(
    () => new WebSocketSession(socket, { pingIntervalMs: -1 }),
    /Invalid ping interval -1: expected milliseconds/,
  );
  assert.throws(() => new WebSocketSession(socket, { closeTimeoutMs: NaN }), RangeError);
  assert.throws(() => new WebSocketSession(socket, { maxMessageBytes: 0.5 }), RangeError);
  const session = new WebSocketSession(socket);
  assert.throws(() => session.close(1006), /Close code 1006 may not be sent/);
  assert.equal(session.state, "open");
});

Deno.test("wss: node:https hands TLS sockets to the session just the same", async () => {
  await using dir = await tempDir();
  const tls = await selfSignedCert(dir.path);
  await using server = await startServer({ tls });
  assert.match(server.url, /^wss:/);
  const client = await wsClient(server.url, { ca: tls.cert });
  const served = await firstSession(server.sessions);
  const big = "z".repeat(1024 * 1024);
  client.socket.send("over tls");
  if (!served.session.send(text(big))) await served.session.drained();
  await waitFor(() => client.messages.length === 2);
  // The echo and the big frame race: both must arrive whole.
  assert.ok(client.messages.includes("over tls") && client.messages.includes(big));
  client.socket.close(1000, "tls done");
  const [closed, info] = await Promise.all([client.closed, closedOnce(served)]);
  assert.deepEqual(closed, { code: 1000, reason: "tls done" });
  assert.deepEqual(info, { code: 1000, reason: "tls done", wasClean: true, initiator: "client" });
});

Deno.test("A socket that closed before the session took over still ends it, once", async () => {
  const socket = new Socket();
  const gone = new Promise((resolve) => socket.on("close", resolve));
  socket.destroy();
  await gone;
  const calls: WebSocketCloseInfo[] = [];
  const session = new WebSocketSession(socket, { onClose: (info) => calls.push(info) });
  const info = await within(session.closed, 5_000, "the session to notice");
  await nextTurn();
  assert.deepEqual(calls, [info]);
  assert.deepEqual(info, {
    code: 1006,
    reason: "Connection closed without a close frame",
    wasClean: false,
    initiator: "client",
  });
});
