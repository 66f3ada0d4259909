/**
 * IPv4 and IPv6 addresses in their text forms, parsed strictly and without dependencies.
 *
 * An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack socket reports for an
 * IPv4 peer) is the IPv4 address it maps, so it matches IPv4 rules. IPv4 has the dotted
 * decimal form only: `10.1`, `0x0a.0.0.1` and leading zeros (`010.0.0.1`, octal to some
 * parsers) are refused. IPv6 takes every RFC 4291 form: eight groups, `::` once, a dotted
 * IPv4 tail. Zone ids (`fe80::1%eth0`) are refused in configuration and stripped from peer
 * addresses: a rule for a link-local address matches it on every interface.
 *
 * @module
 */

/** An address: IPv4 as one 32-bit number, IPv6 as four (most significant first). */
export type IpAddress =
  | { readonly family: 4; readonly value: number }
  | { readonly family: 6; readonly words: readonly [number, number, number, number] };

/** Longest text form: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`. */
const MAX_TEXT = 45;
/** Longest peer text: brackets and a zone id (an interface name or number) besides. */
const MAX_PEER_TEXT = MAX_TEXT + 2 + 64;

/**
 * Parses an address written in a configuration; throws a `SyntaxError` naming the entry and
 * what is wrong with it.
 */
export function parseIpAddress(text: string): IpAddress {
  const parsed = readIpAddress(text);
  if (typeof parsed === "string") {
    throw new SyntaxError(`${quote(text)} is not an IP address: ${parsed}`);
  }
  return parsed;
}

/**
 * The address of a peer as a socket or proxy reports it, or undefined when it is none: also
 * takes `[v6]` in brackets and strips a zone id.
 */
export function peerAddress(text: string): IpAddress | undefined {
  if (text.length > MAX_PEER_TEXT) return undefined;
  let host = text;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const zone = host.indexOf("%");
  if (zone >= 0 && host.includes(":")) host = host.slice(0, zone);
  const parsed = readIpAddress(host);
  return typeof parsed === "string" ? undefined : parsed;
}

/** Canonical text: dotted decimal, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIpAddress(address: IpAddress): string {
  if (address.family === 4) return formatIpv4(address.value);
  const groups: number[] = [];
  for (const word of address.words) groups.push(word >>> 16, word & 0xffff);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) [bestStart, bestLength] = [i, end - i];
    i = end;
  }
  const hex = (from: number, to: number) =>
    groups.slice(from, to).map((group) => group.toString(16)).join(":");
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** Dotted decimal of a 32-bit number. */
export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** The address, or the reason it is none (for messages). */
export function readIpAddress(text: string): IpAddress | string {
  if (text === "") return "it is empty";
  if (text.length > MAX_TEXT) return "it is too long";
  if (text.includes(":")) {
    if (text.includes("%")) return 'zone ids ("%…") are not supported';
    const words = parseIpv6(text);
    if (typeof words === "string") return words;
    if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
      return { family: 4, value: words[3] };
    }
    return { family: 6, words };
  }
  const value = parseIpv4(text);
  return typeof value === "string" ? value : { family: 4, value };
}

function parseIpv4(text: string): number | string {
  const parts = text.split(".");
  if (parts.length !== 4) return "an IPv4 address has four dot-separated numbers";
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return `${quote(part)} is not a number from 0 to 255`;
    if (part.length > 1 && part.startsWith("0")) {
      return `${quote(part)} has a leading zero (octal to some parsers)`;
    }
    const byte = Number(part);
    if (byte > 255) return `${part} is over 255`;
    value = value * 256 + byte;
  }
  return value >>> 0;
}

function parseIpv6(text: string): [number, number, number, number] | string {
  const halves = text.split("::");
  if (halves.length > 2) return `"::" appears more than once`;
  const head = halves[0] === "" ? [] : halves[0]!.split(":");
  const tail = halves.length === 1 || halves[1] === "" ? [] : halves[1]!.split(":");
  const groups: number[] = [];
  const tailGroups: number[] = [];
  const all = [...head, ...tail];
  for (const [i, group] of all.entries()) {
    const into = i < head.length ? groups : tailGroups;
    const last = i === all.length - 1 && (halves.length === 1 || tail.length > 0);
    if (last && group.includes(".")) {
      const v4 = parseIpv4(group);
      if (typeof v4 === "string") return `its IPv4 part ${quote(group)} is invalid: ${v4}`;
      into.push(v4 >>> 16, v4 & 0xffff);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) {
      return group === ""
        ? `it has an empty group (use "::" once for zeros)`
        : `${quote(group)} is not a group of 1 to 4 hex digits`;
    }
    into.push(parseInt(group, 16));
  }
  const count = groups.length + tailGroups.length;
  if (halves.length === 1 && count !== 8) return `it has ${count} groups, not 8`;
  if (halves.length === 2 && count > 7) return `it has ${count} groups besides "::", at most 7 fit`;
  const full = [...groups, ...new Array<number>(8 - count).fill(0), ...tailGroups];
  return [0, 2, 4, 6].map((i) => ((full[i]! << 16) | full[i + 1]!) >>> 0) as [
    number,
    number,
    number,
    number,
  ];
}

function quote(value: string): string {
  return JSON.stringify(value);
}
