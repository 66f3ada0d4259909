/**
 * Redaction of secrets and personal data in text: built-in detectors and the operator's
 * own patterns, compiled once into one function per stream.
 *
 * Each detector first runs cheap tests that rule out most texts (one regular expression of
 * rare words and character pairs shared by four detectors, substring searches, a few
 * characters read), then a regular expression without nested or overlapping repetition, so
 * that a redaction takes time linear in the text whatever the text is.
 *
 * @module
 */
import type { RedactDetector } from "../config/types.ts";
import { caseInsensitiveSource, parseRegex } from "./regex_syntax.ts";

/** Every built-in detector, in the order they are applied. */
export const REDACT_DETECTORS: readonly RedactDetector[] = [
  "bearer_token",
  "jwt",
  "aws_access_key",
  "email",
  "credit_card",
  "ipv6",
  "ipv4",
];

/** What each detector puts in place of what it finds. */
export const REDACTION_MARKERS: Readonly<Record<RedactDetector, string>> = Object.freeze({
  bearer_token: "[REDACTED:bearer_token]",
  jwt: "[REDACTED:jwt]",
  aws_access_key: "[REDACTED:aws_access_key]",
  email: "[REDACTED:email]",
  credit_card: "[REDACTED:credit_card]",
  ipv6: "[REDACTED:ipv6]",
  ipv4: "[REDACTED:ipv4]",
});

/** An operator's pattern, compiled with the `g` flag, and its `String#replace` replacement. */
export interface RedactPattern {
  /** With the `g` flag. */
  readonly regex: RegExp;
  /** May use `$1`, `$<name>`, `$&`. */
  readonly replacement: string;
}

/** Redacts one text; returns the same string when there is nothing to redact. */
export type Redactor = (text: string) => string;

// Words and character pairs without which bearer_token, jwt, aws_access_key and email find
// nothing. One test of them all costs about as much as two substring searches.
const HINTS = /[Bb][Ee][Aa][Rr][Ee][Rr]|[Aa][Uu][Tt][Hh][Oo][Rr][Ii][Zz]|yJ|IA|@/;

// "Bearer <token>" anywhere, and the credentials of an "Authorization" header or key in any
// notation ("Authorization: Basic x", "authorization=x", "\"authorization\":\"Bearer x\"").
// A bearer token has at least 8 characters, so that "the bearer of" stays.
const BEARER_SOURCE = String.raw`\b(authorization["']?\s*[:=]\s*["']?)` +
  String.raw`(?:(bearer|basic|digest|negotiate|token)\s+)?[^\s"',;&]+|\b(bearer\s+)[\w.~+/-]{8,}=*`;
// In any case, with explicit classes ("[Bb][Ee]..."), which V8 matches faster than the same
// pattern with the i flag.
const BEARER = new RegExp(caseInsensitiveSource(parseRegex(BEARER_SOURCE)), "g");
const BEARER_WORDS = /bearer|authoriz/i;

// Three base64url segments, the first one a JSON object ("{\"" is "eyJ"); the signature is
// empty for unsigned tokens.
const JWT = /(?<![\w-])eyJ[\w-]+\.[\w-]+\.[\w-]*/g;

const AWS_ACCESS_KEY = /(?<![A-Za-z0-9])A(?:KI|SI)A[A-Z0-9]{16}(?![A-Za-z0-9])/g;

// A local part is only started where one can start, so a long word without "@" is read once,
// not once from each of its characters.
const EMAIL = /(?<![\w.+%-])[\w.+%-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])/g;

// 13 to 19 digits, the first one 2-6 (the major card networks; epoch timestamps in ms, µs
// and ns start with 1), optionally grouped by single spaces or dashes, not part of a longer
// number or of a decimal fraction.
const CARD_NUMBER = /(?<![\w.])[2-6]\d(?:[ -]?\d){11,17}(?!\w|\.\d)/g;
const CARD_FINDER = new RegExp(CARD_NUMBER.source);

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
// Not part of a longer dotted number ("1.2.3.4.5", "v1.2.3.4"); leading zeros are refused.
const IPV4 = new RegExp(`(?<![\\w.])(?:${OCTET}\\.){3}${OCTET}(?!\\w|\\.\\d)`, "g");
const IPV4_FINDER = new RegExp(IPV4.source);
const IPV4_WHOLE = new RegExp(`^(?:${OCTET}\\.){3}${OCTET}$`);

/**
 * Whether the digits of `text` up to `end` (all of it by default) pass the Luhn checksum;
 * other characters (the spaces and dashes of a card number) are skipped.
 */
export function luhnValid(text: string, end = text.length): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= 0; i--) {
    let digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) continue;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

function isCardCharacter(code: number): boolean {
  return (code >= 48 && code <= 57) || code === 32 || code === 45;
}

/**
 * Whether `text` has 13 digits in a run of digits, spaces and dashes. Such a run spans at
 * least 13 characters, so it covers one of every 13th position: only those are read, and
 * the runs through them. Digits are everywhere in logs, and a regular expression would look
 * at each of them.
 */
function hasCardRun(text: string): boolean {
  const length = text.length;
  let next = 12;
  while (next < length) {
    let code = text.charCodeAt(next);
    // Within a card number, a separator is followed by a digit; other spaces are skipped
    // without reading the run around them.
    if (code === 32 || code === 45) code = text.charCodeAt(next + 1);
    if (!(code >= 48 && code <= 57)) {
      next += 13;
      continue;
    }
    let start = next;
    while (start > 0 && isCardCharacter(text.charCodeAt(start - 1))) start--;
    let digits = 0;
    let end = start;
    for (; end < length; end++) {
      code = text.charCodeAt(end);
      if (code >= 48 && code <= 57) {
        if (++digits === 13) return true;
      } else if (code !== 32 && code !== 45) {
        break;
      }
    }
    // A run starting after `end` reaches `end + 13`.
    next = end + 13;
  }
  return false;
}

/**
 * The length of the card number at the start of a candidate: all of it, or failing the
 * checksum, the longest leading groups (up to a separator) of 13 digits or more that pass
 * it; 0 when none does.
 */
function cardPrefixLength(candidate: string): number {
  if (luhnValid(candidate)) return candidate.length;
  // Cut at each separator that leaves 13 digits or more, longest first.
  for (let end = candidate.length - 1; end > 13; end--) {
    const code = candidate.charCodeAt(end);
    if (
      (code === 32 || code === 45) && countDigits(candidate, end) >= 13 &&
      luhnValid(candidate, end)
    ) {
      return end;
    }
  }
  return 0;
}

function countDigits(text: string, end: number): number {
  let digits = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
  }
  return digits;
}

function redactCards(text: string): string {
  return text.replace(CARD_NUMBER, (candidate) => {
    const length = cardPrefixLength(candidate);
    return length === 0 ? candidate : REDACTION_MARKERS.credit_card + candidate.slice(length);
  });
}

/**
 * The marker for a JSON number that is a card number (13 to 16 digits: longer ones are not
 * exact as numbers), or undefined. Card numbers sometimes arrive as numbers in JSON lines,
 * where string redaction would not see them.
 */
export function redactCardNumber(value: number): string | undefined {
  if (!Number.isSafeInteger(value) || value < 1e12) return undefined;
  const digits = String(value);
  return digits.charCodeAt(0) >= 50 && digits.charCodeAt(0) <= 54 && luhnValid(digits)
    ? REDACTION_MARKERS.credit_card
    : undefined;
}

function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x66);
}

/** Whether `text` from `start` to `end` is 1 to 4 hex digits. */
function isHexGroup(text: string, start: number, end: number): boolean {
  if (end <= start || end - start > 4) return false;
  for (let i = start; i < end; i++) {
    if (!isHexDigit(text.charCodeAt(i))) return false;
  }
  return true;
}

/** The number of colon-separated hex groups from `start` to `end`; -1 when one is not. */
function countGroups(text: string, start: number, end: number): number {
  if (start === end) return 0;
  let count = 0;
  let groupStart = start;
  for (let i = start; i <= end; i++) {
    if (i === end || text.charCodeAt(i) === 58) {
      if (!isHexGroup(text, groupStart, i)) return -1;
      count++;
      groupStart = i + 1;
    }
  }
  return count;
}

/** Whether `text` is an IPv6 address (optionally ending in an IPv4 one), without zone. */
export function isIpv6(text: string): boolean {
  let groups = text;
  const lastColon = text.lastIndexOf(":");
  if (lastColon === -1) return false;
  if (text.indexOf(".", lastColon) !== -1) {
    if (!IPV4_WHOLE.test(text.slice(lastColon + 1))) return false;
    // The IPv4 address stands for the last two groups.
    groups = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const gap = groups.indexOf("::");
  if (gap === -1) return countGroups(groups, 0, groups.length) === 8;
  if (groups.indexOf("::", gap + 1) !== -1) return false;
  const head = countGroups(groups, 0, gap);
  const tail = countGroups(groups, gap + 2, groups.length);
  // "::" alone, a separator in prose as often as an address, is left.
  return head >= 0 && tail >= 0 && head + tail >= 1 && head + tail <= 7;
}

function isIpv6RunCharacter(code: number): boolean {
  return isHexDigit(code) || code === 58 || code === 46;
}

function isWordCharacter(code: number): boolean {
  return (code >= 48 && code <= 57) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a) ||
    code === 95;
}

/**
 * Whether `text` has "::" or seven colons, as an IPv6 address does, found with native
 * substring searches (timestamps have two colons, and stop the search early).
 */
function hasIpv6Colons(text: string): boolean {
  let previous = text.indexOf(":");
  for (let found = 1; previous !== -1; found++) {
    const at = text.indexOf(":", previous + 1);
    if (at === previous + 1 || (at !== -1 && found === 6)) return true;
    previous = at;
  }
  return false;
}

/**
 * `text` with its IPv6 addresses redacted. A candidate is a whole run of hex digits, colons
 * and dots around a colon, without the dots it ends with, not followed by a word
 * character; a single colon at either end separates it from a key or a port
 * ("addr:fe80::1").
 */
function redactIpv6(text: string): string {
  let result = "";
  let copied = 0;
  let colon = text.indexOf(":");
  while (colon !== -1) {
    let start = colon;
    while (start > 0 && isIpv6RunCharacter(text.charCodeAt(start - 1))) start--;
    let end = colon + 1;
    while (end < text.length && isIpv6RunCharacter(text.charCodeAt(end))) end++;
    while (text.charCodeAt(end - 1) === 46) end--;
    if (end === text.length || !isWordCharacter(text.charCodeAt(end))) {
      let from = start;
      let to = end;
      if (text.charCodeAt(from) === 58 && text.charCodeAt(from + 1) !== 58) from++;
      if (text.charCodeAt(to - 1) === 58 && text.charCodeAt(to - 2) !== 58) to--;
      if (to - from >= 3 && isIpv6(text.slice(from, to))) {
        result += text.slice(copied, from) + REDACTION_MARKERS.ipv6;
        copied = to;
      }
    }
    colon = text.indexOf(":", end);
  }
  return copied === 0 ? text : result + text.slice(copied);
}

/** Whether `text` has three dots, as an IPv4 address does. */
function hasThreeDots(text: string): boolean {
  const first = text.indexOf(".");
  if (first === -1) return false;
  const second = text.indexOf(".", first + 1);
  return second !== -1 && text.indexOf(".", second + 1) !== -1;
}

function redactBearer(text: string): string {
  return text.replace(
    BEARER,
    (_, header: string | undefined, scheme: string | undefined, bearer: string | undefined) =>
      header !== undefined
        ? `${header}${scheme === undefined ? "" : `${scheme} `}${REDACTION_MARKERS.bearer_token}`
        : `${bearer}${REDACTION_MARKERS.bearer_token}`,
  );
}

/**
 * One function applying `patterns` (in their order), then `detectors` (in the order of
 * {@linkcode REDACT_DETECTORS}, whatever order they are given in); undefined when there is
 * nothing to apply.
 */
export function compileRedactor(
  detectors: readonly RedactDetector[],
  patterns: readonly RedactPattern[] = [],
): Redactor | undefined {
  const bearer = detectors.includes("bearer_token");
  const jwt = detectors.includes("jwt");
  const aws = detectors.includes("aws_access_key");
  const email = detectors.includes("email");
  const card = detectors.includes("credit_card");
  const ipv6 = detectors.includes("ipv6");
  const ipv4 = detectors.includes("ipv4");
  const hinted = bearer || jwt || aws || email;
  if (!hinted && !card && !ipv6 && !ipv4 && patterns.length === 0) return undefined;
  // Each detector's test is written out at its own call site rather than looked up in a
  // table: V8 inlines a call that always reaches the same function, not one that reaches
  // seven, and the difference is a third of the cost of a clean line.
  const patternCount = patterns.length;
  const redact = (text: string): string => {
    let result = text;
    for (let i = 0; i < patternCount; i++) {
      const { regex, replacement } = patterns[i]!;
      result = result.replace(regex, replacement);
    }
    // "::1" is the shortest text any detector finds something in, "a@b.cd" the shortest
    // any detector with a hint does.
    if (result.length < 3) return result;
    if (hinted && result.length >= 6 && HINTS.test(result)) {
      if (bearer && BEARER_WORDS.test(result)) result = redactBearer(result);
      if (jwt && result.indexOf("yJ") !== -1) result = result.replace(JWT, REDACTION_MARKERS.jwt);
      if (aws && result.indexOf("IA") !== -1) {
        result = result.replace(AWS_ACCESS_KEY, REDACTION_MARKERS.aws_access_key);
      }
      if (email && result.indexOf("@") !== -1) {
        result = result.replace(EMAIL, REDACTION_MARKERS.email);
      }
    }
    if (card && result.length >= 13 && hasCardRun(result) && CARD_FINDER.test(result)) {
      result = redactCards(result);
    }
    if (ipv6 && hasIpv6Colons(result)) result = redactIpv6(result);
    if (ipv4 && result.length >= 7 && hasThreeDots(result) && IPV4_FINDER.test(result)) {
      result = result.replace(IPV4, REDACTION_MARKERS.ipv4);
    }
    return result;
  };
  return redact;
}
