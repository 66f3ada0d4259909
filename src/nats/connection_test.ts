import assert from "node:assert/strict";
import { join } from "node:path";
import { nkeys } from "@nats-io/transport-node";
import { tempDir, waitFor } from "../_test_utils.ts";
import { StartupError } from "../service/startup_error.ts";
import { collectingLog, startNatsServer } from "../../tests/_nats.ts";
import { backoffDelay, checkNatsConnection, NatsLink, serverUrlProblem } from "./connection.ts";

const FAST = { minMs: 50, maxMs: 200 };

Deno.test("serverUrlProblem() accepts NATS URLs and host:port, refuses the rest", () => {
  for (
    const ok of ["nats://nats-1:4222", "tls://nats:4443", "127.0.0.1:4222", "nats-1", "[::1]:4222"]
  ) {
    assert.equal(serverUrlProblem(ok), undefined, ok);
  }
  assert.match(serverUrlProblem("http://nats:4222")!, /scheme must be "nats" or "tls", not "http"/);
  assert.match(serverUrlProblem("nats://nats:99999")!, /is not a URL/);
  assert.match(serverUrlProblem("nats://nats:4222/x")!, /no path/);
  assert.match(serverUrlProblem("")!, /expected a NATS server URL/);
  const withSecret = serverUrlProblem("nats://alice:s3cret@nats:4222")!;
  assert.match(withSecret, /credentials do not belong in the URL/);
  assert.ok(!withSecret.includes("s3cret"));
});

Deno.test("backoffDelay() grows with the outage and stays within its bounds", () => {
  const backoff = { minMs: 250, maxMs: 2_000 };
  assert.equal(backoffDelay(backoff, 0), 250);
  assert.equal(backoffDelay(backoff, 1_000), 500);
  assert.equal(backoffDelay(backoff, 3_000), 1_500);
  assert.equal(backoffDelay(backoff, 3_600_000), 2_000);
});

Deno.test("checkNatsConnection() names each unusable key and file, and no secret", async () => {
  await using dir = await tempDir();
  const empty = join(dir.path, "empty");
  const garbage = join(dir.path, "garbage");
  await Deno.writeTextFile(empty, "\n");
  await Deno.writeTextFile(garbage, "hunter2-not-a-seed\n");
  const missing = join(dir.path, "missing.creds");
  const issues = await checkNatsConnection({
    servers: ["nats://ok:4222", "http://bad"],
    credsFile: missing,
    tokenFile: empty,
  }, "streams[0].publish");
  assert.deepEqual(issues.map((issue) => issue.key), [
    "streams[0].publish.servers[1]",
    "streams[0].publish.token_file",
    "streams[0].publish.creds_file",
    "streams[0].publish.token_file",
  ]);
  assert.match(issues[1]!.message, /conflicts with creds_file/);
  assert.equal(issues[2]!.message, `Cannot read ${JSON.stringify(missing)}: it does not exist`);
  assert.equal(issues[3]!.message, `${JSON.stringify(empty)} is empty`);

  const more = await checkNatsConnection({
    servers: [],
    nkeyFile: garbage,
    passwordFile: garbage,
    tls: { certFile: garbage, caFile: join(dir.path, "nope") },
  }, "s");
  const text = more.map((issue) => `${issue.key}: ${issue.message}`).join("\n");
  assert.match(text, /^s\.servers: required: at least one NATS server URL$/m);
  assert.match(text, /^s\.nkey_file: conflicts with user \+ password_file: use one kind/m);
  assert.match(text, /^s\.user: required with password_file$/m);
  assert.match(text, /^s\.nkey_file: ".*garbage" is not an nkey user seed/m);
  assert.match(text, /^s\.tls\.ca_file: Cannot read ".*nope": it does not exist$/m);
  assert.match(text, /^s\.tls\.cert_file: not a PEM file with a certificate$/m);
  assert.match(text, /^s\.tls\.key_file: required with cert_file$/m);
  assert.ok(!text.includes("hunter2"));
});

Deno.test("NatsLink.open() with a missing creds file fails naming key and file", async () => {
  const log = collectingLog();
  await assert.rejects(
    NatsLink.open({
      config: { servers: ["nats://127.0.0.1:4222"], credsFile: "/nonexistent/user.creds" },
      name: "test",
      label: 'stream "app": publish',
      log,
    }),
    (error) => {
      assert.ok(error instanceof StartupError);
      assert.equal(
        error.message,
        'stream "app": publish: creds_file: Cannot read "/nonexistent/user.creds": it does not exist',
      );
      return true;
    },
  );
});

Deno.test("NatsLink waits for a NATS that starts later, and follows its restarts", async () => {
  await using server = await startNatsServer();
  await server.kill();
  const log = collectingLog();
  await using link = await NatsLink.open({
    config: { servers: [server.url] },
    name: "test",
    label: "link",
    log,
    backoff: FAST,
  });
  const states: string[] = [];
  link.onStateChange((state) => states.push(state));
  assert.equal(link.state, "reconnecting");
  assert.equal(link.connection, undefined);
  await waitFor(() => log.lines.some((line) => /Cannot connect to NATS/.test(line)));
  const connected = link.connected();
  await server.restart();
  const nc = await connected;
  assert.equal(link.state, "connected");
  assert.equal(link.connection, nc);

  await server.kill();
  await waitFor(() => link.state === "reconnecting", { message: () => log.lines.join("\n") });
  await server.restart();
  await waitFor(() => link.state === "connected", {
    timeoutMs: 15_000,
    message: () => log.lines.join("\n"),
  });
  assert.deepEqual(states, ["connected", "reconnecting", "connected"]);
  assert.match(log.lines.join("\n"), /warn link: NATS connection to .* lost; reconnecting/);
  assert.match(log.lines.join("\n"), /info link: NATS reconnected to /);
});

Deno.test("NatsLink authenticates with a token file and a user + password file", async () => {
  await using dir = await tempDir();
  const tokenFile = join(dir.path, "token");
  const passwordFile = join(dir.path, "password");
  await Deno.writeTextFile(tokenFile, "s3cret-token\n");
  await Deno.writeTextFile(passwordFile, "pass word \n");

  {
    await using server = await startNatsServer({ auth: { token: "s3cret-token" } });
    await using link = await NatsLink.open({
      config: { servers: [server.url], tokenFile },
      name: "test",
      label: "token",
      log: collectingLog(),
    });
    await link.connected(AbortSignal.timeout(10_000));
  }
  {
    await using server = await startNatsServer({ auth: { user: "alice", password: "pass word " } });
    await using link = await NatsLink.open({
      config: { servers: [server.url], user: "alice", passwordFile },
      name: "test",
      label: "user",
      log: collectingLog(),
    });
    await link.connected(AbortSignal.timeout(10_000));

    await Deno.writeTextFile(passwordFile, "wrong\n");
    const log = collectingLog();
    await using refused = await NatsLink.open({
      config: { servers: [server.url], user: "alice", passwordFile },
      name: "test",
      label: "refused",
      log,
      backoff: FAST,
    });
    await waitFor(() => log.lines.some((line) => /Authorization Violation/i.test(line)), {
      message: () => log.lines.join("\n"),
    });
    assert.equal(refused.state, "reconnecting");
    assert.ok(!log.lines.join("\n").includes("wrong"));
  }
});

Deno.test("NatsLink takes a TLS table of empty file names for no TLS", async () => {
  await using server = await startNatsServer();
  await using link = await NatsLink.open({
    config: { servers: [server.url], tls: { caFile: "", certFile: "", keyFile: "" } },
    name: "test",
    label: "plain",
    log: collectingLog(),
  });
  await link.connected(AbortSignal.timeout(10_000));
});

Deno.test("NatsLink authenticates with an nkey seed file", async () => {
  await using dir = await tempDir();
  const user = nkeys.createUser();
  const seedFile = join(dir.path, "user.nk");
  await Deno.writeTextFile(seedFile, new TextDecoder().decode(user.getSeed()) + "\n");
  await using server = await startNatsServer({
    extraConfig: `authorization { users: [{ nkey: ${JSON.stringify(user.getPublicKey())} }] }`,
  });
  await using link = await NatsLink.open({
    config: { servers: [server.url], nkeyFile: seedFile },
    name: "test",
    label: "nkey",
    log: collectingLog(),
  });
  await link.connected(AbortSignal.timeout(10_000));
});

/** Runs openssl with `args` in `cwd`; fails with its output when it fails. */
async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", { args, cwd, stdout: "null" })
    .output();
  if (!success) throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/** A CA, and a server and a client certificate it signed, as files in `dir`. */
async function certificates(dir: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=test ca",
  );
  for (
    const [name, extension] of [
      ["server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"],
      ["client", "extendedKeyUsage=clientAuth"],
    ] as const
  ) {
    await Deno.writeTextFile(join(dir, `${name}.ext`), `${extension}\n`);
    await openssl(
      dir,
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${name}`,
    );
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    );
  }
}

Deno.test("NatsLink connects over TLS with a client certificate", async () => {
  await using dir = await tempDir();
  await certificates(dir.path);
  const file = (name: string) => JSON.stringify(join(dir.path, name));
  await using server = await startNatsServer({
    extraConfig: `tls { cert_file: ${file("server.pem")}, key_file: ${file("server.key")}, ` +
      `ca_file: ${file("ca.pem")}, verify: true }`,
  });
  const tls = {
    caFile: join(dir.path, "ca.pem"),
    certFile: join(dir.path, "client.pem"),
    keyFile: join(dir.path, "client.key"),
  };
  await using link = await NatsLink.open({
    config: { servers: [server.url], tls },
    name: "test",
    label: "tls",
    log: collectingLog(),
  });
  const nc = await link.connected(AbortSignal.timeout(10_000));
  assert.equal(nc.info?.tls_required, true);

  const log = collectingLog();
  await using anonymous = await NatsLink.open({
    config: { servers: [server.url], tls: { caFile: tls.caFile } },
    name: "test",
    label: "no client certificate",
    log,
    backoff: FAST,
  });
  // The server refuses the missing certificate after the handshake: the attempt times out,
  // and the alert, which Deno may raise as an uncaught error, does not end the process.
  await waitFor(() => log.lines.some((line) => /Cannot connect to NATS .*: timeout/.test(line)), {
    timeoutMs: 15_000,
    message: () => log.lines.join("\n"),
  });
  assert.equal(anonymous.state, "reconnecting");
});

Deno.test("a socket error the NATS client leaves without a listener is logged, not fatal", async () => {
  const log = collectingLog();
  await using _link = await NatsLink.open({
    config: { servers: ["nats://127.0.0.1:1"] },
    name: "test",
    label: "guard",
    log,
    backoff: FAST,
  });
  const raise = (message: string, code: string | undefined, where: string) => {
    const error = Object.assign(new Error(message), code === undefined ? {} : { code });
    error.stack = `Error: ${message}\n    at TCPWrap.onStreamRead (${where}:1:3690)`;
    const event = new ErrorEvent("error", { error, cancelable: true });
    globalThis.dispatchEvent(event);
    return event.defaultPrevented;
  };
  assert.equal(
    raise("read ECONNRESET", "ECONNRESET", "ext:deno_node/internal/stream_base_commons.ts"),
    true,
  );
  assert.equal(
    raise(
      "received fatal alert: BadCertificate",
      undefined,
      "ext:deno_node/internal_binding/tls_wrap.ts",
    ),
    true,
  );
  assert.equal(raise("a bug of ours", undefined, "file:///app/src/x.ts"), false);
  assert.equal(raise("read ECONNRESET", "ECONNRESET", "file:///app/src/x.ts"), false);
  assert.match(
    log.lines.join("\n"),
    /NATS client: ignored an error on a socket it had closed: read ECONNRESET/,
  );
  assert.match(
    log.lines.join("\n"),
    /NATS client: TLS error from a NATS server: received fatal alert/,
  );
});
