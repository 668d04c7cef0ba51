// INVITE server transaction machine: every (state, input) pair that matters, with the RFC
// section it comes from, then the Timer G/H/I/L sequences on a ManualClock.
import { describe, expect, it } from 'vitest';
import { Harness, names } from './fsm-harness.js';
import { handle, type IstInput, type IstState } from './ist.js';
import { DEFAULT_TIMERS, makeTimers } from './timers.js';

const U = makeTimers(DEFAULT_TIMERS, false);
const R = makeTimers(DEFAULT_TIMERS, true);
const STOP_GH = ['stopTimer G', 'stopTimer H'];

type Row = [rfc: string, state: IstState, input: IstInput, reliable: boolean, next: IstState, actions: string[]];
const rows: Row[] = [
  ['§17.2.1 new INVITE: 100 Trying at once, then the TU', 'proceeding', { type: 'start' }, false, 'proceeding', ['sendTrying', 'passToTU']],
  ['§17.2.1 retransmitted INVITE in Proceeding: resend last provisional', 'proceeding', { type: 'request' }, false, 'proceeding', ['resendResponse']],
  ['§17.2.1 TU provisional sent', 'proceeding', { type: 'respond', status: 180 }, false, 'proceeding', ['sendResponse']],
  ['RFC 6026 §8.7 TU 2xx -> Accepted, Timer L', 'proceeding', { type: 'respond', status: 200 }, false, 'accepted', ['sendResponse', 'startTimer L 32000']],
  ['§17.2.1 TU 3xx-6xx -> Completed, G and H (UDP)', 'proceeding', { type: 'respond', status: 486 }, false, 'completed', ['sendResponse', 'startTimer G 500', 'startTimer H 32000']],
  ['§17.2.1 no Timer G on reliable transports', 'proceeding', { type: 'respond', status: 487 }, true, 'completed', ['sendResponse', 'startTimer H 32000']],
  ['§17.2.4 transport error in Proceeding', 'proceeding', { type: 'transportError' }, false, 'terminated', ['transportError', 'terminate']],
  ['§17.2.1 stray ACK in Proceeding ignored', 'proceeding', { type: 'ack' }, false, 'proceeding', []],
  ['§17.2.1 Timer G retransmits, doubles', 'completed', { type: 'timer', timer: 'G', ms: 1000 }, false, 'completed', ['resendResponse', 'startTimer G 2000']],
  ['§17.2.1 Timer G capped at T2', 'completed', { type: 'timer', timer: 'G', ms: 4000 }, false, 'completed', ['resendResponse', 'startTimer G 4000']],
  ['§17.2.1 Timer H: no ACK, timeout', 'completed', { type: 'timer', timer: 'H', ms: 32000 }, false, 'terminated', ['timeout', ...STOP_GH, 'terminate']],
  ['§17.2.1 retransmitted INVITE in Completed: resend final', 'completed', { type: 'request' }, false, 'completed', ['resendResponse']],
  ['§17.2.1 ACK -> Confirmed, Timer I = T4 (UDP)', 'completed', { type: 'ack' }, false, 'confirmed', [...STOP_GH, 'ackReceived', 'startTimer I 5000']],
  ['§17.2.1 Timer I is 0 on reliable', 'completed', { type: 'ack' }, true, 'terminated', [...STOP_GH, 'ackReceived', 'terminate']],
  ['§17.2.1 TU response after the final discarded', 'completed', { type: 'respond', status: 200 }, false, 'completed', []],
  ['§17.2.4 transport error in Completed', 'completed', { type: 'transportError' }, false, 'terminated', ['transportError', ...STOP_GH, 'terminate']],
  ['§17.2.1 ACK retransmission in Confirmed absorbed', 'confirmed', { type: 'ack' }, false, 'confirmed', []],
  ['§17.2.1 INVITE in Confirmed absorbed', 'confirmed', { type: 'request' }, false, 'confirmed', []],
  ['§17.2.1 Timer G in Confirmed ignored', 'confirmed', { type: 'timer', timer: 'G', ms: 500 }, false, 'confirmed', []],
  ['§17.2.1 Timer I ends Confirmed', 'confirmed', { type: 'timer', timer: 'I', ms: 5000 }, false, 'terminated', ['terminate']],
  ['RFC 6026 §8.7 INVITE retransmission in Accepted absorbed, not to TU', 'accepted', { type: 'request' }, false, 'accepted', []],
  ['RFC 6026 §8.7 ACK in Accepted passed to TU', 'accepted', { type: 'ack' }, false, 'accepted', ['passToTU']],
  ['RFC 6026 §8.7 TU 2xx retransmission sent', 'accepted', { type: 'respond', status: 200 }, false, 'accepted', ['sendResponse']],
  ['RFC 6026 §8.7 TU non-2xx in Accepted discarded', 'accepted', { type: 'respond', status: 486 }, false, 'accepted', []],
  ['RFC 6026 §8.7 Timer L ends Accepted', 'accepted', { type: 'timer', timer: 'L', ms: 32000 }, false, 'terminated', ['terminate']],
  ['RFC 6026 §8.7 transport error in Accepted: tell TU, keep absorbing', 'accepted', { type: 'transportError' }, false, 'accepted', ['transportError']],
  ['Terminated absorbs everything', 'terminated', { type: 'request' }, false, 'terminated', []],
];

describe('IST state machine (RFC 3261 §17.2.1, RFC 6026 §8.7)', () => {
  it.each(rows)('%s', (_rfc, state, input, reliable, next, actions) => {
    const out = handle(state, input, reliable ? R : U);
    expect(out.state).toBe(next);
    expect(names(out.actions)).toEqual(actions);
  });
});

describe('IST timer sequences', () => {
  it('§17.2.1: Timer G 500, 1000, 2000, capped at T2, until Timer H at 64*T1', () => {
    const h = new Harness(handle, 'proceeding' as IstState, U);
    h.feed({ type: 'respond', status: 486 });
    h.clock.advance(40_000);
    expect(h.times('sendResponse')).toEqual([0]);
    expect(h.times('resendResponse')).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(h.times('timeout')).toEqual([32000]);
    expect(h.clock.pending).toBe(0);
  });

  it('§17.2.1: the ACK stops G and H; Timer I (T4) ends Confirmed', () => {
    const h = new Harness(handle, 'proceeding' as IstState, U);
    h.feed({ type: 'respond', status: 486 });
    h.clock.advance(1000);
    h.feed({ type: 'ack' });
    h.clock.advance(4_999);
    expect(h.state).toBe('confirmed');
    expect(h.times('resendResponse')).toEqual([500]);
    h.clock.advance(1);
    expect(h.state).toBe('terminated');
    expect(h.clock.pending).toBe(0);
  });

  it('§17.2.1: on TCP the final is sent once and Timer H still runs', () => {
    const h = new Harness(handle, 'proceeding' as IstState, R);
    h.feed({ type: 'respond', status: 486 });
    h.clock.advance(40_000);
    expect(h.times('resendResponse')).toEqual([]);
    expect(h.times('timeout')).toEqual([32000]);
  });
});
