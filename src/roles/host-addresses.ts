/**
 * Peer addresses for host binding (DESIGN.md section 8: the calling AE title is a claim,
 * not an identity). Addresses are compared in one normal form, so a dual-stack listener's
 * IPv4-mapped `::ffff:10.1.2.3` equals a registered `10.1.2.3`; host names resolve through
 * the system resolver (dns.lookup, every address), cached briefly so a flood of
 * associations claiming one title costs one lookup.
 */
import { lookup } from 'node:dns/promises';
import { isIP, isIPv4 } from 'node:net';

/** The comparable form of an IP address: IPv4-mapped IPv6 as plain IPv4, IPv6 lower case. */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase();
  const mapped = a.startsWith('::ffff:') ? a.slice('::ffff:'.length) : undefined;
  return mapped !== undefined && isIPv4(mapped) ? mapped : a;
}

/** 127.0.0.0/8 and ::1 (either way written): this machine. */
export function isLoopbackAddress(address: string): boolean {
  const a = normalizeAddress(address);
  if (isIPv4(a)) return a.startsWith('127.');
  return a === '::1' || a === '0:0:0:0:0:0:0:1';
}

export type AddressLookup = (host: string) => Promise<readonly string[]>;

const systemLookup: AddressLookup = async (host) => (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);

interface CacheEntry {
  until: number;
  addresses: Promise<readonly string[]>;
}

/** Host name -> its addresses (normalized), cached for `ttlMs` (failures for `failureTtlMs`). */
export class HostResolver {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(private readonly opts: { ttlMs?: number; failureTtlMs?: number; lookup?: AddressLookup; maxEntries?: number } = {}) {}

  /** The addresses of `host`: itself when it is an IP address, else the resolver's answer. Rejects when it cannot be resolved. */
  addresses(host: string): Promise<readonly string[]> {
    if (isIP(host)) return Promise.resolve([normalizeAddress(host)]);
    const key = host.toLowerCase();
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.addresses;
    const addresses = (this.opts.lookup ?? systemLookup)(key).then((list) => list.map(normalizeAddress));
    const entry: CacheEntry = { until: now + (this.opts.ttlMs ?? 30_000), addresses };
    addresses.catch(() => {
      entry.until = Date.now() + (this.opts.failureTtlMs ?? 5_000);
    });
    // Registered hosts are few; the bound only guards against a registry that changes a lot.
    if (this.cache.size >= (this.opts.maxEntries ?? 1000)) this.cache.clear();
    this.cache.set(key, entry);
    return addresses;
  }
}
