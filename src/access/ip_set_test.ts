import assert from "node:assert/strict";
import { parseIpAddress } from "./ip_address.ts";
import { formatIpRule, ipRuleProblem, IpSet, parseIpRule } from "./ip_set.ts";

const has = (set: IpSet, text: string) => set.has(parseIpAddress(text));

Deno.test("IpSet matches addresses and CIDRs of both families", () => {
  const set = IpSet.parse(["10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1", "fe80::/10"]);
  assert.equal(set.size, 5);
  const cases: [address: string, expected: boolean][] = [
    ["10.0.0.1", true],
    ["10.255.255.255", true],
    ["11.0.0.0", false],
    ["9.255.255.255", false],
    ["192.168.1.7", true],
    ["192.168.1.8", false],
    ["2001:db8::1", true],
    ["2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db9::", false],
    ["::1", true],
    ["::2", false],
    ["fe80::1", true],
    ["febf:ffff::1", true],
    ["fec0::1", false],
    ["::ffff:10.1.2.3", true],
    ["::ffff:11.1.2.3", false],
  ];
  for (const [address, expected] of cases) assert.equal(has(set, address), expected, address);
});

Deno.test("IpSet: /0 rules cover their own family only", () => {
  const v4 = IpSet.parse(["0.0.0.0/0"]);
  assert.ok(has(v4, "1.2.3.4"));
  assert.ok(has(v4, "::ffff:1.2.3.4"));
  assert.ok(!has(v4, "::1"));
  const v6 = IpSet.parse(["::/0"]);
  assert.ok(has(v6, "2001:db8::1"));
  assert.ok(!has(v6, "1.2.3.4"));
  assert.ok(!has(v6, "::ffff:1.2.3.4"));
  assert.ok(!has(new IpSet([]), "1.2.3.4"));
});

Deno.test("IpSet: every prefix length matches exactly its network", () => {
  const base = parseIpAddress("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
  assert.equal(base.family, 6);
  for (let prefix = 0; prefix <= 128; prefix++) {
    const words = base.words.map((word, i) => {
      const left = prefix - i * 32;
      return left >= 32 ? word : left <= 0 ? 0 : (word & (~0 << (32 - left))) >>> 0;
    }) as [number, number, number, number];
    const set = new IpSet([{ network: { family: 6, words }, prefix }]);
    assert.ok(set.has(base), `/${prefix}`);
    if (prefix > 0) {
      // Flip the last significant bit: outside the network.
      const bit = prefix - 1;
      const flipped = [...words] as [number, number, number, number];
      flipped[bit >> 5] = (flipped[bit >> 5]! ^ (1 << (31 - (bit & 31)))) >>> 0;
      assert.ok(!set.has({ family: 6, words: flipped }), `/${prefix} flipped`);
    }
  }
  for (let prefix = 0; prefix <= 32; prefix++) {
    const value = 0xc0a80101;
    const network = prefix === 0 ? 0 : (value & (~0 << (32 - prefix))) >>> 0;
    const set = new IpSet([{ network: { family: 4, value: network }, prefix }]);
    assert.ok(set.has({ family: 4, value }), `/${prefix}`);
    if (prefix > 0) {
      assert.ok(!set.has({ family: 4, value: (value ^ (1 << (32 - prefix))) >>> 0 }), `/${prefix}`);
    }
  }
});

Deno.test("parseIpRule() maps IPv4-mapped rules to IPv4 and formats rules back", () => {
  assert.equal(formatIpRule(parseIpRule("::ffff:10.0.0.0/104")), "10.0.0.0/8");
  assert.equal(formatIpRule(parseIpRule("::ffff:10.0.0.1")), "10.0.0.1");
  assert.equal(formatIpRule(parseIpRule("2001:DB8:0::/48")), "2001:db8::/48");
  assert.equal(formatIpRule(parseIpRule("10.0.0.0/32")), "10.0.0.0");
  assert.equal(formatIpRule(parseIpRule("0.0.0.0/0")), "0.0.0.0/0");
});

Deno.test("ipRuleProblem() names the entry and the fault", () => {
  const cases: [entry: string, problem: string | undefined][] = [
    ["10.0.0.0/8", undefined],
    ["2001:db8::/32", undefined],
    ["10.0.0.1/8", `"10.0.0.1/8" has host bits set: the network is "10.0.0.0/8"`],
    ["2001:db8::1/64", `"2001:db8::1/64" has host bits set: the network is "2001:db8::/64"`],
    [
      "10.0.0.0/33",
      `"10.0.0.0/33" is not an IP address or CIDR: the prefix length must be a number from 0 to 32`,
    ],
    [
      "::/129",
      `"::/129" is not an IP address or CIDR: the prefix length must be a number from 0 to 128`,
    ],
    [
      "10.0.0.0/08",
      `"10.0.0.0/08" is not an IP address or CIDR: the prefix length must be a number from 0 to 32`,
    ],
    [
      "10.0.0.0/",
      `"10.0.0.0/" is not an IP address or CIDR: the prefix length must be a number from 0 to 32`,
    ],
    [
      "10.0.0.0/8/8",
      `"10.0.0.0/8/8" is not an IP address or CIDR: the prefix length must be a number from 0 to 32`,
    ],
    [
      "localhost",
      `"localhost" is not an IP address or CIDR: an IPv4 address has four dot-separated numbers`,
    ],
    ["10.0.0.300", `"10.0.0.300" is not an IP address or CIDR: 300 is over 255`],
    [
      "fe80::1%eth0/64",
      `"fe80::1%eth0/64" is not an IP address or CIDR: zone ids ("%…") are not supported`,
    ],
    ["", `"" is not an IP address or CIDR: it is empty`],
  ];
  for (const [entry, problem] of cases) {
    assert.equal(ipRuleProblem(entry), problem, entry);
    if (problem !== undefined) {
      assert.throws(() => parseIpRule(entry), { name: "SyntaxError", message: problem });
    }
  }
  assert.throws(() => IpSet.parse(["10.0.0.0/8", "bad"]), /"bad" is not an IP address or CIDR/);
});
