import assert from "node:assert/strict";
import { clientAddress, MAX_FORWARDED_HOPS } from "./client_address.ts";
import { formatIpAddress, parseIpAddress } from "./ip_address.ts";
import { IpSet } from "./ip_set.ts";

const proxies = IpSet.parse(["127.0.0.1", "10.0.0.0/8", "2001:db8:ffff::/48"]);
const client = (peer: string, header: string | null, trusted = proxies) =>
  formatIpAddress(clientAddress(parseIpAddress(peer), header, trusted));

Deno.test("clientAddress() believes X-Forwarded-For only from a trusted proxy", () => {
  assert.equal(client("203.0.113.9", "198.51.100.1"), "203.0.113.9");
  assert.equal(client("127.0.0.1", "198.51.100.1"), "198.51.100.1");
  assert.equal(client("127.0.0.1", null), "127.0.0.1");
  assert.equal(client("127.0.0.1", ""), "127.0.0.1");
  assert.equal(client("127.0.0.1", "198.51.100.1", new IpSet([])), "127.0.0.1");
});

Deno.test("clientAddress() takes the right-most address that is not a trusted proxy", () => {
  // The client forged the first entry; proxy 10.0.0.2 appended the real one.
  assert.equal(client("127.0.0.1", "1.2.3.4, 198.51.100.1, 10.0.0.2"), "198.51.100.1");
  assert.equal(client("127.0.0.1", "1.2.3.4,198.51.100.1"), "198.51.100.1");
  assert.equal(client("127.0.0.1", "10.0.0.3, 10.0.0.2"), "10.0.0.3");
  assert.equal(client("127.0.0.1", "2001:db8::7, 2001:db8:ffff::1"), "2001:db8::7");
  assert.equal(client("::ffff:127.0.0.1", "::ffff:198.51.100.1"), "198.51.100.1");
});

Deno.test("clientAddress() reads ports and brackets, and stops at garbage", () => {
  assert.equal(client("127.0.0.1", "198.51.100.1:4711"), "198.51.100.1");
  assert.equal(client("127.0.0.1", "[2001:db8::7]:443"), "2001:db8::7");
  assert.equal(client("127.0.0.1", "[2001:db8::7]"), "2001:db8::7");
  // "unknown" was written by the trusted proxy right of it: that proxy is all we know.
  assert.equal(client("127.0.0.1", "198.51.100.1, unknown, 10.0.0.2"), "10.0.0.2");
  assert.equal(client("127.0.0.1", "unknown"), "127.0.0.1");
  assert.equal(client("127.0.0.1", " , "), "127.0.0.1");
});

Deno.test("clientAddress() does bounded work on huge headers", () => {
  const long = "1".repeat(100_000);
  assert.equal(client("127.0.0.1", long), "127.0.0.1");
  assert.equal(client("127.0.0.1", `${long}, 198.51.100.1`), "198.51.100.1");
  const commas = ",".repeat(100_000);
  assert.equal(client("127.0.0.1", commas), "127.0.0.1");
  const trustedChain = Array.from({ length: 5000 }, () => "10.0.0.9").join(", ");
  assert.equal(client("127.0.0.1", `198.51.100.1, ${trustedChain}`), "10.0.0.9");
  const within = Array.from({ length: MAX_FORWARDED_HOPS - 1 }, () => "10.0.0.9").join(", ");
  assert.equal(client("127.0.0.1", `198.51.100.1, ${within}`), "198.51.100.1");
});
