import assert from "node:assert/strict";
import { tempDir } from "../_test_utils.ts";
import type { Connection, ConnectionSource } from "../server/connection.ts";
import { loadTls, type TlsMaterial } from "./certificates.ts";
import { makeCertificates, type TestCertificates } from "./testdata/make_certs.ts";
import { bindTls } from "./tls_source.ts";

async function material(certs: TestCertificates, clientCa: boolean): Promise<TlsMaterial> {
  const result = await loadTls({
    certFile: certs.server.cert,
    keyFile: certs.server.key,
    ...(clientCa && { clientCaFile: certs.ca.cert }),
    minVersion: "1.2",
  });
  assert.ok(result.material);
  return result.material;
}

const ADDRESS = { hostname: "127.0.0.1", port: 0 };

/** A client's TLS connection and the server's side of it. */
async function pair(
  source: ConnectionSource,
  certs: TestCertificates,
  client?: { cert: string; key: string },
): Promise<{ client: Deno.TlsConn; server: Connection }> {
  const accepted = source.accept();
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port: source.port,
    caCerts: [await Deno.readTextFile(certs.ca.cert)],
    ...(client && {
      cert: await Deno.readTextFile(client.cert),
      key: await Deno.readTextFile(client.key),
    }),
  });
  return { client: conn, server: await accepted };
}

async function readText(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(64);
  const count = await conn.read(buffer);
  return new TextDecoder().decode(buffer.subarray(0, count ?? 0));
}

Deno.test("bindTls() without client certificates serves Deno.listenTls connections", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  const source = await bindTls(await material(certs, false), ADDRESS);
  try {
    const { client, server } = await pair(source, certs);
    await server.handshake!();
    assert.equal(server.peer.address, "127.0.0.1");
    assert.equal(server.peer.certificate, undefined);
    await server.write(new TextEncoder().encode("hello"));
    assert.equal(await readText(client), "hello");
    client.close();
    server.close();
  } finally {
    source.close();
  }
});

Deno.test("bindTls() with a client CA: the certificate is the peer's, a client without one fails the handshake", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  const source = await bindTls(await material(certs, true), ADDRESS);
  try {
    const good = await pair(source, certs, certs.client);
    const reading = readText(good.client);
    await good.server.handshake!();
    assert.equal(good.server.peer.certificate?.commonName, "alice");
    assert.equal(good.server.peer.certificate?.subject, "CN=alice");
    await good.server.write(new TextEncoder().encode("for alice"));
    assert.equal(await reading, "for alice");
    await good.client.write(new TextEncoder().encode("ping"));
    const buffer = new Uint8Array(16);
    const count = await good.server.read(buffer);
    assert.equal(new TextDecoder().decode(buffer.subarray(0, count ?? 0)), "ping");
    good.client.close();
    assert.equal(await good.server.read(buffer), null);
    good.server.close();

    const accepted = source.accept();
    const anonymous = await Deno.connectTls({
      hostname: "localhost",
      port: source.port,
      caCerts: [await Deno.readTextFile(certs.ca.cert)],
    });
    const server = await accepted;
    const clientSide = anonymous.handshake().catch(() => {});
    await assert.rejects(server.handshake!());
    await clientSide;
    anonymous.close();
    server.close();
  } finally {
    source.close();
  }
  await assert.rejects(source.accept(), Deno.errors.BadResource);
});

Deno.test("bindTls() reports a port in use as Deno.listen does", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  using taken = Deno.listen(ADDRESS);
  const port = (taken.addr as Deno.NetAddr).port;
  await assert.rejects(
    bindTls(await material(certs, true), { ...ADDRESS, port }),
    Deno.errors.AddrInUse,
  );
  await assert.rejects(
    bindTls(await material(certs, false), { ...ADDRESS, port }),
    Deno.errors.AddrInUse,
  );
});
