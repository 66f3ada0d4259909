import assert from "node:assert/strict";
import { AddressTable, limiterKey } from "./address_table.ts";
import { parseIpAddress } from "./ip_address.ts";

Deno.test("AddressTable drops the least recently used entry when full", () => {
  const table = new AddressTable<{ at: number }>(3, 1000);
  table.set("a", { at: 0 }, 0);
  table.set("b", { at: 1 }, 1);
  table.set("c", { at: 2 }, 2);
  assert.ok(table.get("a"), "a is now the most recently used");
  table.set("d", { at: 3 }, 3);
  assert.equal(table.get("b"), undefined);
  assert.deepEqual([table.size, table.evicted], [3, 1]);
});

Deno.test("AddressTable sweeps entries at rest without counting them", () => {
  const table = new AddressTable<{ at: number }>(100, 1000);
  for (let i = 0; i < 50; i++) table.set(`k${i}`, { at: 0 }, 0);
  table.set("late", { at: 1000 }, 1000);
  // At most 16 entries are swept per call, to keep each call cheap.
  assert.equal(table.size, 50 - 16 + 1);
  for (let i = 0; i < 3; i++) table.set(`more${i}`, { at: 1000 }, 1000);
  // The 34 old entries left went over the next two calls; "late" is not at rest.
  assert.equal(table.size, 4);
  assert.equal(table.get("k49"), undefined);
  assert.ok(table.get("late"));
  assert.equal(table.evicted, 0);
});

Deno.test("limiterKey() is the address for IPv4 and the /64 for IPv6", () => {
  assert.equal(limiterKey(parseIpAddress("10.0.0.1")), "10.0.0.1");
  assert.equal(limiterKey(parseIpAddress("::ffff:10.0.0.1")), "10.0.0.1");
  assert.equal(limiterKey(parseIpAddress("2001:db8:0:7:1:2:3:4")), "2001:db8:0:7::/64");
});
