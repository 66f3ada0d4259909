import assert from "node:assert/strict";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { tempDir } from "../_test_utils.ts";
import { loadTls, nodeTlsOptions } from "../tls/certificates.ts";
import { issueCertificate, makeCertificates } from "../tls/testdata/make_certs.ts";
import { createAuthenticator } from "./authenticator.ts";
import { peerCertificateOf, SubjectMatcher } from "./mtls.ts";

Deno.test("SubjectMatcher: globs on the CN; none allows any", () => {
  const compiled = SubjectMatcher.compile(["alice", "svc-*.example", "ops-[0-9]"]);
  assert.ok("matcher" in compiled);
  const allows = (cn: string) => compiled.matcher.allows(cn);
  assert.ok(allows("alice"));
  assert.ok(allows("svc-backup.example"));
  assert.ok(allows("ops-3"));
  assert.ok(!allows("alice2"));
  assert.ok(!allows("ops-x"));
  assert.ok(!allows("svc-a.example.evil"));
  const open = SubjectMatcher.compile([]);
  assert.ok("matcher" in open && open.matcher.allows("anyone"));
});

Deno.test("mTLS over node:https: peerCertificateOf() gives the authenticator the CN", async () => {
  await using dir = await tempDir();
  const certs = await makeCertificates(dir.path);
  const bob = await issueCertificate(dir.path, {
    name: "bob",
    commonName: "bob",
    kind: "client",
    issuer: certs.ca,
  });
  const tls = await loadTls({
    certFile: certs.server.cert,
    keyFile: certs.server.key,
    clientCaFile: certs.ca.cert,
    minVersion: "1.2",
  });
  assert.ok(tls.material);
  const auth = await createAuthenticator({ type: "mtls", realm: "r", allowedSubjects: ["alice"] });
  const server = createServer(nodeTlsOptions(tls.material), async (request, response) => {
    const result = await auth.verify({
      peerCertificate: peerCertificateOf(request.socket as TLSSocket) ?? null,
    });
    response.statusCode = result.ok ? 200 : result.status;
    response.end(
      result.ok ? `hello ${"identity" in result ? result.identity : ""}` : result.reason,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const curl = async (pair: { cert: string; key: string }) => {
    const output = await new Deno.Command("curl", {
      args: [
        "-sS",
        "--max-time",
        "10",
        "--cacert",
        certs.ca.cert,
        "--cert",
        pair.cert,
        "--key",
        pair.key,
        "-w",
        " %{http_code}",
        `https://localhost:${port}/`,
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(output.stdout);
  };
  try {
    assert.equal(await curl(certs.client), "hello alice 200");
    assert.equal(await curl(bob), "forbidden_subject 403");
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
