// Non-INVITE server transaction machine: every (state, input) pair that matters, with the RFC
// section it comes from, then Timer J on a ManualClock.
import { describe, expect, it } from 'vitest';
import { Harness, names } from './fsm-harness.js';
import { handle, type NistInput, type NistState } from './nist.js';
import { DEFAULT_TIMERS, makeTimers } from './timers.js';

const U = makeTimers(DEFAULT_TIMERS, false);
const R = makeTimers(DEFAULT_TIMERS, true);

type Row = [rfc: string, state: NistState, input: NistInput, reliable: boolean, next: NistState, actions: string[]];
const rows: Row[] = [
  ['§17.2.2 new request to the TU', 'trying', { type: 'start' }, false, 'trying', ['passToTU']],
  ['§17.2.2 retransmission in Trying discarded', 'trying', { type: 'request' }, false, 'trying', []],
  ['§17.2.2 TU provisional -> Proceeding', 'trying', { type: 'respond', status: 100 }, false, 'proceeding', ['sendResponse']],
  ['§17.2.2 TU final -> Completed, Timer J = 64*T1 (UDP)', 'trying', { type: 'respond', status: 200 }, false, 'completed', ['sendResponse', 'startTimer J 32000']],
  ['§17.2.2 Timer J is 0 on reliable', 'trying', { type: 'respond', status: 404 }, true, 'terminated', ['sendResponse', 'terminate']],
  ['§17.2.2 retransmission in Proceeding: resend provisional', 'proceeding', { type: 'request' }, false, 'proceeding', ['resendResponse']],
  ['§17.2.2 further provisional sent', 'proceeding', { type: 'respond', status: 183 }, false, 'proceeding', ['sendResponse']],
  ['§17.2.2 final in Proceeding', 'proceeding', { type: 'respond', status: 500 }, false, 'completed', ['sendResponse', 'startTimer J 32000']],
  ['§17.2.4 transport error in Proceeding', 'proceeding', { type: 'transportError' }, false, 'terminated', ['transportError', 'terminate']],
  ['§17.2.2 retransmission in Completed: resend final', 'completed', { type: 'request' }, false, 'completed', ['resendResponse']],
  ['§17.2.2 further finals in Completed discarded', 'completed', { type: 'respond', status: 200 }, false, 'completed', []],
  ['§17.2.2 Timer J ends Completed', 'completed', { type: 'timer', timer: 'J', ms: 32000 }, false, 'terminated', ['terminate']],
  ['§17.2.4 transport error in Completed', 'completed', { type: 'transportError' }, false, 'terminated', ['transportError', 'stopTimer J', 'terminate']],
  ['Terminated absorbs everything', 'terminated', { type: 'request' }, false, 'terminated', []],
];

describe('NIST state machine (RFC 3261 §17.2.2)', () => {
  it.each(rows)('%s', (_rfc, state, input, reliable, next, actions) => {
    const out = handle(state, input, reliable ? R : U);
    expect(out.state).toBe(next);
    expect(names(out.actions)).toEqual(actions);
  });
});

describe('NIST timers', () => {
  it('§17.2.2: Timer J (64*T1 on UDP) ends Completed', () => {
    const h = new Harness(handle, 'trying' as NistState, U);
    h.feed({ type: 'start' });
    h.feed({ type: 'respond', status: 200 });
    h.clock.advance(31_999);
    expect(h.state).toBe('completed');
    h.clock.advance(1);
    expect(h.state).toBe('terminated');
  });
});
