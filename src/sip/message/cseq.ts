// CSeq (RFC 3261 §20.16): 1*DIGIT LWS Method, sequence number below 2^31 (§8.1.1.5).
import { SipError } from '../../lib/errors.js';
import { isTokenRange, skipWs, skipWsBack } from './chars.js';

export interface CSeq {
  seq: number;
  method: string;
}

export const MAX_CSEQ = 0x7fffffff;

export function parseCSeq(s: string): CSeq {
  const end = skipWsBack(s, 0, s.length);
  let i = skipWs(s, 0, end);
  const ds = i;
  let seq = 0;
  while (i < end) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    seq = seq * 10 + c;
    i++;
  }
  if (i === ds || seq > MAX_CSEQ) throw new SipError(400, 'Bad Request - Malformed CSeq');
  const ms = skipWs(s, i, end);
  if (ms === i || !isTokenRange(s, ms, end)) throw new SipError(400, 'Bad Request - Malformed CSeq');
  return { seq, method: s.slice(ms, end) };
}

export function formatCSeq(c: CSeq): string {
  return `${c.seq} ${c.method}`;
}
