// INVITE client transaction machine: every (state, input) pair that matters, with the RFC
// section it comes from, then the Timer A/B/D sequences on a ManualClock.
import { describe, expect, it } from 'vitest';
import { Harness, names } from './fsm-harness.js';
import { handle, type IctInput, type IctState } from './ict.js';
import { DEFAULT_TIMERS, makeTimers } from './timers.js';

const U = makeTimers(DEFAULT_TIMERS, false);
const R = makeTimers(DEFAULT_TIMERS, true);
const STOP_AB = ['stopTimer A', 'stopTimer B'];

type Row = [rfc: string, state: IctState, input: IctInput, reliable: boolean, next: IctState, actions: string[]];
const rows: Row[] = [
  ['§17.1.1.2 send INVITE, arm A and B (UDP)', 'calling', { type: 'start' }, false, 'calling', ['sendRequest', 'startTimer A 500', 'startTimer B 32000']],
  ['§17.1.1.2 no Timer A on reliable transports', 'calling', { type: 'start' }, true, 'calling', ['sendRequest', 'startTimer B 32000']],
  ['§17.1.1.2 Timer A retransmits and doubles', 'calling', { type: 'timer', timer: 'A', ms: 1000 }, false, 'calling', ['sendRequest', 'startTimer A 2000']],
  ['§17.1.1.2 Timer B in Calling: timeout', 'calling', { type: 'timer', timer: 'B', ms: 32000 }, false, 'terminated', ['timeout', ...STOP_AB, 'terminate']],
  ['§17.1.1.2 1xx in Calling -> Proceeding, to TU', 'calling', { type: 'response', status: 180 }, false, 'proceeding', [...STOP_AB, 'passToTU']],
  ['§17.1.1.2 100 in Calling -> Proceeding', 'calling', { type: 'response', status: 100 }, false, 'proceeding', [...STOP_AB, 'passToTU']],
  ['RFC 6026 §8.4 2xx in Calling -> Accepted, Timer M', 'calling', { type: 'response', status: 200 }, false, 'accepted', [...STOP_AB, 'passToTU', 'startTimer M 32000']],
  ['§17.1.1.2 3xx-6xx in Calling: ACK, TU, Timer D', 'calling', { type: 'response', status: 486 }, false, 'completed', [...STOP_AB, 'sendAck', 'passToTU', 'startTimer D 32000']],
  ['§17.1.1.2 Timer D is 0 on reliable: terminate at once', 'calling', { type: 'response', status: 603 }, true, 'terminated', [...STOP_AB, 'sendAck', 'passToTU', 'terminate']],
  ['§17.1.4 transport error in Calling', 'calling', { type: 'transportError' }, false, 'terminated', ['transportError', ...STOP_AB, 'terminate']],
  ['§17.1.1.2 1xx in Proceeding to TU', 'proceeding', { type: 'response', status: 183 }, false, 'proceeding', ['passToTU']],
  ['§17.1.1.2 Timer A after Proceeding is ignored', 'proceeding', { type: 'timer', timer: 'A', ms: 500 }, false, 'proceeding', []],
  ['§17.1.1.2 Timer B only applies in Calling', 'proceeding', { type: 'timer', timer: 'B', ms: 32000 }, false, 'proceeding', []],
  ['RFC 6026 §8.4 2xx in Proceeding -> Accepted', 'proceeding', { type: 'response', status: 200 }, false, 'accepted', [...STOP_AB, 'passToTU', 'startTimer M 32000']],
  ['§17.1.1.2 487 in Proceeding: ACK, TU, Timer D', 'proceeding', { type: 'response', status: 487 }, false, 'completed', [...STOP_AB, 'sendAck', 'passToTU', 'startTimer D 32000']],
  ['§9.1 CANCEL without final for 64*T1', 'proceeding', { type: 'cancelTimeout' }, false, 'terminated', ['timeout', 'terminate']],
  ['§17.1.4 transport error in Proceeding', 'proceeding', { type: 'transportError' }, false, 'terminated', ['transportError', 'terminate']],
  ['§17.1.1.2 final retransmission in Completed: ACK again, not to TU', 'completed', { type: 'response', status: 486 }, false, 'completed', ['sendAck']],
  ['§17.1.1.2 1xx in Completed absorbed', 'completed', { type: 'response', status: 180 }, false, 'completed', []],
  ['§17.1.1.2 2xx in Completed absorbed', 'completed', { type: 'response', status: 200 }, false, 'completed', []],
  ['§17.1.1.2 Timer D ends Completed', 'completed', { type: 'timer', timer: 'D', ms: 32000 }, false, 'terminated', ['terminate']],
  ['§17.1.1.2 transport error on ACK in Completed', 'completed', { type: 'transportError' }, false, 'terminated', ['stopTimer D', 'terminate']],
  ['RFC 6026 §8.4 2xx retransmission in Accepted goes to TU', 'accepted', { type: 'response', status: 200 }, false, 'accepted', ['passToTU']],
  ['RFC 6026 §8.4 non-2xx in Accepted discarded', 'accepted', { type: 'response', status: 486 }, false, 'accepted', []],
  ['RFC 6026 §8.4 1xx in Accepted discarded', 'accepted', { type: 'response', status: 180 }, false, 'accepted', []],
  ['RFC 6026 §8.4 Timer M ends Accepted', 'accepted', { type: 'timer', timer: 'M', ms: 32000 }, false, 'terminated', ['terminate']],
  ['RFC 6026 §8.4 cancel timeout after 2xx ignored', 'accepted', { type: 'cancelTimeout' }, false, 'accepted', []],
  ['Terminated absorbs everything', 'terminated', { type: 'response', status: 200 }, false, 'terminated', []],
];

describe('ICT state machine (RFC 3261 §17.1.1, RFC 6026 §8.4)', () => {
  it.each(rows)('%s', (_rfc, state, input, reliable, next, actions) => {
    const out = handle(state, input, reliable ? R : U);
    expect(out.state).toBe(next);
    expect(names(out.actions)).toEqual(actions);
  });
});

describe('ICT timer sequences', () => {
  it('§17.1.1.2: Timer A doubles 500, 1000, 2000 ... until Timer B (64*T1) gives a timeout', () => {
    const h = new Harness(handle, 'calling' as IctState, U);
    h.feed({ type: 'start' });
    h.clock.advance(40_000);
    expect(h.times('sendRequest')).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(h.times('timeout')).toEqual([32000]);
    expect(h.state).toBe('terminated');
    expect(h.clock.pending).toBe(0);
  });

  it('§17.1.1.2: on TCP nothing is retransmitted; Timer B still fires at 64*T1', () => {
    const h = new Harness(handle, 'calling' as IctState, R);
    h.feed({ type: 'start' });
    h.clock.advance(40_000);
    expect(h.times('sendRequest')).toEqual([0]);
    expect(h.times('timeout')).toEqual([32000]);
  });

  it('§17.1.1.2: a provisional stops retransmission and Timer B', () => {
    const h = new Harness(handle, 'calling' as IctState, U);
    h.feed({ type: 'start' });
    h.clock.advance(600);
    h.feed({ type: 'response', status: 180 });
    h.clock.advance(100_000);
    expect(h.times('sendRequest')).toEqual([0, 500]);
    expect(h.times('timeout')).toEqual([]);
    expect(h.state).toBe('proceeding');
  });

  it('§17.1.1.2: Timer D is 32 s on UDP and ends Completed', () => {
    const h = new Harness(handle, 'calling' as IctState, U);
    h.feed({ type: 'start' });
    h.feed({ type: 'response', status: 486 });
    h.clock.advance(31_999);
    expect(h.state).toBe('completed');
    h.clock.advance(1);
    expect(h.state).toBe('terminated');
  });

  it('RFC 6026 §8.4: Timer M (64*T1) ends Accepted', () => {
    const h = new Harness(handle, 'calling' as IctState, R);
    h.feed({ type: 'start' });
    h.feed({ type: 'response', status: 200 });
    h.clock.advance(31_999);
    expect(h.state).toBe('accepted');
    h.clock.advance(1);
    expect(h.state).toBe('terminated');
  });
});
