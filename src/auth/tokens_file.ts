/**
 * Static bearer tokens: a file of `name:sha256-hex-of-token` lines, so the file itself holds
 * no usable secret. Make a line with
 * `echo "ci:$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)"`.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** A token's name (the identity it grants) and the SHA-256 digest of the token. */
export interface TokenDigest {
  /** The identity the token grants. */
  readonly name: string;
  /** SHA-256 of the token, 32 bytes. */
  readonly digest: Uint8Array;
}

/**
 * Reads the text of the tokens file `file`. Blank lines and lines starting with `#` are
 * skipped. Each problem names the file and the line, never a digest.
 */
export function parseTokensFile(
  text: string,
  file: string,
): { readonly tokens: readonly TokenDigest[]; readonly problems: readonly string[] } {
  const tokens: TokenDigest[] = [];
  const problems: string[] = [];
  const names = new Map<string, number>();
  const digests = new Map<string, number>();
  const where = JSON.stringify(file);
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    const number = index + 1;
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.lastIndexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon).trim();
    const hex = colon < 0 ? "" : line.slice(colon + 1).trim();
    if (name === "") {
      problems.push(`${where} line ${number} is not "name:sha256-hex-of-token"`);
      continue;
    }
    const at = `${where} line ${number}: token ${JSON.stringify(name)}`;
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
      problems.push(
        `${at} has no SHA-256 digest (64 hex digits) after the colon: ` +
          "write the digest of the token, not the token",
      );
      continue;
    }
    const firstName = names.get(name);
    if (firstName !== undefined) {
      problems.push(`${at} appears again (first on line ${firstName})`);
      continue;
    }
    const key = hex.toLowerCase();
    const firstDigest = digests.get(key);
    if (firstDigest !== undefined) {
      problems.push(`${at} has the same digest as line ${firstDigest}: one token, two names`);
      continue;
    }
    names.set(name, number);
    digests.set(key, number);
    tokens.push({ name, digest: hexBytes(key) });
  }
  if (tokens.length === 0 && problems.length === 0) {
    problems.push(`${where} holds no tokens`);
  }
  return { tokens, problems };
}

/**
 * The name of the token `token` is, or undefined. The token's digest is compared with every
 * entry in constant time, so neither where it matches nor how much of it matches shows.
 */
export function findToken(tokens: readonly TokenDigest[], token: string): string | undefined {
  const digest = createHash("sha256").update(token).digest();
  let found: string | undefined;
  for (const entry of tokens) {
    if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry.name;
  }
  return found;
}

function hexBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
