// RFC 3261 §10.3 REGISTER processing as a pure function: current bindings of one AOR plus the
// facts of a REGISTER in, the new bindings, the changes to persist and the status out. No I/O,
// no clock: `now` is an input, so every rule is a row in a table test.
import type { Binding } from '../../store/index.js';
import { sipUriEquals } from './uri-compare.js';

/** Largest delta-seconds (RFC 3261 §20.19, §20.10): larger values are treated as this. */
export const MAX_DELTA_SECONDS = 2 ** 32 - 1;

/** One Contact of the REGISTER, with its parameters still as text so that bad values are ours to judge. */
export interface ContactFacts {
  /** addr-spec, without angle brackets. */
  uri: string;
  /** `expires` contact parameter. */
  expires?: string;
  /** `q` contact parameter. */
  q?: string;
  /** RFC 5626 `+sip.instance` (quotes and <> are stripped here). */
  instance?: string;
  /** RFC 5626 `reg-id`. */
  regId?: string;
}

/** Where the REGISTER came from; copied into every binding it creates or refreshes. */
export type BindingSource = Pick<Binding, 'path' | 'received' | 'transport' | 'sourceAddress' | 'sourcePort' | 'userAgent'>;

export interface RegisterFacts {
  aor: string;
  /** Contact header values in order; '*' for the wildcard. Empty = a query (§10.2.3). */
  contacts: readonly (ContactFacts | '*')[];
  /** Expires header value, as text, when present. */
  expires?: string;
  callId: string;
  cseq: number;
  /** Epoch ms. */
  now: number;
  source: BindingSource;
}

export interface ExpiryLimits {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
}

export type RegisterResult =
  | {
      status: 200;
      /** Every live binding of the AOR after this request. */
      bindings: Binding[];
      /** Persist these (insert or replace by (aor, contact)) ... */
      upsert: Binding[];
      /** ... and delete these, in one transaction (§10.3 step 7: all or nothing). */
      remove: Binding[];
      /** Contact header values for the 200 OK: `<uri>;expires=N[;q=...]` (§10.3 step 8). */
      contactHeaders: string[];
    }
  | { status: 400; reason: string }
  | { status: 423; reason: string; minExpires: number }
  | { status: 500; reason: string };

export function processRegister(current: readonly Binding[], facts: RegisterFacts, limits: ExpiryLimits): RegisterResult {
  const { now } = facts;
  const remove: Binding[] = [];
  // Expired bindings no longer exist as far as the protocol is concerned.
  let work: Binding[] = [];
  for (const b of current) (b.expiresAt > now ? work : remove).push(b);

  let headerExpires: number | undefined;
  if (facts.expires !== undefined) {
    headerExpires = parseDelta(facts.expires);
    // §20.19 grammar is delta-seconds; anything else is a malformed header (§21.4.1).
    if (headerExpires === undefined) return { status: 400, reason: 'Invalid Expires header' };
  }

  if (facts.contacts.some((c) => c === '*')) {
    // §10.3 step 6: '*' only alone and only with Expires: 0.
    if (facts.contacts.length !== 1) return { status: 400, reason: 'Wildcard Contact with other Contacts' };
    if (headerExpires !== 0) return { status: 400, reason: 'Wildcard Contact needs Expires: 0' };
    for (const b of work) {
      // Same Call-ID: only a newer CSeq may remove the binding; otherwise the request fails.
      if (b.callId === facts.callId && facts.cseq <= b.cseq) return outOfOrder();
    }
    return ok([], [], [...remove, ...work], now);
  }

  const upsert = new Map<string, Binding>(); // keyed by contact URI text
  const fresh = new Set<Binding>(); // bindings this request made: later Contacts may replace them
  for (const c of facts.contacts as readonly ContactFacts[]) {
    // We echo Contact URIs in the 200 OK: refuse anything that is not a plausible bare URI.
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"]+$/.test(c.uri)) return { status: 400, reason: 'Invalid Contact URI' };
    let q: number | null = null;
    if (c.q !== undefined) {
      // §20.10 / §25.1 qvalue: "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]
      if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(c.q)) return { status: 400, reason: 'Invalid q value' };
      q = Number(c.q);
    }
    const regId = c.regId === undefined ? null : parseRegId(c.regId);
    if (regId === undefined) return { status: 400, reason: 'Invalid reg-id' };
    const instanceId = c.instance === undefined ? null : c.instance.replace(/^"?<?|>?"?$/g, '');

    // §10.3 step 5: contact parameter, else Expires header, else the local default. §20.10:
    // a malformed contact expires is treated as the default (3600 in the RFC).
    let expires = c.expires === undefined ? (headerExpires ?? limits.defaultExpires) : (parseDelta(c.expires) ?? limits.defaultExpires);
    if (expires > 0 && expires < limits.minExpires) {
      // §10.3 step 5 / §21.4.17: too brief -> 423 with Min-Expires, nothing changes.
      return { status: 423, reason: 'Interval Too Brief', minExpires: limits.minExpires };
    }
    expires = Math.min(expires, limits.maxExpires); // §10.3 step 5: the registrar MAY shorten

    const existing = work.find((b) => sameBinding(b, c.uri, instanceId, regId));
    if (existing && !fresh.has(existing)) {
      // §10.3 step 7: same Call-ID with an equal or lower CSeq is out of order: abort all.
      if (existing.callId === facts.callId && facts.cseq <= existing.cseq) return outOfOrder();
    }
    if (existing) {
      work = work.filter((b) => b !== existing);
      // A Contact repeated within this request simply overrides the earlier one.
      if (fresh.has(existing)) upsert.delete(existing.contact);
      else remove.push(existing);
    }
    if (expires === 0) continue; // §10.3 step 7: removed (or never created)
    const b: Binding = {
      aor: facts.aor,
      contact: c.uri,
      expiresAt: now + expires * 1000,
      q,
      callId: facts.callId,
      cseq: facts.cseq,
      ...facts.source,
      instanceId,
      regId,
      updatedAt: now,
    };
    work.push(b);
    fresh.add(b);
    upsert.set(b.contact, b);
  }
  // A binding rewritten under the same contact text is an upsert, not a delete + insert.
  const finalRemove = remove.filter((r) => !upsert.has(r.contact));
  return ok(work, [...upsert.values()], finalRemove, now);
}

/** RFC 3261 §10.3 step 8 Contact value for the 200 OK. */
export function contactHeaderOf(b: Binding, now: number): string {
  const expires = Math.max(0, Math.ceil((b.expiresAt - now) / 1000));
  return `<${b.contact}>;expires=${expires}${b.q === null ? '' : `;q=${b.q}`}`;
}

/** The AOR key for a user of our domain: `sip:user@domain`, domain lower-cased (RFC 3261 §10.3 step 5). */
export function canonicalAor(user: string, domain: string): string {
  return `sip:${user}@${domain.toLowerCase()}`;
}

/**
 * RFC 5626 §6: with outbound, a Contact carrying +sip.instance and reg-id replaces the binding
 * with the same pair whatever its URI (the flow changed, the device did not). Otherwise §10.3
 * step 7 compares URIs with the §19.1.4 rules.
 */
function sameBinding(b: Binding, uri: string, instanceId: string | null, regId: number | null): boolean {
  if (b.contact === uri) return true; // one row per (aor, contact) in the store
  if (instanceId !== null && regId !== null && b.instanceId !== null && b.regId !== null) {
    return b.instanceId === instanceId && b.regId === regId;
  }
  return sipUriEquals(b.contact, uri);
}

function ok(bindings: Binding[], upsert: Binding[], remove: Binding[], now: number): RegisterResult {
  const sorted = [...bindings].sort((a, b) => (b.q ?? -1) - (a.q ?? -1) || a.contact.localeCompare(b.contact));
  return { status: 200, bindings: sorted, upsert, remove, contactHeaders: sorted.map((b) => contactHeaderOf(b, now)) };
}

function outOfOrder(): RegisterResult {
  return { status: 500, reason: 'Out of order CSeq for this Call-ID' };
}

function parseDelta(s: string): number | undefined {
  const t = s.trim();
  if (!/^\d+$/.test(t)) return undefined;
  return Math.min(Number(t), MAX_DELTA_SECONDS);
}

function parseRegId(s: string): number | null | undefined {
  // RFC 5626 §4.1: reg-id = 1*DIGIT, value 1..2^31-1
  if (!/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 2 ** 31 - 1 ? n : undefined;
}
