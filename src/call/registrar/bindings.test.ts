import { describe, expect, it } from 'vitest';
import type { Binding } from '../../store/index.js';
import { canonicalAor, processRegister, type ContactFacts, type RegisterFacts } from './bindings.js';

const NOW = 1_700_000_000_000;
const AOR = 'sip:1001@pbx.test';
const LIMITS = { minExpires: 60, maxExpires: 3600, defaultExpires: 1800 };
const SOURCE = { transport: 'udp', sourceAddress: '192.0.2.10', sourcePort: 5062, path: [], received: null, userAgent: 'Phone/1' };

function stored(contact: string, over: Partial<Binding> = {}): Binding {
  return { aor: AOR, contact, expiresAt: NOW + 600_000, q: null, callId: 'call-1', cseq: 10, ...SOURCE, instanceId: null, regId: null, updatedAt: NOW - 1000, ...over };
}

function reg(contacts: (ContactFacts | '*')[], over: Partial<RegisterFacts> = {}): RegisterFacts {
  return { aor: AOR, contacts, callId: 'call-1', cseq: 11, now: NOW, source: SOURCE, ...over };
}

const c = (uri: string, params: Omit<ContactFacts, 'uri'> = {}): ContactFacts => ({ uri, ...params });

describe('processRegister: status table (RFC 3261 §10.3)', () => {
  it.each<[string, Binding[], RegisterFacts, number]>([
    ['new contact', [], reg([c('sip:1001@192.0.2.10:5062')]), 200],
    ['query (no Contact)', [stored('sip:a@h')], reg([]), 200],
    ['* with Expires: 0', [stored('sip:a@h')], reg(['*'], { expires: '0' }), 200],
    ['* without Expires', [stored('sip:a@h')], reg(['*']), 400],
    ['* with Expires: 60', [], reg(['*'], { expires: '60' }), 400],
    ['* with another Contact', [], reg(['*', c('sip:a@h')], { expires: '0' }), 400],
    ['* with same Call-ID, equal CSeq', [stored('sip:a@h')], reg(['*'], { expires: '0', cseq: 10 }), 500],
    ['* with another Call-ID, lower CSeq', [stored('sip:a@h')], reg(['*'], { expires: '0', callId: 'x', cseq: 1 }), 200],
    ['Expires below min', [], reg([c('sip:a@h')], { expires: '30' }), 423],
    ['contact expires below min', [], reg([c('sip:a@h', { expires: '59' })], { expires: '3600' }), 423],
    ['Expires exactly min', [], reg([c('sip:a@h')], { expires: '60' }), 200],
    ['Expires: 0 is never too brief', [stored('sip:a@h')], reg([c('sip:a@h')], { expires: '0' }), 200],
    ['malformed Expires header', [], reg([c('sip:a@h')], { expires: 'soon' }), 400],
    ['negative Expires header', [], reg([c('sip:a@h')], { expires: '-1' }), 400],
    ['same Call-ID, lower CSeq', [stored('sip:a@h')], reg([c('sip:a@h')], { cseq: 9 }), 500],
    ['same Call-ID, equal CSeq', [stored('sip:a@h')], reg([c('sip:a@h')], { cseq: 10 }), 500],
    ['same Call-ID, higher CSeq', [stored('sip:a@h')], reg([c('sip:a@h')], { cseq: 11 }), 200],
    ['other Call-ID, lower CSeq', [stored('sip:a@h')], reg([c('sip:a@h')], { callId: 'call-2', cseq: 1 }), 200],
    ['bad q', [], reg([c('sip:a@h', { q: '1.5' })]), 400],
    ['q with 4 decimals', [], reg([c('sip:a@h', { q: '0.1234' })]), 400],
    ['bad reg-id', [], reg([c('sip:a@h', { regId: '0' })]), 400],
    ['Contact URI with a space', [], reg([c('sip:a@h >;x')]), 400],
    ['Contact not a URI', [], reg([c('nonsense')]), 400],
  ])('%s -> %i', (_name, current, facts, status) => {
    expect(processRegister(current, facts, LIMITS).status).toBe(status);
  });
});

describe('processRegister: bindings', () => {
  it('adds several contacts for one AOR and reports them all with expires', () => {
    const r = processRegister([stored('sip:old@h', { callId: 'other' })], reg([c('sip:a@h', { q: '0.5' }), c('sip:b@h', { expires: '120' })], { expires: '600' }), LIMITS);
    if (r.status !== 200) throw new Error(String(r.status));
    expect(r.bindings.map((b) => b.contact)).toEqual(['sip:a@h', 'sip:b@h', 'sip:old@h']);
    expect(r.contactHeaders).toEqual(['<sip:a@h>;expires=600;q=0.5', '<sip:b@h>;expires=120', '<sip:old@h>;expires=600']);
    expect(r.upsert.map((b) => [b.contact, b.expiresAt, b.callId, b.cseq, b.sourceAddress])).toEqual([
      ['sip:a@h', NOW + 600_000, 'call-1', 11, '192.0.2.10'],
      ['sip:b@h', NOW + 120_000, 'call-1', 11, '192.0.2.10'],
    ]);
    expect(r.remove).toEqual([]);
  });

  it('uses the default expiry when neither header nor parameter says', () => {
    const r = processRegister([], reg([c('sip:a@h')]), LIMITS);
    expect(r.status === 200 && r.upsert[0]!.expiresAt).toBe(NOW + 1_800_000);
  });

  it('treats a malformed contact expires as the default (§20.10)', () => {
    const r = processRegister([], reg([c('sip:a@h', { expires: 'x' })], { expires: '600' }), LIMITS);
    expect(r.status === 200 && r.upsert[0]!.expiresAt).toBe(NOW + 1_800_000);
  });

  it.each([
    ['4000', 3600],
    ['99999999999', 3600], // beyond 2^32-1 is 2^32-1, then clamped
  ])('clamps Expires %s to maxExpires', (expires, seconds) => {
    const r = processRegister([], reg([c('sip:a@h')], { expires }), LIMITS);
    expect(r.status === 200 && r.contactHeaders).toEqual([`<sip:a@h>;expires=${seconds}`]);
  });

  it('the contact parameter wins over the Expires header', () => {
    const r = processRegister([], reg([c('sip:a@h', { expires: '90' })], { expires: '600' }), LIMITS);
    expect(r.status === 200 && r.contactHeaders).toEqual(['<sip:a@h>;expires=90']);
  });

  it('423 carries Min-Expires and changes nothing', () => {
    expect(processRegister([], reg([c('sip:a@h', { expires: '3600' }), c('sip:b@h', { expires: '5' })]), LIMITS)).toEqual({
      status: 423,
      reason: 'Interval Too Brief',
      minExpires: 60,
    });
  });

  it('Expires: 0 removes only the named contact', () => {
    const r = processRegister([stored('sip:a@h'), stored('sip:b@h')], reg([c('sip:a@h')], { expires: '0' }), LIMITS);
    if (r.status !== 200) throw new Error();
    expect(r.remove.map((b) => b.contact)).toEqual(['sip:a@h']);
    expect(r.upsert).toEqual([]);
    expect(r.bindings.map((b) => b.contact)).toEqual(['sip:b@h']);
  });

  it('contact expires=0 removes; unknown contact with expires=0 is a no-op', () => {
    const r = processRegister([stored('sip:a@h')], reg([c('sip:a@h', { expires: '0' }), c('sip:zz@h', { expires: '0' })]), LIMITS);
    expect(r.status === 200 && [r.remove.map((b) => b.contact), r.bindings]).toEqual([['sip:a@h'], []]);
  });

  it('* with Expires: 0 removes every binding', () => {
    const r = processRegister([stored('sip:a@h'), stored('sip:b@h', { callId: 'x', cseq: 99 })], reg(['*'], { expires: '0' }), LIMITS);
    expect(r.status === 200 && [r.remove.length, r.bindings, r.contactHeaders]).toEqual([2, [], []]);
  });

  it('refresh: same contact, higher CSeq replaces in place (an upsert, not a delete)', () => {
    const r = processRegister([stored('sip:a@h')], reg([c('sip:a@h')], { expires: '300' }), LIMITS);
    if (r.status !== 200) throw new Error();
    expect(r.remove).toEqual([]);
    expect(r.upsert).toMatchObject([{ contact: 'sip:a@h', cseq: 11, expiresAt: NOW + 300_000 }]);
  });

  it('matches contacts by RFC 3261 §19.1.4, not by text', () => {
    const r = processRegister([stored('sip:a@H.example;transport=UDP')], reg([c('sip:a@h.example;transport=udp')], { expires: '0' }), LIMITS);
    expect(r.status === 200 && r.bindings).toEqual([]);
    const differentPort = processRegister([stored('sip:a@h')], reg([c('sip:a@h:5060')]), LIMITS);
    expect(differentPort.status === 200 && differentPort.bindings.length).toBe(2);
  });

  it('a re-spelled contact replaces the old row (removed) with the new text', () => {
    const r = processRegister([stored('sip:a@H')], reg([c('sip:a@h')]), LIMITS);
    if (r.status !== 200) throw new Error();
    expect(r.remove.map((b) => b.contact)).toEqual(['sip:a@H']);
    expect(r.upsert.map((b) => b.contact)).toEqual(['sip:a@h']);
  });

  it('RFC 5626: same +sip.instance and reg-id replaces a binding whose URI changed', () => {
    const inst = '"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"';
    const old = stored('sip:1001@192.0.2.10:5062', { instanceId: 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', regId: 1 });
    const r = processRegister([old], reg([c('sip:1001@198.51.100.4:6000', { instance: inst, regId: '1' })]), LIMITS);
    if (r.status !== 200) throw new Error();
    expect(r.bindings.map((b) => [b.contact, b.instanceId, b.regId])).toEqual([
      ['sip:1001@198.51.100.4:6000', 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 1],
    ]);
    expect(r.remove).toEqual([old]);
  });

  it('expired bindings vanish and are reported for removal', () => {
    const r = processRegister([stored('sip:gone@h', { expiresAt: NOW })], reg([]), LIMITS);
    expect(r.status === 200 && [r.bindings, r.remove.map((b) => b.contact)]).toEqual([[], ['sip:gone@h']]);
  });

  it('a contact listed twice in one request: the last one wins, no CSeq conflict', () => {
    const r = processRegister([], reg([c('sip:a@h', { expires: '100' }), c('sip:a@h', { expires: '200' })]), LIMITS);
    expect(r.status === 200 && r.contactHeaders).toEqual(['<sip:a@h>;expires=200']);
  });

  it('one out-of-order contact aborts the whole request', () => {
    const r = processRegister([stored('sip:a@h', { cseq: 50 })], reg([c('sip:new@h'), c('sip:a@h')]), LIMITS);
    expect(r.status).toBe(500);
  });

  it('canonicalAor lower-cases the domain only', () => {
    expect(canonicalAor('Alice', 'PBX.Test')).toBe('sip:Alice@pbx.test');
  });
});
