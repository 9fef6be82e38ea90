import dns from 'node:dns';
import net from 'node:net';
import { Invalid } from '../core/errors.js';

// Webhook URLs must not reach into the bank's own network: a webhook is a request the bank
// makes on an admin's say-so, and loopback or private addresses would let it probe
// internal services. The host is resolved and EVERY address checked (a name that resolves
// to one public and one private address is refused), and the delivery connects only to the
// addresses checked (jobs/webhooks.ts pins them), so DNS rebinding between check and
// connect gains nothing.

const blocked = new net.BlockList();
for (const [addr, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(addr, prefix, 'ipv4');
for (const [addr, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(addr, prefix, 'ipv6');

/** Loopback, private, link-local, shared, documentation, multicast or reserved. */
export function isPrivateAddress(ip: string): boolean {
  const family = net.isIP(ip);
  if (family === 4) return blocked.check(ip, 'ipv4');
  if (family !== 6) return true;
  const lower = ip.toLowerCase();
  // IPv4-mapped (::ffff:10.0.0.1) and IPv4-compatible forms carry an IPv4 address.
  const mapped = /^(?:0*:)*:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return blocked.check(mapped[1], 'ipv4');
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hexMapped) {
    const hi = parseInt(hexMapped[1], 16);
    const lo = parseInt(hexMapped[2], 16);
    return blocked.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
  }
  return blocked.check(ip, 'ipv6');
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address of `host` (an IP literal resolves to itself). */
export async function resolveAll(host: string): Promise<ResolvedAddress[]> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const family = net.isIP(bare);
  if (family) return [{ address: bare, family }];
  return dns.promises.lookup(bare, { all: true, verbatim: true });
}

/**
 * The addresses a webhook may connect to for this host: all of them, when none is private
 * (or private ones are allowed). Otherwise Invalid naming `field`.
 */
export async function publicAddresses(host: string, allowPrivate: boolean, field = 'url'): Promise<ResolvedAddress[]> {
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolveAll(host);
  } catch {
    throw new Invalid(`The host ${host} does not resolve`, { fields: [field] });
  }
  if (!addresses.length) throw new Invalid(`The host ${host} does not resolve`, { fields: [field] });
  if (!allowPrivate) {
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad)
      throw new Invalid(`Webhook URLs may not point at loopback or private addresses (${host} resolves to ${bad.address})`, {
        fields: [field],
      });
  }
  return addresses;
}

/** A webhook URL: http(s), no credentials, at most 2048 characters. Returns the parsed URL. */
export function parseWebhookUrl(raw: string, field = 'url'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Invalid('url must be an absolute http(s) URL', { fields: [field] });
  }
  if (raw.length > 2048 || (url.protocol !== 'https:' && url.protocol !== 'http:') || !url.hostname) {
    throw new Invalid('url must be an absolute http(s) URL of at most 2048 characters', { fields: [field] });
  }
  if (url.username || url.password) throw new Invalid('url must not carry credentials', { fields: [field] });
  return url;
}
