// Sending a response through drachtio-srf from an ordered (name, value) header list, and answering
// without ever throwing out of a handler.
import type { Logger } from '../lib/log.js';
import type { OutboundResponse } from './srf-types.js';

/**
 * RFC 3261 §7.3.1: these may not be folded into one comma-separated line. srf keeps one value per
 * header name, so each extra value becomes its own header line inside that value; every value is
 * checked for CR/LF first, so nothing but our own line breaks gets through.
 */
const ONE_PER_LINE = new Set(['www-authenticate', 'proxy-authenticate', 'authorization', 'proxy-authorization']);

/** srf's header object for an ordered header list; values with CR or LF are dropped. */
export function srfHeaders(list: readonly (readonly [string, string])[]): Record<string, string> {
  const out: Record<string, string> = {};
  const canonical = new Map<string, string>(); // lower-case name -> first spelling seen
  for (const [name, value] of list) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) continue;
    const key = name.toLowerCase();
    const spelled = canonical.get(key);
    if (spelled === undefined) {
      canonical.set(key, name);
      out[name] = value;
    } else {
      out[spelled] = ONE_PER_LINE.has(key) ? `${out[spelled]}\r\n${spelled}: ${value}` : `${out[spelled]}, ${value}`;
    }
  }
  return out;
}

/** res.send that logs instead of throwing (a gone transaction, a closed socket). */
export function reply(
  res: OutboundResponse,
  status: number,
  reason: string,
  headers: readonly (readonly [string, string])[],
  log: Logger,
  body?: string,
): void {
  if (res.finalResponseSent) return;
  try {
    res.send(status, reason.replace(/[\r\n]/g, ' '), body === undefined ? { headers: srfHeaders(headers) } : { headers: srfHeaders(headers), body }, (err) => {
      if (err) log.debug({ err, status }, 'response not sent');
    });
  } catch (err) {
    log.warn({ err, status }, 'sending a response failed');
  }
}
