import { OPEN_ACCESS } from "../config/defaults.ts";
import { AccessControl } from "./access_control.ts";

const control = () =>
  new AccessControl({
    ...OPEN_ACCESS,
    allow: ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"],
    deny: ["10.0.0.66"],
    trustedProxies: ["127.0.0.1"],
    connectionsPerMinutePerIp: 1_000_000_000,
  });

const limited = control();
Deno.bench("admitConnection: one address, lists and rate limit", () => {
  limited.admitConnection("10.1.2.3");
});

const flooded = control();
let next = 0;
Deno.bench("admitConnection: a flood of distinct addresses (table full, evicting)", () => {
  next = (next + 1) & 0xffffff;
  flooded.admitConnection(`10.${next >>> 16}.${(next >>> 8) & 0xff}.${next & 0xff}`);
});

const chain = "198.51.100.1, 10.0.0.9, 10.0.0.8";
Deno.bench("admitRequest: X-Forwarded-For with three entries", () => {
  limited.admitRequest("127.0.0.1", chain);
});

const huge = `${"1".repeat(100_000)}, 10.1.1.1`;
const commas = ",".repeat(100_000);
const manyHops = Array.from({ length: 10_000 }, () => "127.0.0.1").join(",");
Deno.bench("admitRequest: 100 kB X-Forwarded-For, one long entry", () => {
  limited.admitRequest("127.0.0.1", huge);
});
Deno.bench("admitRequest: 100 kB X-Forwarded-For of commas", () => {
  limited.admitRequest("127.0.0.1", commas);
});
Deno.bench("admitRequest: 100 kB X-Forwarded-For of trusted hops", () => {
  limited.admitRequest("127.0.0.1", manyHops);
});
