/**
 * The client behind trusted proxies, from `X-Forwarded-For`.
 *
 * Each proxy appends the address it received the request from, so only the right end of the
 * header is trustworthy: walking from the right, past addresses of trusted proxies, the first
 * other address is the client (anything to its left was written by the client itself). The
 * header is believed only when the peer itself is a trusted proxy.
 *
 * @module
 */
import { type IpAddress, peerAddress } from "./ip_address.ts";
import type { IpSet } from "./ip_set.ts";

/** Most header entries examined; a longer chain of trusted proxies ends at the last one seen. */
export const MAX_FORWARDED_HOPS = 32;

/** Longest entry parsed: an IPv6 address in brackets with a port and some spaces. */
const MAX_ENTRY = 64;

/**
 * The client address for a request from `peer` with `forwardedFor` (all `X-Forwarded-For`
 * values joined by commas, as `Headers.get` gives them). An entry that is not an address
 * (`unknown`, garbage) ends the walk at the trusted proxy that wrote it. The cost is bounded
 * by `MAX_FORWARDED_HOPS` entries, whatever the header's length.
 */
export function clientAddress(
  peer: IpAddress,
  forwardedFor: string | null | undefined,
  trustedProxies: IpSet,
): IpAddress {
  if (!forwardedFor || trustedProxies.size === 0 || !trustedProxies.has(peer)) return peer;
  let client = peer;
  let end = forwardedFor.length;
  for (let hops = 0; hops < MAX_FORWARDED_HOPS && end > 0; hops++) {
    const comma = forwardedFor.lastIndexOf(",", end - 1);
    const start = comma + 1;
    if (end - start > MAX_ENTRY) return client;
    const address = forwardedAddress(forwardedFor.slice(start, end).trim());
    if (address === undefined) return client;
    if (!trustedProxies.has(address)) return address;
    client = address;
    end = comma;
  }
  return client;
}

/** An entry as proxies write it: an address, `[v6]:port` or `v4:port`. */
function forwardedAddress(entry: string): IpAddress | undefined {
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(entry);
  if (bracketed) return peerAddress(bracketed[1]!);
  const v4WithPort = /^([\d.]+):\d{1,5}$/.exec(entry);
  return peerAddress(v4WithPort ? v4WithPort[1]! : entry);
}
