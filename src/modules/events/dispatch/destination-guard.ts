import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Resolves a host name to every address it has (node:dns by default; tests inject their own). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

export interface DestinationPolicy {
  /** `EVENTS_ALLOW_PRIVATE=on`: http, any port and private addresses too (development, tests). */
  allowPrivate: boolean;
}

/** Why a destination is refused; the message is safe to show to the subscription's admin. */
export class DestinationRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Whether an address may be connected to: public unicast only (IPv4-mapped IPv6 unwrapped), so
 * no loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast,
 * reserved or unspecified address — unless private addresses are allowed.
 */
export function addressAllowed(address: string, policy: DestinationPolicy): boolean {
  if (policy.allowPrivate) return true;
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  // IPv4-compatible IPv6 (::a.b.c.d, deprecated) is "unicast" to ipaddr.js: refuse it.
  if (
    parsed.kind() === 'ipv6' &&
    (parsed as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0)
  )
    return false;
  return parsed.range() === 'unicast';
}

/**
 * Checks a subscription URL before any name is resolved: http(s) only; without private
 * addresses, https on port 443 only (the NetworkPolicy's only egress) and an IP literal must be
 * public. Throws DestinationRefused.
 */
export function checkUrl(raw: string, policy: DestinationPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DestinationRefused('url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new DestinationRefused('url must use https');
  if (url.username || url.password) throw new DestinationRefused('url must not carry credentials');
  if (!policy.allowPrivate) {
    if (url.protocol !== 'https:') throw new DestinationRefused('url must use https');
    if (url.port !== '' && url.port !== '443')
      throw new DestinationRefused('url must use port 443');
  }
  const host = hostOf(url);
  if (isIP(host) && !addressAllowed(host, policy))
    throw new DestinationRefused('url must point to a public address');
  return url;
}

/** The URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Resolves `hostname` and refuses it unless every address is allowed (a name that resolves to
 * one public and one private address is refused: the connection could take either).
 */
export async function resolveAllowed(
  hostname: string,
  policy: DestinationPolicy,
  resolver: Resolver,
): Promise<LookupAddress[]> {
  if (isIP(hostname)) {
    if (!addressAllowed(hostname, policy))
      throw new DestinationRefused('url must point to a public address');
    return [{ address: hostname, family: isIP(hostname) }];
  }
  const addresses = await resolver(hostname);
  if (addresses.length === 0) throw new DestinationRefused(`${hostname} has no address`);
  if (!addresses.every((entry) => addressAllowed(entry.address, policy)))
    throw new DestinationRefused(`${hostname} resolves to an address that is not public`);
  return addresses;
}

/**
 * A `lookup` for http(s) agents that checks the addresses actually connected to, at every
 * connection: DNS rebinding (public at creation, private at delivery) cannot reach loopback,
 * private or metadata addresses. Honours `options.all` (Node's happy-eyeballs asks for every
 * address).
 */
export function guardedLookup(policy: DestinationPolicy, resolver: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolveAllowed(hostname, policy, resolver).then(
      (addresses) => {
        const family = typeof options === 'object' ? options.family : undefined;
        const wanted =
          family === 4 || family === 6
            ? addresses.filter((entry) => entry.family === family)
            : addresses;
        if (typeof options === 'object' && options.all) {
          (callback as (error: Error | null, addresses: LookupAddress[]) => void)(null, wanted);
          return;
        }
        const first = wanted[0];
        if (!first) {
          callback(new DestinationRefused(`${hostname} has no address of that family`), '', 0);
          return;
        }
        callback(null, first.address, first.family);
      },
      (error: Error) => callback(error, '', 0),
    );
  };
}
