/**
 * htpasswd files with bcrypt hashes only, as `htpasswd -B` writes them.
 *
 * Every other scheme Apache accepts is refused at load, naming the line and the user: MD5
 * (`$apr1$`), SHA-1 (`{SHA}`), crypt and plain text are all cheap to brute-force from a
 * leaked file. A user's password is checked with one bcrypt run; an unknown user costs the
 * same run, against a hash no password matches, so timing tells nothing about who exists.
 *
 * @module
 */
import bcrypt from "bcryptjs";

/** The users of an htpasswd file and their bcrypt hashes. */
export interface Htpasswd {
  /** Bcrypt hash by user name. */
  readonly users: ReadonlyMap<string, string>;
  /** A hash of the cost most users have that no password matches, for unknown users. */
  readonly dummyHash: string;
}

/** A `$2a$`/`$2b$`/`$2y$` hash: cost, 22 characters of salt, 31 of hash. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/**
 * Reads the text of the htpasswd file `file`. Blank lines and lines starting with `#` are
 * skipped, as Apache does. Each problem names the file, the line and the user, never a hash.
 */
export function parseHtpasswd(
  text: string,
  file: string,
): { readonly htpasswd: Htpasswd; readonly problems: readonly string[] } {
  const users = new Map<string, string>();
  const lines = new Map<string, number>();
  const problems: string[] = [];
  const costs = new Map<number, number>();
  const where = JSON.stringify(file);
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const number = index + 1;
    if (line.trim() === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) {
      problems.push(`${where} line ${number} is not "user:hash"`);
      continue;
    }
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const who = `${where} line ${number}: user ${quoteUser(user)}`;
    const first = lines.get(user);
    if (first !== undefined) {
      problems.push(`${who} appears again (first on line ${first})`);
      continue;
    }
    lines.set(user, number);
    const match = BCRYPT.exec(hash);
    const cost = match ? Number(match[1]) : 0;
    if (!match || cost < 4 || cost > 31) {
      problems.push(`${who} has ${describeHash(hash)}: only bcrypt is accepted; use htpasswd -B`);
      continue;
    }
    users.set(user, hash);
    costs.set(cost, (costs.get(cost) ?? 0) + 1);
  }
  if (users.size === 0 && problems.length === 0) {
    problems.push(`${where} holds no users: add them with htpasswd -B ${file} USER`);
  }
  let common = 10;
  let most = 0;
  for (const [cost, count] of costs) {
    if (count > most || (count === most && cost > common)) [common, most] = [cost, count];
  }
  return { htpasswd: { users, dummyHash: dummyHash(common) }, problems };
}

/**
 * Whether `password` is `user`'s. Exactly one bcrypt run whether or not the user exists, and
 * the same answer for an unknown user as for a wrong password.
 */
export async function verifyPassword(
  htpasswd: Htpasswd,
  user: string,
  password: string,
): Promise<boolean> {
  const hash = htpasswd.users.get(user);
  const matches = await bcrypt.compare(password, hash ?? htpasswd.dummyHash);
  return matches && hash !== undefined;
}

/** What kind of hash `hash` is, for the message refusing it; never the hash itself. */
function describeHash(hash: string): string {
  if (hash.startsWith("$2")) return "a malformed bcrypt hash";
  if (hash.startsWith("$apr1$")) return "an MD5 (apr1) hash";
  if (hash.startsWith("{SHA}")) return "a SHA-1 hash";
  if (hash.startsWith("$1$")) return "an MD5-crypt hash";
  if (hash.startsWith("$5$")) return "a SHA-256-crypt hash";
  if (hash.startsWith("$6$")) return "a SHA-512-crypt hash";
  if (hash.startsWith("$argon2")) return "an Argon2 hash";
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return "a crypt (DES) hash or a plain-text password";
  return hash === "" ? "no hash" : "a plain-text password or an unknown hash";
}

/** A well-formed bcrypt hash of cost `cost` with a random salt and hash: nothing matches it. */
function dummyHash(cost: number): string {
  const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const random = crypto.getRandomValues(new Uint8Array(53));
  const tail = Array.from(random, (byte) => alphabet[byte & 63]).join("");
  return `$2b$${String(cost).padStart(2, "0")}$${tail}`;
}

/** A user name for a message: quoted, escaped, and cut, as it may be anything. */
function quoteUser(user: string): string {
  return JSON.stringify(user.length > 64 ? `${user.slice(0, 64)}…` : user);
}
