/**
 * Real certificates for tests, made with the `openssl` command: two CAs, an intermediate,
 * server and client certificates (X.509 v3: rustls refuses v1 client certificates), and the
 * broken ones (expired, not yet valid, expiring soon, a key that matches nothing).
 *
 * Keys are EC P-256, which openssl makes in milliseconds. Certificates are issued with
 * `openssl ca`, whose `-startdate`/`-enddate` give past and future validity without a fake
 * clock (openssl 3.0's `x509` has no `-not_before`).
 *
 * @module
 */
import { join } from "node:path";

/** A certificate file and its key file (PEM). */
export interface CertPair {
  /** Path of the PEM certificate. */
  readonly cert: string;
  /** Path of the PEM private key. */
  readonly key: string;
}

/** What `issueCertificate()` makes. */
export type CertKind = "ca" | "server" | "client";

/** One certificate to issue. */
export interface IssueOptions {
  /** File base name: `<name>.crt` and `<name>.key` in the directory. */
  readonly name: string;
  /** Subject common name. */
  readonly commonName: string;
  /** Extensions: a CA, a server (SANs, serverAuth) or a client (clientAuth). */
  readonly kind: CertKind;
  /** The signing CA; absent: self-signed (a root CA). */
  readonly issuer?: CertPair;
  /** Default: an hour ago. */
  readonly notBefore?: Date;
  /** Default: a year after `notBefore`. */
  readonly notAfter?: Date;
  /** Server names; default `localhost`, `127.0.0.1` and `::1`. */
  readonly altNames?: readonly string[];
  /** Reuse this key instead of making one. */
  readonly key?: string;
}

/** The set `makeCertificates()` writes. */
export interface TestCertificates {
  /** Where the files are. */
  readonly dir: string;
  /** Root CA, `CN=LogWisp Test CA`: signs the server, the intermediate and the clients. */
  readonly ca: CertPair;
  /** A CA nothing trusts, `CN=Other CA`. */
  readonly otherCa: CertPair;
  /** `CN=LogWisp Test Intermediate`, signed by `ca`. */
  readonly intermediate: CertPair;
  /** `CN=localhost` with SANs localhost, 127.0.0.1, ::1; signed by `ca`. */
  readonly server: CertPair;
  /** `CN=localhost` signed by `intermediate`; its file holds the leaf then the intermediate. */
  readonly chainedServer: CertPair;
  /** Client certificate `CN=alice`, signed by `ca`. */
  readonly client: CertPair;
  /** Client certificate `CN=mallory`, signed by `otherCa`. */
  readonly clientOfOtherCa: CertPair;
  /** Server certificate valid from 60 to 30 days ago. */
  readonly expired: CertPair;
  /** Server certificate valid from 10 days ahead. */
  readonly notYetValid: CertPair;
  /** Server certificate expiring 10 days from now. */
  readonly expiringSoon: CertPair;
  /** A key that matches none of the certificates. */
  readonly strayKey: string;
}

const DAY_MS = 86_400_000;

/** Writes the whole `TestCertificates` set into `dir` (an existing directory). */
export async function makeCertificates(dir: string): Promise<TestCertificates> {
  const now = Date.now();
  const ca = await issueCertificate(dir, { name: "ca", commonName: "LogWisp Test CA", kind: "ca" });
  const otherCa = await issueCertificate(dir, {
    name: "other-ca",
    commonName: "Other CA",
    kind: "ca",
  });
  const intermediate = await issueCertificate(dir, {
    name: "intermediate",
    commonName: "LogWisp Test Intermediate",
    kind: "ca",
    issuer: ca,
  });
  const server = { name: "server", commonName: "localhost", kind: "server" } as const;
  const leaf = await issueCertificate(dir, {
    ...server,
    name: "chained-leaf",
    issuer: intermediate,
  });
  const chainedCert = join(dir, "chained-server.crt");
  await Deno.writeTextFile(
    chainedCert,
    (await Deno.readTextFile(leaf.cert)) + (await Deno.readTextFile(intermediate.cert)),
  );
  const stray = join(dir, "stray.key");
  await openssl(dir, ["genpkey", ...EC_KEY, "-out", stray]);
  return {
    dir,
    ca,
    otherCa,
    intermediate,
    server: await issueCertificate(dir, { ...server, issuer: ca }),
    chainedServer: { cert: chainedCert, key: leaf.key },
    client: await issueCertificate(dir, {
      name: "client",
      commonName: "alice",
      kind: "client",
      issuer: ca,
    }),
    clientOfOtherCa: await issueCertificate(dir, {
      name: "client-other-ca",
      commonName: "mallory",
      kind: "client",
      issuer: otherCa,
    }),
    expired: await issueCertificate(dir, {
      ...server,
      name: "expired",
      issuer: ca,
      notBefore: new Date(now - 60 * DAY_MS),
      notAfter: new Date(now - 30 * DAY_MS),
    }),
    notYetValid: await issueCertificate(dir, {
      ...server,
      name: "not-yet-valid",
      issuer: ca,
      notBefore: new Date(now + 10 * DAY_MS),
      notAfter: new Date(now + 400 * DAY_MS),
    }),
    expiringSoon: await issueCertificate(dir, {
      ...server,
      name: "expiring-soon",
      issuer: ca,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 10 * DAY_MS),
    }),
    strayKey: stray,
  };
}

const EC_KEY = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];

/**
 * Issues one certificate into `dir` as `<name>.crt` and `<name>.key`: a self-signed root when
 * `issuer` is absent, else signed by it with `openssl ca`. Requests and CA databases are
 * kept in `dir/.ca`.
 */
export async function issueCertificate(dir: string, options: IssueOptions): Promise<CertPair> {
  const cert = join(dir, `${options.name}.crt`);
  const key = options.key ?? join(dir, `${options.name}.key`);
  if (options.key === undefined) await openssl(dir, ["genpkey", ...EC_KEY, "-out", key]);
  const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 365 * DAY_MS);
  const config = await writeConfig(dir, options);
  const csr = join(dir, ".ca", `${options.name}.csr`);
  await openssl(dir, ["req", "-config", config, "-new", "-key", key, "-out", csr]);
  const signer = options.issuer ?? { cert, key };
  const signing = options.issuer === undefined
    ? ["-selfsign", "-keyfile", key]
    : ["-cert", signer.cert, "-keyfile", signer.key];
  await openssl(dir, [
    "ca",
    "-batch",
    "-config",
    await caDatabase(dir, signer),
    ...signing,
    "-in",
    csr,
    "-out",
    cert,
    "-notext",
    "-startdate",
    asn1Time(notBefore),
    "-enddate",
    asn1Time(notAfter),
    "-extfile",
    config,
    "-extensions",
    "ext",
  ]);
  return { cert, key };
}

/** The request and extension config for one certificate. */
async function writeConfig(dir: string, options: IssueOptions): Promise<string> {
  await Deno.mkdir(join(dir, ".ca"), { recursive: true });
  const path = join(dir, ".ca", `${options.name}.cnf`);
  const altNames = (options.altNames ?? ["localhost", "127.0.0.1", "::1"])
    .map((name) => /^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`)
    .join(",");
  const extensions = {
    ca: [
      "basicConstraints = critical,CA:TRUE",
      "keyUsage = critical,keyCertSign,cRLSign",
    ],
    server: [
      "basicConstraints = critical,CA:FALSE",
      "keyUsage = critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage = serverAuth",
      `subjectAltName = ${altNames}`,
    ],
    client: [
      "basicConstraints = critical,CA:FALSE",
      "keyUsage = critical,digitalSignature",
      "extendedKeyUsage = clientAuth",
    ],
  }[options.kind];
  await Deno.writeTextFile(
    path,
    [
      "[req]",
      "distinguished_name = dn",
      "prompt = no",
      "[dn]",
      `CN = ${options.commonName}`,
      "[ext]",
      ...extensions,
      "subjectKeyIdentifier = hash",
      ...(options.issuer ? ["authorityKeyIdentifier = keyid,issuer"] : []),
      "",
    ].join("\n"),
  );
  return path;
}

/** The `openssl ca` configuration and database of the CA `issuer`, made on first use. */
async function caDatabase(dir: string, issuer: CertPair): Promise<string> {
  const base = issuer.cert.slice(issuer.cert.lastIndexOf("/") + 1).replace(/\.crt$/, "");
  const home = join(dir, ".ca", base);
  const config = join(home, "ca.cnf");
  try {
    await Deno.stat(config);
    return config;
  } catch {
    // First certificate this CA signs.
  }
  await Deno.mkdir(join(home, "new"), { recursive: true });
  await Deno.writeTextFile(join(home, "index.txt"), "");
  const serial = crypto.getRandomValues(new Uint8Array(8));
  serial[0] = (serial[0]! & 0x7f) | 0x10;
  await Deno.writeTextFile(
    join(home, "serial"),
    `${Array.from(serial, (b) => b.toString(16).padStart(2, "0")).join("")}\n`,
  );
  await Deno.writeTextFile(
    config,
    [
      "[ca]",
      "default_ca = signer",
      "[signer]",
      `database = ${join(home, "index.txt")}`,
      `new_certs_dir = ${join(home, "new")}`,
      `serial = ${join(home, "serial")}`,
      `certificate = ${issuer.cert}`,
      `private_key = ${issuer.key}`,
      "default_md = sha256",
      "policy = any",
      "unique_subject = no",
      "email_in_dn = no",
      "copy_extensions = none",
      "[any]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  return config;
}

/** `YYYYMMDDHHMMSSZ`, the form `openssl ca -startdate` takes for any year. */
function asn1Time(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  const result = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!result.success) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(result.stderr).trim()}`,
    );
  }
}
