import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { tempDir } from "../_test_utils.ts";
import type { TlsConfig } from "../config/types.ts";
import { loadTls, nodeTlsOptions, type TlsLoadResult } from "./certificates.ts";
import { type CertPair, makeCertificates } from "./testdata/make_certs.ts";

const DAY_MS = 86_400_000;

function config(pair: CertPair, extra: Partial<TlsConfig> = {}): TlsConfig {
  return { certFile: pair.cert, keyFile: pair.key, minVersion: "1.2", ...extra };
}

function messages(result: TlsLoadResult, kind: "problems" | "warnings"): string[] {
  return result[kind].map((issue) => `${issue.key}: ${issue.message}`);
}

Deno.test("loadTls() accepts good material and reports each problem with its key", async (t) => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  const file = (name: string, text: string) => {
    const path = join(dir.path, name);
    Deno.writeTextFileSync(path, text, { mode: 0o600 });
    return path;
  };

  await t.step("a server certificate and its key", async () => {
    const result = await loadTls(config(certs.server));
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.warnings, []);
    const material = result.material;
    assert.ok(material);
    assert.equal(material.leaf.subject, "CN=localhost");
    assert.match(material.certChain, /^-----BEGIN CERTIFICATE-----\n/);
    assert.match(material.key, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(material.clientCa, undefined);
    const days = (material.leaf.notAfter.getTime() - Date.now()) / DAY_MS;
    assert.ok(days > 360 && days < 366, `expires in ${days} days`);
    assert.ok(material.leaf.notBefore.getTime() < Date.now());
  });

  await t.step("a chain, leaf first, with a client CA", async () => {
    const result = await loadTls(config(certs.chainedServer, { clientCaFile: certs.ca.cert }));
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.warnings, []);
    assert.equal(result.material?.certChain.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.equal(result.material?.clientCa, Deno.readTextFileSync(certs.ca.cert));
  });

  await t.step("a chain in the wrong order", async () => {
    const text = Deno.readTextFileSync(certs.chainedServer.cert).split(
      /(?<=-----END CERTIFICATE-----\n)/,
    );
    const reversed = file("reversed.crt", [text[1], text[0]].join(""));
    const result = await loadTls({ ...config(certs.chainedServer), certFile: reversed });
    assert.deepEqual(messages(result, "problems"), [
      `key_file: "${certs.chainedServer.key}" belongs to certificate 2 in "${reversed}", not the ` +
      "first: list the server certificate first",
    ]);
    assert.deepEqual(messages(result, "warnings"), [
      `cert_file: Certificate "CN=LogWisp Test Intermediate" in "${reversed}" has no ` +
      "subjectAltName: browsers and curl ignore the common name and will refuse it",
      `cert_file: Certificate 2 ("CN=localhost") in "${reversed}" did not issue the certificate ` +
      "before it: list the server certificate first, then each issuer in turn",
    ]);
    assert.equal(result.material, undefined);
    assert.equal(result.leaf?.subject, "CN=LogWisp Test Intermediate");
  });

  await t.step("a key that does not match", async () => {
    const result = await loadTls({ ...config(certs.server), keyFile: certs.strayKey });
    assert.deepEqual(messages(result, "problems"), [
      `key_file: "${certs.strayKey}" does not match certificate "CN=localhost" in ` +
      `"${certs.server.cert}"`,
    ]);
  });

  await t.step("an expired certificate, with the date", async () => {
    const result = await loadTls(config(certs.expired));
    const notAfter = result.leaf?.notAfter.toISOString().replace(/\.\d+Z$/, "Z");
    assert.deepEqual(messages(result, "problems"), [
      `cert_file: Certificate "CN=localhost" in "${certs.expired.cert}" expired on ${notAfter}`,
    ]);
    assert.equal(result.material, undefined);
  });

  await t.step("a certificate not valid yet, with the date", async () => {
    const result = await loadTls(config(certs.notYetValid));
    const notBefore = result.leaf?.notBefore.toISOString().replace(/\.\d+Z$/, "Z");
    assert.deepEqual(messages(result, "problems"), [
      `cert_file: Certificate "CN=localhost" in "${certs.notYetValid.cert}" is not valid ` +
      `before ${notBefore}`,
    ]);
  });

  await t.step("a certificate expiring within 30 days is a warning", async () => {
    const first = await loadTls(config(certs.expiringSoon));
    assert.deepEqual(first.problems, []);
    assert.equal(first.warnings.length, 1);
    assert.ok(first.material);
    const notAfter = first.material.leaf.notAfter;
    const now = new Date(notAfter.getTime() - 5 * DAY_MS - 3_600_000);
    const result = await loadTls(config(certs.expiringSoon), { now });
    assert.deepEqual(messages(result, "warnings"), [
      `cert_file: Certificate "CN=localhost" in "${certs.expiringSoon.cert}" expires on ` +
      `${notAfter.toISOString().replace(/\.\d+Z$/, "Z")}, in 5 days`,
    ]);
    assert.ok(result.material, "a warning does not stop the listener");
  });

  await t.step("the clock can be set", async () => {
    const later = new Date(Date.now() + 400 * DAY_MS);
    const result = await loadTls(config(certs.server), { now: later });
    assert.match(messages(result, "problems").join(), /^cert_file: .* expired on /);
  });

  await t.step("unreadable files say why", async () => {
    const missing = join(dir.path, "missing.crt");
    const result = await loadTls({ ...config(certs.server), certFile: missing, keyFile: dir.path });
    assert.deepEqual(messages(result, "problems"), [
      `cert_file: Cannot read "${missing}": it does not exist`,
      `key_file: Cannot read "${dir.path}": it is not a regular file`,
    ]);
    assert.equal(result.leaf, undefined);
  });

  await t.step("files of the wrong kind", async () => {
    const result = await loadTls({
      ...config(certs.server),
      certFile: certs.server.key,
      keyFile: certs.server.cert,
    });
    assert.deepEqual(messages(result, "problems"), [
      `cert_file: "${certs.server.key}" holds no certificate, only "PRIVATE KEY": is it the key file?`,
      `key_file: "${certs.server.cert}" holds no private key, only a certificate: is it the ` +
      "certificate file?",
    ]);
  });

  await t.step("text that is not PEM, PEM that is not a certificate or key, binary", async () => {
    const text = file("notes.txt", "hello\n");
    const broken = file(
      "broken.crt",
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    const brokenKey = file(
      "broken.key",
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    const binary = join(dir.path, "server.der");
    Deno.writeFileSync(binary, new Uint8Array([0x30, 0x82, 0xff, 0xfe, 0x00]));
    assert.deepEqual(
      messages(await loadTls({ certFile: text, keyFile: text, minVersion: "1.2" }), "problems"),
      [
        `cert_file: "${text}" is not PEM: no "-----BEGIN CERTIFICATE-----" line`,
        `key_file: "${text}" is not PEM: no "-----BEGIN" line`,
      ],
    );
    const result = await loadTls({ certFile: broken, keyFile: brokenKey, minVersion: "1.2" });
    assert.equal(result.problems.length, 2);
    assert.match(result.problems[0]!.message, /^"[^"]+broken\.crt" is not a valid certificate: ./);
    assert.match(result.problems[1]!.message, /^"[^"]+broken\.key" is not a valid private key: ./);
    assert.deepEqual(
      messages(await loadTls({ ...config(certs.server), certFile: binary }), "problems"),
      [`cert_file: Cannot read "${binary}": it is not text (invalid UTF-8)`],
    );
  });

  await t.step("an encrypted key", async () => {
    const encrypted = join(dir.path, "encrypted.key");
    const made = await new Deno.Command("openssl", {
      args: [
        "pkey",
        "-in",
        certs.server.key,
        "-aes256",
        "-passout",
        "pass:secret",
        "-out",
        encrypted,
      ],
    }).output();
    assert.ok(made.success);
    const result = await loadTls({ ...config(certs.server), keyFile: encrypted });
    assert.match(
      messages(result, "problems").join(),
      /^key_file: ".*encrypted\.key" is encrypted: /,
    );
  });

  await t.step("a key readable by everyone is a warning", async () => {
    const key = file("open.key", Deno.readTextFileSync(certs.server.key));
    Deno.chmodSync(key, 0o644);
    const result = await loadTls({ ...config(certs.server), keyFile: key });
    assert.deepEqual(result.problems, []);
    assert.deepEqual(messages(result, "warnings"), [
      `key_file: "${key}" is readable by every user: chmod 0600 (or 0640 for a group)`,
    ]);
  });

  await t.step("client CA files", async () => {
    const garbage = file("garbage-ca.crt", "not a certificate\n");
    const bad = await loadTls(config(certs.server, { clientCaFile: garbage }));
    assert.deepEqual(messages(bad, "problems"), [
      `client_ca_file: "${garbage}" is not PEM: no "-----BEGIN CERTIFICATE-----" line`,
    ]);
    const missing = join(dir.path, "none.crt");
    const absent = await loadTls(config(certs.server, { clientCaFile: missing }));
    assert.deepEqual(messages(absent, "problems"), [
      `client_ca_file: Cannot read "${missing}": it does not exist`,
    ]);
    const leaf = await loadTls(config(certs.server, { clientCaFile: certs.client.cert }));
    assert.deepEqual(messages(leaf, "warnings"), [
      `client_ca_file: CA certificate ("CN=alice") in "${certs.client.cert}" is not a CA ` +
      "certificate (basicConstraints CA:FALSE or absent)",
    ]);
    const both = file(
      "cas.crt",
      Deno.readTextFileSync(certs.ca.cert) + Deno.readTextFileSync(certs.otherCa.cert),
    );
    const two = await loadTls(config(certs.server, { clientCaFile: both }));
    assert.deepEqual(two.problems, []);
    assert.equal(two.material?.clientCa?.match(/BEGIN CERTIFICATE/g)?.length, 2);
  });
});

Deno.test("nodeTlsOptions() maps the minimum version and asks for client certificates with a CA", () => {
  const leaf = { subject: "CN=x", notBefore: new Date(0), notAfter: new Date(0) };
  const material = { certChain: "C", key: "K", minVersion: "1.2", leaf } as const;
  assert.deepEqual(nodeTlsOptions(material), {
    cert: "C",
    key: "K",
    minVersion: "TLSv1.2",
    requestCert: false,
  });
  assert.deepEqual(nodeTlsOptions({ ...material, minVersion: "1.3", clientCa: "CA" }), {
    cert: "C",
    key: "K",
    minVersion: "TLSv1.3",
    requestCert: true,
    rejectUnauthorized: true,
    ca: "CA",
  });
});

/** Runs curl against `url`; its exit code and output. */
async function curl(url: string, args: string[]): Promise<{ code: number; body: string }> {
  const result = await new Deno.Command("curl", {
    args: ["-sS", "--max-time", "10", ...args, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: result.code, body: new TextDecoder().decode(result.stdout) };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

Deno.test("loaded material serves mTLS with node:https: the CA's clients only, CN readable", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  const result = await loadTls(config(certs.server, { clientCaFile: certs.ca.cert }));
  assert.ok(result.material, messages(result, "problems").join("\n"));
  const server = createServer(nodeTlsOptions(result.material), (request, response) => {
    const socket = request.socket as TLSSocket;
    response.end(`hello ${socket.getPeerCertificate().subject.CN} ${socket.authorized}`);
  });
  const port = await listen(server);
  try {
    const url = `https://localhost:${port}/`;
    const trust = ["--cacert", certs.ca.cert];
    assert.deepEqual(
      await curl(url, [...trust, "--cert", certs.client.cert, "--key", certs.client.key]),
      {
        code: 0,
        body: "hello alice true",
      },
    );
    const intruder = await curl(url, [
      ...trust,
      "--cert",
      certs.clientOfOtherCa.cert,
      "--key",
      certs.clientOfOtherCa.key,
    ]);
    assert.notEqual(intruder.code, 0, "a certificate from another CA is refused");
    assert.equal(intruder.body, "");
    const anonymous = await curl(url, trust);
    assert.notEqual(anonymous.code, 0, "no certificate is refused");
    assert.equal(anonymous.body, "");
  } finally {
    await close(server);
  }
});

Deno.test("loaded material serves TLS 1.3 only when the minimum says so", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  const result = await loadTls(config(certs.chainedServer, { minVersion: "1.3" }));
  assert.ok(result.material);
  const server = createServer(nodeTlsOptions(result.material), (_request, response) => {
    response.end("ok");
  });
  const port = await listen(server);
  try {
    const url = `https://localhost:${port}/`;
    const trust = ["--cacert", certs.ca.cert];
    assert.deepEqual(await curl(url, trust), { code: 0, body: "ok" });
    assert.deepEqual(await curl(url, [...trust, "--tlsv1.3"]), { code: 0, body: "ok" });
    const old = await curl(url, [...trust, "--tls-max", "1.2"]);
    assert.notEqual(old.code, 0, "TLS 1.2 is refused");
  } finally {
    await close(server);
  }
});
