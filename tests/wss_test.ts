/**
 * WebSocket behind the server's security (README "WebSocket" and "Security"): `wss://` on a
 * TLS server with Basic auth, the browser `Origin` checked against `cors_origins`, through
 * the npm `ws` client as a browser-less program would use it.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import NodeWebSocket from "ws";
import { append, tempDir, which } from "../src/_test_utils.ts";
import { makeCertificates } from "../src/tls/testdata/make_certs.ts";
import { freePort, serversToml, startLogWisp, streamToml, writeConfig } from "./_logwisp.ts";

const PASSWORD = "correct-horse-battery";

/** What a `ws` client saw: the HTTP status of a refused handshake, or its messages. */
interface Outcome {
  readonly status?: number;
  readonly messages: Record<string, unknown>[];
}

/** Connects, collects messages until `enough` of them or a refusal, then closes. */
function connect(
  url: string,
  options: NodeWebSocket.ClientOptions,
  enough: number,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const messages: Record<string, unknown>[] = [];
    const socket = new NodeWebSocket(url, options);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no outcome from ${url} within 10 s: ${JSON.stringify(messages)}`));
    }, 10_000);
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.once("close", () => resolve(outcome));
      socket.terminate();
    };
    socket.on("unexpected-response", (_request: unknown, response: IncomingMessage) => {
      response.resume();
      done({ status: response.statusCode ?? 0, messages });
    });
    socket.on("message", (data: unknown) => {
      messages.push(JSON.parse(String(data)));
      if (messages.length >= enough) done({ messages });
    });
    socket.on("error", () => {/* the outcome or the timeout says what happened */});
  });
}

Deno.test({
  name: "wss: WebSocket over TLS needs the server's Basic auth and an allowed Origin",
  ignore: !which("htpasswd"),
  fn: async () => {
    await using dir = await tempDir("logwisp_wss_");
    const certs = await makeCertificates(dir.path);
    const users = join(dir.path, "users.htpasswd");
    const htpasswd = await new Deno.Command("htpasswd", {
      args: ["-B", "-C", "5", "-b", "-c", users, "admin", PASSWORD],
      stdout: "null",
      stderr: "null",
    }).output();
    assert.ok(htpasswd.success, "htpasswd");
    const log = join(dir.path, "app.log");
    await Deno.writeTextFile(log, "");
    const port = freePort();
    const config = await writeConfig(
      dir.path,
      streamToml(
        dir.path,
        "app",
        serversToml({ httpPort: port }) + `[streams.httpserver.tls]
enabled = true
cert_file = "${certs.server.cert}"
key_file = "${certs.server.key}"
[streams.httpserver.auth]
type = "basic"
users_file = "${users}"
[streams.httpserver.access]
cors_origins = ["https://logs.example.com"]
`,
      ),
    );
    await using _logwisp = await startLogWisp(["--config", config, "--quiet"]);
    const url = `wss://localhost:${port}/ws`;
    const ca = await Deno.readTextFile(certs.ca.cert);
    const basic = `Basic ${btoa(`admin:${PASSWORD}`)}`;

    assert.equal((await connect(url, { ca }, 1)).status, 401, "no credentials");
    assert.equal(
      (await connect(url, { ca, headers: { Authorization: `Basic ${btoa("admin:wrong")}` } }, 1))
        .status,
      401,
      "a wrong password",
    );
    assert.equal(
      (await connect(url, {
        ca,
        headers: { Authorization: basic },
        origin: "https://evil.example.net",
      }, 1)).status,
      403,
      "an origin cors_origins does not allow",
    );

    const reading = connect(url, {
      ca,
      headers: { Authorization: basic },
      origin: "https://logs.example.com",
    }, 2);
    // Written until the client has it: the client may connect after the first write.
    let written = 0;
    const writer = setInterval(() => append(log, `line ${++written}\n`), 100);
    try {
      const { status, messages } = await reading;
      assert.equal(status, undefined);
      assert.equal(messages[0]?.type, "connected");
      assert.equal(messages[1]?.type, "entry");
      assert.match(String((messages[1]?.entry as { message: string }).message), /^line \d+$/);
    } finally {
      clearInterval(writer);
    }
  },
});
