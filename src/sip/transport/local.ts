// Which address this host advertises in Via / Contact for a listener: the bound address, or for a
// wildcard bind ("0.0.0.0" / "::") the first usable interface address of that family.
import { networkInterfaces } from 'node:os';

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

/** IPv6 link-local addresses need a zone id and are useless to peers on other links. */
function isLinkLocal6(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}

/** The address to advertise for a listener bound to `bound` (an IP literal). */
export function advertisedAddress(bound: string, family: 4 | 6): string {
  if (!isWildcard(bound)) return bound;
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (ni.internal) continue;
      if (family === 4 && ni.family === 'IPv4') return ni.address;
      if (family === 6 && ni.family === 'IPv6' && !isLinkLocal6(ni.address)) return ni.address;
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}
