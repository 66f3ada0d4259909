import assert from "node:assert/strict";
import { isIP } from "node:net";
import { formatIpAddress, parseIpAddress, peerAddress, readIpAddress } from "./ip_address.ts";

const canonical = (text: string) => formatIpAddress(parseIpAddress(text));

Deno.test("parseIpAddress() reads IPv4 in dotted decimal", () => {
  assert.deepEqual(parseIpAddress("10.0.0.1"), { family: 4, value: 0x0a000001 });
  assert.deepEqual(parseIpAddress("255.255.255.255"), { family: 4, value: 0xffffffff });
  assert.deepEqual(parseIpAddress("0.0.0.0"), { family: 4, value: 0 });
  assert.equal(canonical("192.168.100.200"), "192.168.100.200");
});

Deno.test("parseIpAddress() reads every IPv6 form and formats it per RFC 5952", () => {
  const cases: [text: string, formatted: string][] = [
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["fe80::1:2", "fe80::1:2"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["::192.0.2.1", "::c000:201"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
    ["ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
  ];
  for (const [text, formatted] of cases) {
    assert.equal(parseIpAddress(text).family, 6, text);
    assert.equal(canonical(text), formatted, text);
  }
});

Deno.test("an IPv4-mapped IPv6 address is the IPv4 address", () => {
  assert.deepEqual(parseIpAddress("::ffff:10.0.0.1"), { family: 4, value: 0x0a000001 });
  assert.deepEqual(parseIpAddress("::FFFF:0a00:0001"), { family: 4, value: 0x0a000001 });
  assert.deepEqual(parseIpAddress("0:0:0:0:0:ffff:10.0.0.1"), { family: 4, value: 0x0a000001 });
  assert.equal(parseIpAddress("::fffe:10.0.0.1").family, 6);
  assert.equal(parseIpAddress("64:ff9b::10.0.0.1").family, 6);
});

Deno.test("parseIpAddress() refuses malformed addresses, naming the fault", () => {
  const cases: [text: string, reason: string][] = [
    ["", "it is empty"],
    ["10.0.0", "an IPv4 address has four dot-separated numbers"],
    ["10.1", "an IPv4 address has four dot-separated numbers"],
    ["10.0.0.256", "256 is over 255"],
    ["010.0.0.1", `"010" has a leading zero (octal to some parsers)`],
    ["0x0a.0.0.1", `"0x0a" is not a number from 0 to 255`],
    ["10.0.0.1 ", `"1 " is not a number from 0 to 255`],
    ["1::2::3", `"::" appears more than once`],
    [":::", `it has an empty group (use "::" once for zeros)`],
    [":1::2", `it has an empty group (use "::" once for zeros)`],
    ["1:2:3:4:5:6:7", "it has 7 groups, not 8"],
    ["1:2:3:4:5:6:7:8:9", "it has 9 groups, not 8"],
    ["1:2:3:4:5:6:7:8::", `it has 8 groups besides "::", at most 7 fit`],
    ["12345::", `"12345" is not a group of 1 to 4 hex digits`],
    ["g::1", `"g" is not a group of 1 to 4 hex digits`],
    ["1.2.3.4::", `"1.2.3.4" is not a group of 1 to 4 hex digits`],
    ["::1.2.3.4:5", `"1.2.3.4" is not a group of 1 to 4 hex digits`],
    ["::256.0.0.1", `its IPv4 part "256.0.0.1" is invalid: 256 is over 255`],
    ["fe80::1%eth0", `zone ids ("%…") are not supported`],
    ["[::1]", `"[" is not a group of 1 to 4 hex digits`],
    ["x".repeat(46), "it is too long"],
  ];
  for (const [text, reason] of cases) {
    assert.equal(readIpAddress(text), reason, text);
    assert.throws(() => parseIpAddress(text), {
      name: "SyntaxError",
      message: `${JSON.stringify(text)} is not an IP address: ${reason}`,
    });
  }
});

Deno.test("parsing agrees with node:net and formatting with the URL parser on random addresses", () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 2000; i++) {
    const groups = Array.from({ length: 8 }, () => {
      const kind = random();
      if (kind < 0.4) return "0";
      return Math.floor(random() * 0x10000).toString(16);
    });
    let text = groups.join(":");
    if (random() < 0.5) text = text.replace(/(^|:)0(:0)+(:|$)/, "::");
    if (random() < 0.2) {
      text = `${groups.slice(0, 6).join(":")}:${
        Array.from({ length: 4 }, () => Math.floor(random() * 256)).join(".")
      }`;
    }
    const address = parseIpAddress(text);
    assert.equal(isIP(text), 6, text);
    if (address.family === 6) {
      assert.equal(
        formatIpAddress(address),
        new URL(`http://[${text}]/`).hostname.slice(1, -1),
        text,
      );
    }
  }
  const invalid = ["1:2", "::1::", "1:2:3:4:5:6:7:8:9", "12345::", "1.2.3", "1.2.3.04", "::1.2.3"];
  for (const text of invalid) {
    assert.equal(isIP(text), 0, text);
    assert.equal(typeof readIpAddress(text), "string", text);
  }
});

Deno.test("peerAddress() takes brackets and strips zone ids; undefined for anything else", () => {
  assert.equal(formatIpAddress(peerAddress("[2001:db8::1]")!), "2001:db8::1");
  assert.equal(formatIpAddress(peerAddress("fe80::1%eth0")!), "fe80::1");
  assert.equal(formatIpAddress(peerAddress("::ffff:127.0.0.1")!), "127.0.0.1");
  assert.equal(peerAddress("unknown"), undefined);
  assert.equal(peerAddress(""), undefined);
  assert.equal(peerAddress("10.0.0.1%eth0"), undefined);
  assert.equal(peerAddress("1".repeat(100_000)), undefined);
});
