/**
 * Sets of addresses and CIDR blocks (`allow`, `deny`, `trusted_proxies`).
 *
 * A rule with host bits set (`10.0.0.1/8`) is refused rather than silently widened: it is
 * usually a typo. A rule in IPv4-mapped form with a prefix of at least 96
 * (`::ffff:10.0.0.0/104`) is the IPv4 rule it maps (`10.0.0.0/8`). IPv4 peers match IPv4
 * rules only: `::/0` means every IPv6 address, not everyone.
 *
 * @module
 */
import { formatIpAddress, type IpAddress, readIpAddress } from "./ip_address.ts";

/** A network: an address with the leading `prefix` bits significant, the rest zero. */
export interface IpRule {
  /** The first address of the network. */
  readonly network: IpAddress;
  /** Significant leading bits: 0 to 32 for IPv4, 0 to 128 for IPv6. */
  readonly prefix: number;
}

/** Parses `address` or `address/prefix`; throws a `SyntaxError` naming the entry and the fault. */
export function parseIpRule(text: string): IpRule {
  const rule = readRule(text);
  if (typeof rule === "string") throw new SyntaxError(rule);
  return rule;
}

/** What is wrong with the rule `text`, as a message naming it, or undefined when it is fine. */
export function ipRuleProblem(text: string): string | undefined {
  const rule = readRule(text);
  return typeof rule === "string" ? rule : undefined;
}

/** `network/prefix`, or the bare address for a single-address rule. */
export function formatIpRule(rule: IpRule): string {
  const bits = rule.network.family === 4 ? 32 : 128;
  const address = formatIpAddress(rule.network);
  return rule.prefix === bits ? address : `${address}/${rule.prefix}`;
}

/**
 * A set of rules, matched in time proportional to the number of distinct prefix lengths, not
 * the number of rules: a list of thousands of blocks costs a few map look-ups per peer.
 */
export class IpSet {
  /** Per prefix length, the networks' significant bits. */
  readonly #v4 = new Map<number, Set<number>>();
  readonly #v6 = new Map<number, Set<string>>();
  /** Rules in the set; 0 means it matches nothing. */
  readonly size: number;

  /** A set of `rules`, whose host bits must be zero (as `parseIpRule` makes them). */
  constructor(rules: readonly IpRule[]) {
    for (const rule of rules) {
      if (rule.network.family === 4) {
        let networks = this.#v4.get(rule.prefix);
        if (!networks) this.#v4.set(rule.prefix, networks = new Set());
        networks.add(v4Key(rule.network.value, rule.prefix));
      } else {
        let networks = this.#v6.get(rule.prefix);
        if (!networks) this.#v6.set(rule.prefix, networks = new Set());
        networks.add(v6Key(rule.network.words, rule.prefix));
      }
    }
    this.size = rules.length;
  }

  /** Parses every entry; throws a `SyntaxError` naming the first bad one. */
  static parse(entries: readonly string[]): IpSet {
    return new IpSet(entries.map(parseIpRule));
  }

  /** Whether a rule covers `address`. */
  has(address: IpAddress): boolean {
    if (address.family === 4) {
      for (const [prefix, networks] of this.#v4) {
        if (networks.has(v4Key(address.value, prefix))) return true;
      }
      return false;
    }
    for (const [prefix, networks] of this.#v6) {
      if (networks.has(v6Key(address.words, prefix))) return true;
    }
    return false;
  }
}

function v4Key(value: number, prefix: number): number {
  return prefix === 0 ? 0 : value >>> (32 - prefix);
}

function v6Key(words: readonly number[], prefix: number): string {
  let key = "";
  for (let i = 0, left = prefix; i < 4 && left > 0; i++, left -= 32) {
    const word = words[i]!;
    key += `${left >= 32 ? word : word >>> (32 - left)}.`;
  }
  return key;
}

function readRule(text: string): IpRule | string {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const entry = JSON.stringify(text);
  const address = readIpAddress(addressText);
  if (typeof address === "string") {
    return `${entry} is not an IP address or CIDR: ${address}`;
  }
  const mapped = address.family === 4 && addressText.includes(":");
  const bits = address.family === 4 && !mapped ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
      return `${entry} is not an IP address or CIDR: the prefix length must be a number ` +
        `from 0 to ${bits}`;
    }
    prefix = Number(prefixText);
  }
  let rule: IpRule;
  if (mapped) {
    rule = prefix >= 96
      ? { network: address, prefix: prefix - 96 }
      : { network: { family: 6, words: [0, 0, 0xffff, address.value] }, prefix };
  } else {
    rule = { network: address, prefix };
  }
  const network = networkOf(rule);
  if (!sameAddress(network, rule.network)) {
    return `${entry} has host bits set: the network is ${
      JSON.stringify(formatIpRule({ network, prefix: rule.prefix }))
    }`;
  }
  return rule;
}

function networkOf(rule: IpRule): IpAddress {
  const { network, prefix } = rule;
  if (network.family === 4) {
    return { family: 4, value: prefix === 0 ? 0 : (network.value & (~0 << (32 - prefix))) >>> 0 };
  }
  const words = network.words.map((word, i) => {
    const left = prefix - i * 32;
    if (left >= 32) return word;
    if (left <= 0) return 0;
    return (word & (~0 << (32 - left))) >>> 0;
  }) as [number, number, number, number];
  return { family: 6, words };
}

function sameAddress(a: IpAddress, b: IpAddress): boolean {
  if (a.family === 4 || b.family === 4) {
    return a.family === 4 && b.family === 4 && a.value === b.value;
  }
  return a.words.every((word, i) => word === b.words[i]);
}
