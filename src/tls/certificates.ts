/**
 * Loading and checking the TLS material of a listener (`[*.tls]`): every problem a client
 * would otherwise discover at its first handshake is found at startup and by `--check`.
 *
 * @module
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import type { TlsOptions } from "node:tls";
import { readSmallFile } from "../auth/read_small_file.ts";
import type { TlsConfig } from "../config/types.ts";

/** The `[*.tls]` key a problem or warning is about. */
export type TlsKey = "cert_file" | "key_file" | "client_ca_file";

/** One problem (the listener cannot start) or warning (it can, but someone should look). */
export interface TlsIssue {
  /** The key under `[*.tls]`. */
  readonly key: TlsKey;
  /** What is wrong, naming the file (and the date, for validity). */
  readonly message: string;
}

/** What a certificate says about itself. */
export interface CertificateInfo {
  /** Distinguished name, one line: `CN=localhost, O=Example`. */
  readonly subject: string;
  /** Start of validity. */
  readonly notBefore: Date;
  /** End of validity: the expiry a metric can show. */
  readonly notAfter: Date;
}

/** Everything a TLS listener needs, checked. */
export interface TlsMaterial {
  /** PEM certificates, leaf first, as the file lists them. */
  readonly certChain: string;
  /** The PEM private key. */
  readonly key: string;
  /** PEM CA certificates client certificates must chain to; absent: no client certificates. */
  readonly clientCa?: string;
  /** Lowest TLS version accepted. */
  readonly minVersion: "1.2" | "1.3";
  /** The server's own certificate. */
  readonly leaf: CertificateInfo;
}

/** The outcome of `loadTls()`. */
export interface TlsLoadResult {
  /** Present exactly when `problems` is empty. */
  readonly material?: TlsMaterial;
  /** The leaf certificate, whenever it could be read (also with problems, for messages). */
  readonly leaf?: CertificateInfo;
  /** What stops the listener: configuration errors. */
  readonly problems: readonly TlsIssue[];
  /** What does not, but should be looked at: startup warnings. */
  readonly warnings: readonly TlsIssue[];
}

/** A certificate expiring sooner than this is a warning. */
export const EXPIRY_WARNING_DAYS = 30;

const DAY_MS = 86_400_000;

/**
 * Reads and checks the certificate chain, key and client CA of `config`: files readable,
 * PEM of the right kind, the key belonging to the first certificate, that certificate
 * currently valid. Never throws: each problem names the key it is about.
 */
export async function loadTls(
  config: TlsConfig,
  options: { readonly now?: Date } = {},
): Promise<TlsLoadResult> {
  const now = (options.now ?? new Date()).getTime();
  const problems: TlsIssue[] = [];
  const warnings: TlsIssue[] = [];
  const problem = (key: TlsKey, message: string) => problems.push({ key, message });
  const warning = (key: TlsKey, message: string) => warnings.push({ key, message });

  const [certText, keyText, caText] = await Promise.all([
    readSmallFile(config.certFile),
    readSmallFile(config.keyFile),
    config.clientCaFile === undefined ? undefined : readSmallFile(config.clientCaFile),
  ]);

  let chain: Certificate[] | undefined;
  if ("error" in certText) problem("cert_file", certText.error);
  else {
    const read = readCertificates(config.certFile, certText.text);
    if ("error" in read) problem("cert_file", read.error);
    else chain = read.certificates;
  }

  let key: { pem: string; object: KeyObject } | undefined;
  if ("error" in keyText) problem("key_file", keyText.error);
  else {
    const read = readPrivateKey(config.keyFile, keyText.text);
    if ("error" in read) problem("key_file", read.error);
    else key = read;
    if (keyText.mode !== null && (keyText.mode & 0o004) !== 0) {
      warning(
        "key_file",
        `${quote(config.keyFile)} is readable by every user: chmod 0600 (or 0640 for a group)`,
      );
    }
  }

  const leaf = chain?.[0];
  if (chain && leaf) {
    checkValidity(leaf, `Certificate ${quote(leaf.info.subject)} in ${quote(config.certFile)}`);
    if (leaf.x509.subjectAltName === undefined) {
      warning(
        "cert_file",
        `Certificate ${quote(leaf.info.subject)} in ${quote(config.certFile)} has no ` +
          "subjectAltName: browsers and curl ignore the common name and will refuse it",
      );
    }
    for (let i = 1; i < chain.length; i++) {
      const certificate = chain[i]!;
      const where = `Certificate ${i + 1} (${quote(certificate.info.subject)}) in ${
        quote(config.certFile)
      }`;
      checkValidity(certificate, where);
      if (!chain[i - 1]!.x509.checkIssued(certificate.x509)) {
        warning(
          "cert_file",
          `${where} did not issue the certificate before it: list the server certificate ` +
            "first, then each issuer in turn",
        );
      }
    }
    if (key && !leaf.x509.checkPrivateKey(key.object)) {
      const owner = chain.findIndex((certificate) => certificate.x509.checkPrivateKey(key.object));
      problem(
        "key_file",
        owner > 0
          ? `${quote(config.keyFile)} belongs to certificate ${owner + 1} in ${
            quote(config.certFile)
          }, not the first: list the server certificate first`
          : `${quote(config.keyFile)} does not match certificate ${quote(leaf.info.subject)} in ${
            quote(config.certFile)
          }`,
      );
    }
  }

  let clientCa: string | undefined;
  if (caText !== undefined && config.clientCaFile !== undefined) {
    const file = config.clientCaFile;
    if ("error" in caText) problem("client_ca_file", caText.error);
    else {
      const read = readCertificates(file, caText.text);
      if ("error" in read) problem("client_ca_file", read.error);
      else {
        clientCa = read.certificates.map((certificate) => certificate.pem).join("");
        for (const [i, certificate] of read.certificates.entries()) {
          const where = `CA certificate ${read.certificates.length > 1 ? `${i + 1} ` : ""}(${
            quote(certificate.info.subject)
          }) in ${quote(file)}`;
          if (!certificate.x509.ca) {
            warning(
              "client_ca_file",
              `${where} is not a CA certificate (basicConstraints CA:FALSE or absent)`,
            );
          }
          if (certificate.info.notAfter.getTime() < now) {
            warning(
              "client_ca_file",
              `${where} expired on ${formatTime(certificate.info.notAfter)}`,
            );
          }
        }
      }
    }
  }

  const result = { problems, warnings, ...(leaf && { leaf: leaf.info }) };
  if (problems.length > 0 || !chain || !leaf || !key) return result;
  return {
    ...result,
    material: {
      certChain: chain.map((certificate) => certificate.pem).join(""),
      key: key.pem,
      ...(clientCa !== undefined && { clientCa }),
      minVersion: config.minVersion,
      leaf: leaf.info,
    },
  };

  function checkValidity(certificate: Certificate, where: string): void {
    const { notBefore, notAfter } = certificate.info;
    if (notBefore.getTime() > now) {
      problem("cert_file", `${where} is not valid before ${formatTime(notBefore)}`);
    } else if (notAfter.getTime() < now) {
      problem("cert_file", `${where} expired on ${formatTime(notAfter)}`);
    } else if (notAfter.getTime() - now < EXPIRY_WARNING_DAYS * DAY_MS) {
      const days = Math.floor((notAfter.getTime() - now) / DAY_MS);
      warning(
        "cert_file",
        `${where} expires on ${formatTime(notAfter)}, in ${days} day${days === 1 ? "" : "s"}`,
      );
    }
  }
}

/**
 * Options for `node:tls` `createServer` and `node:https` `createServer`. With a client CA,
 * a client without a certificate signed by it is refused during the handshake.
 */
export function nodeTlsOptions(material: TlsMaterial): TlsOptions {
  return {
    cert: material.certChain,
    key: material.key,
    minVersion: material.minVersion === "1.3" ? "TLSv1.3" : "TLSv1.2",
    ...(material.clientCa === undefined
      ? { requestCert: false }
      : { requestCert: true, rejectUnauthorized: true, ca: material.clientCa }),
  };
}

interface Certificate {
  readonly pem: string;
  readonly x509: X509Certificate;
  readonly info: CertificateInfo;
}

interface PemBlock {
  readonly label: string;
  readonly text: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----\r?\n?/g;
const KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);

function pemBlocks(text: string): PemBlock[] {
  return Array.from(text.matchAll(PEM_BLOCK), (match) => ({
    label: match[1]!,
    text: match[0].endsWith("\n") ? match[0] : `${match[0]}\n`,
  }));
}

function readCertificates(
  file: string,
  text: string,
): { certificates: Certificate[] } | { error: string } {
  const blocks = pemBlocks(text);
  const where = quote(file);
  if (blocks.length === 0) {
    return { error: `${where} is not PEM: no "-----BEGIN CERTIFICATE-----" line` };
  }
  const pems = blocks.filter((block) => block.label === "CERTIFICATE");
  if (pems.length === 0) {
    return {
      error: `${where} holds no certificate, only ${
        [...new Set(blocks.map((block) => quote(block.label)))].join(", ")
      }${blocks.some((block) => KEY_LABELS.has(block.label)) ? ": is it the key file?" : ""}`,
    };
  }
  const certificates: Certificate[] = [];
  for (const [i, block] of pems.entries()) {
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(block.text);
    } catch (error) {
      const which = pems.length > 1 ? `Certificate ${i + 1} in ${where}` : where;
      return { error: `${which} is not a valid certificate: ${reason(error)}` };
    }
    certificates.push({
      pem: block.text,
      x509,
      info: {
        subject: x509.subject.split("\n").join(", "),
        notBefore: new Date(x509.validFrom),
        notAfter: new Date(x509.validTo),
      },
    });
  }
  return { certificates };
}

function readPrivateKey(
  file: string,
  text: string,
): { pem: string; object: KeyObject } | { error: string } {
  const where = quote(file);
  const blocks = pemBlocks(text);
  if (blocks.length === 0) return { error: `${where} is not PEM: no "-----BEGIN" line` };
  if (
    blocks.some((block) => block.label === "ENCRYPTED PRIVATE KEY") ||
    /^Proc-Type: 4,ENCRYPTED/m.test(text)
  ) {
    return {
      error: `${where} is encrypted: LogWisp cannot ask for a passphrase; ` +
        `write it unencrypted with "openssl pkey -in KEY -out KEY.plain" (mode 0600)`,
    };
  }
  const keys = blocks.filter((block) => KEY_LABELS.has(block.label));
  if (keys.length === 0) {
    const certificate = blocks.some((block) => block.label === "CERTIFICATE");
    return {
      error: `${where} holds no private key${
        certificate ? ", only a certificate: is it the certificate file?" : ""
      }`,
    };
  }
  if (keys.length > 1) {
    return { error: `${where} holds ${keys.length} private keys: keep the server's only` };
  }
  const pem = keys[0]!.text;
  try {
    return { pem, object: createPrivateKey(pem) };
  } catch (error) {
    return { error: `${where} is not a valid private key: ${reason(error)}` };
  }
}

/** RFC 3339 in UTC, to the second. */
function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function quote(value: string): string {
  return JSON.stringify(value);
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^error:[0-9A-F]+:[^:]*:+/, "").trim() || "unreadable";
}
