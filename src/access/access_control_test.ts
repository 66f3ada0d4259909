import assert from "node:assert/strict";
import { OPEN_ACCESS } from "../config/defaults.ts";
import type { AccessConfig } from "../config/types.ts";
import { AccessConfigError, accessConfigProblems, AccessControl } from "./access_control.ts";
import { parseIpAddress } from "./ip_address.ts";

const config = (overrides: Partial<AccessConfig>): AccessConfig => ({
  ...OPEN_ACCESS,
  ...overrides,
});

Deno.test("AccessControl: empty allow admits everyone; deny wins over allow", () => {
  const open = new AccessControl(config({}));
  assert.deepEqual(open.admitConnection("203.0.113.1"), {
    admitted: true,
    address: parseIpAddress("203.0.113.1"),
    client: "203.0.113.1",
  });
  const control = new AccessControl(config({
    allow: ["10.0.0.0/8", "2001:db8::/32"],
    deny: ["10.0.0.66"],
  }));
  const admitted = (peer: string) => control.admitConnection(peer).admitted;
  assert.equal(admitted("10.1.2.3"), true);
  assert.equal(admitted("::ffff:10.1.2.3"), true);
  assert.equal(admitted("2001:db8::5"), true);
  assert.equal(admitted("10.0.0.66"), false);
  assert.equal(admitted("::ffff:10.0.0.66"), false);
  assert.equal(admitted("192.0.2.1"), false);
  assert.deepEqual(control.admitConnection("::ffff:192.0.2.1"), {
    admitted: false,
    reason: "denied",
    client: "192.0.2.1",
  });
  assert.deepEqual(control.admitConnection("not an address"), {
    admitted: false,
    reason: "denied",
    client: "not an address",
  });
});

Deno.test("AccessControl counts connections and answers with Retry-After", () => {
  const time = { now: 0 };
  const control = new AccessControl(config({ connectionsPerMinutePerIp: 2 }), {
    now: () => time.now,
  });
  assert.equal(control.admitConnection("198.51.100.1").admitted, true);
  assert.equal(control.admitConnection("198.51.100.1").admitted, true);
  assert.deepEqual(control.admitConnection("198.51.100.1"), {
    admitted: false,
    reason: "rate_limited",
    client: "198.51.100.1",
    retryAfterSeconds: 30,
  });
  // A request on an admitted connection is not another connection.
  assert.equal(control.admitRequest("198.51.100.1", null).admitted, true);
  assert.equal(control.stats.connections.tracked, 1);
});

Deno.test("AccessControl: behind a trusted proxy, the forwarded client is checked per request", () => {
  const control = new AccessControl(
    config({
      allow: ["198.51.100.0/24"],
      deny: ["198.51.100.66"],
      trustedProxies: ["127.0.0.1"],
      connectionsPerMinutePerIp: 1,
    }),
    { now: () => 0 },
  );
  // The proxy is not in allow, but it is trusted.
  assert.equal(control.admitConnection("127.0.0.1").admitted, true);
  assert.equal(control.admitConnection("127.0.0.1").admitted, true, "proxies are not rate limited");
  assert.deepEqual(control.admitRequest("127.0.0.1", "198.51.100.7"), {
    admitted: true,
    address: parseIpAddress("198.51.100.7"),
    client: "198.51.100.7",
  });
  assert.deepEqual(control.admitRequest("127.0.0.1", "198.51.100.7"), {
    admitted: false,
    reason: "rate_limited",
    client: "198.51.100.7",
    retryAfterSeconds: 60,
  });
  assert.equal(control.admitRequest("127.0.0.1", "198.51.100.66").admitted, false);
  assert.equal(control.admitRequest("127.0.0.1", "203.0.113.1").admitted, false);
  // Without the header the proxy itself is the client, and it is not in allow.
  assert.equal(control.admitRequest("127.0.0.1", null).admitted, false);
  // A peer that is not a trusted proxy cannot pick its address.
  assert.deepEqual(control.admitRequest("203.0.113.1", "198.51.100.8"), {
    admitted: false,
    reason: "denied",
    client: "203.0.113.1",
  });
});

Deno.test("AccessControl: a denied proxy stays denied", () => {
  const control = new AccessControl(
    config({ deny: ["127.0.0.1"], trustedProxies: ["127.0.0.0/8"] }),
  );
  assert.equal(control.admitConnection("127.0.0.1").admitted, false);
  assert.equal(control.admitConnection("127.0.0.2").admitted, true);
});

Deno.test("AccessControl tracks authentication failures per client", () => {
  const control = new AccessControl(config({ authFailuresPerMinutePerIp: 2 }), { now: () => 0 });
  const client = parseIpAddress("198.51.100.1");
  assert.deepEqual(control.checkAuth(client), { allowed: true });
  assert.deepEqual(control.recordAuthFailure(client), { allowed: true });
  assert.deepEqual(control.recordAuthFailure(client), { allowed: false, retryAfterSeconds: 60 });
  assert.deepEqual(control.checkAuth(client), { allowed: false, retryAfterSeconds: 60 });
  assert.deepEqual(control.checkAuth(parseIpAddress("198.51.100.2")), { allowed: true });
});

Deno.test("AccessControl reports every bad entry with its key", () => {
  const bad = config({
    allow: ["10.0.0.0/8", "10.0.0.1/8"],
    deny: ["nope"],
    trustedProxies: ["::1/200"],
  });
  const expected = [
    { key: "allow[1]", message: `"10.0.0.1/8" has host bits set: the network is "10.0.0.0/8"` },
    {
      key: "deny[0]",
      message:
        `"nope" is not an IP address or CIDR: an IPv4 address has four dot-separated numbers`,
    },
    {
      key: "trusted_proxies[0]",
      message:
        `"::1/200" is not an IP address or CIDR: the prefix length must be a number from 0 to 128`,
    },
  ];
  assert.deepEqual(accessConfigProblems(bad), expected);
  assert.throws(() => new AccessControl(bad), (error: unknown) => {
    assert.ok(error instanceof AccessConfigError);
    assert.deepEqual(error.issues, expected);
    assert.equal(error.message.split("\n")[0], `allow[1]: ${expected[0]!.message}`);
    return true;
  });
  assert.deepEqual(accessConfigProblems(OPEN_ACCESS), []);
});
