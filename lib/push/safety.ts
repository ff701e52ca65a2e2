/**
 * A push resource is a URL the client chose, and the server will POST to it: it must be HTTPS
 * and must not lead into the server's own network. Every address the host resolves to is checked,
 * at registration and again when a message is sent (the connection uses the checked address, so
 * a name that resolves elsewhere the second time cannot slip through). Loopback and similar ranges
 * are allowed only for hosts named in DAV_PUSH_ALLOW_HOSTS (tests, which may then use plain HTTP);
 * private and link-local ranges are refused even then.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

const never = new BlockList();
never.addSubnet("10.0.0.0", 8);
never.addSubnet("172.16.0.0", 12);
never.addSubnet("192.168.0.0", 16);
never.addSubnet("169.254.0.0", 16);
never.addSubnet("fc00::", 7, "ipv6");
never.addSubnet("fe80::", 10, "ipv6");

const unlessAllowed = new BlockList();
unlessAllowed.addSubnet("127.0.0.0", 8);
unlessAllowed.addSubnet("0.0.0.0", 8);
unlessAllowed.addSubnet("100.64.0.0", 10);
unlessAllowed.addSubnet("224.0.0.0", 3);
unlessAllowed.addAddress("::1", "ipv6");
unlessAllowed.addAddress("::", "ipv6");
unlessAllowed.addSubnet("ff00::", 8, "ipv6");

export class UnsafePushResource extends Error {}

/** An IPv4 address mapped into IPv6 is checked as the IPv4 address it is. */
function plain(address: string): { address: string; family: "ipv4" | "ipv6" } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1], family: "ipv4" };
  return { address, family: isIP(address) === 6 ? "ipv6" : "ipv4" };
}

/** Refuses an address the server must not reach for a push resource on `host`. */
export function checkAddress(address: string, host: string, allowHosts: readonly string[]): void {
  const a = plain(address);
  if (never.check(a.address, a.family))
    throw new UnsafePushResource(`${host} resolves to a private or link-local address`);
  if (
    unlessAllowed.check(a.address, a.family) &&
    !allowHosts.includes(host.toLowerCase()) &&
    !allowHosts.includes(a.address)
  )
    throw new UnsafePushResource(`${host} resolves to a loopback or reserved address`);
}

export interface CheckedResource {
  url: URL;
  /** The addresses checked, to connect to. */
  addresses: { address: string; family: number }[];
}

/** The push resource as a URL the server may POST to, with the addresses its host resolves to. */
export async function checkPushResource(
  raw: string,
  allowHosts: readonly string[],
): Promise<CheckedResource> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UnsafePushResource("the push resource is not an absolute URL");
  }
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const allowed = allowHosts.includes(host);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && allowed))
    throw new UnsafePushResource("the push resource must be an https: URL");
  if (url.username || url.password)
    throw new UnsafePushResource("the push resource must not carry credentials");
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await dnsLookup(host, { all: true });
  } catch {
    throw new UnsafePushResource(`${host} does not resolve`);
  }
  if (addresses.length === 0) throw new UnsafePushResource(`${host} does not resolve`);
  for (const a of addresses) checkAddress(a.address, host, allowHosts);
  return { url, addresses };
}
