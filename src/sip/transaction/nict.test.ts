// Non-INVITE client transaction machine: every (state, input) pair that matters, with the RFC
// section it comes from, then the Timer E/F/K sequences on a ManualClock.
import { describe, expect, it } from 'vitest';
import { Harness, names } from './fsm-harness.js';
import { handle, type NictInput, type NictState } from './nict.js';
import { DEFAULT_TIMERS, makeTimers } from './timers.js';

const U = makeTimers(DEFAULT_TIMERS, false);
const R = makeTimers(DEFAULT_TIMERS, true);
const STOP_EF = ['stopTimer E', 'stopTimer F'];

type Row = [rfc: string, state: NictState, input: NictInput, reliable: boolean, next: NictState, actions: string[]];
const rows: Row[] = [
  ['§17.1.2.2 send, arm E and F (UDP)', 'trying', { type: 'start' }, false, 'trying', ['sendRequest', 'startTimer E 500', 'startTimer F 32000']],
  ['§17.1.2.2 no Timer E on reliable transports', 'trying', { type: 'start' }, true, 'trying', ['sendRequest', 'startTimer F 32000']],
  ['§17.1.2.2 Timer E in Trying doubles', 'trying', { type: 'timer', timer: 'E', ms: 1000 }, false, 'trying', ['sendRequest', 'startTimer E 2000']],
  ['§17.1.2.2 Timer E in Trying capped at T2', 'trying', { type: 'timer', timer: 'E', ms: 4000 }, false, 'trying', ['sendRequest', 'startTimer E 4000']],
  ['§17.1.2.2 Timer F in Trying: timeout', 'trying', { type: 'timer', timer: 'F', ms: 32000 }, false, 'terminated', ['timeout', ...STOP_EF, 'terminate']],
  ['§17.1.2.2 1xx in Trying -> Proceeding, to TU', 'trying', { type: 'response', status: 100 }, false, 'proceeding', ['passToTU']],
  ['§17.1.2.2 final in Trying: to TU, Timer K', 'trying', { type: 'response', status: 200 }, false, 'completed', [...STOP_EF, 'passToTU', 'startTimer K 5000']],
  ['§17.1.2.2 Timer K is 0 on reliable', 'trying', { type: 'response', status: 404 }, true, 'terminated', [...STOP_EF, 'passToTU', 'terminate']],
  ['§17.1.4 transport error in Trying', 'trying', { type: 'transportError' }, false, 'terminated', ['transportError', ...STOP_EF, 'terminate']],
  ['§17.1.2.2 Timer E in Proceeding resets to T2', 'proceeding', { type: 'timer', timer: 'E', ms: 500 }, false, 'proceeding', ['sendRequest', 'startTimer E 4000']],
  ['§17.1.2.2 Timer F in Proceeding: timeout', 'proceeding', { type: 'timer', timer: 'F', ms: 32000 }, false, 'terminated', ['timeout', ...STOP_EF, 'terminate']],
  ['§17.1.2.2 1xx in Proceeding to TU', 'proceeding', { type: 'response', status: 180 }, false, 'proceeding', ['passToTU']],
  ['§17.1.2.2 final in Proceeding', 'proceeding', { type: 'response', status: 500 }, false, 'completed', [...STOP_EF, 'passToTU', 'startTimer K 5000']],
  ['§17.1.4 transport error in Proceeding', 'proceeding', { type: 'transportError' }, false, 'terminated', ['transportError', ...STOP_EF, 'terminate']],
  ['§17.1.2.2 retransmitted final in Completed absorbed', 'completed', { type: 'response', status: 200 }, false, 'completed', []],
  ['§17.1.2.2 Timer E after Completed ignored', 'completed', { type: 'timer', timer: 'E', ms: 500 }, false, 'completed', []],
  ['§17.1.2.2 Timer K ends Completed', 'completed', { type: 'timer', timer: 'K', ms: 5000 }, false, 'terminated', ['terminate']],
  ['Terminated absorbs everything', 'terminated', { type: 'response', status: 200 }, false, 'terminated', []],
];

describe('NICT state machine (RFC 3261 §17.1.2)', () => {
  it.each(rows)('%s', (_rfc, state, input, reliable, next, actions) => {
    const out = handle(state, input, reliable ? R : U);
    expect(out.state).toBe(next);
    expect(names(out.actions)).toEqual(actions);
  });
});

describe('NICT timer sequences', () => {
  it('§17.1.2.2: Timer E 500, 1000, 2000, then capped at T2=4000 until Timer F at 64*T1', () => {
    const h = new Harness(handle, 'trying' as NictState, U);
    h.feed({ type: 'start' });
    h.clock.advance(40_000);
    expect(h.times('sendRequest')).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(h.times('timeout')).toEqual([32000]);
    expect(h.clock.pending).toBe(0);
  });

  it('§17.1.2.2: after a provisional Timer E fires every T2', () => {
    const h = new Harness(handle, 'trying' as NictState, U);
    h.feed({ type: 'start' });
    h.feed({ type: 'response', status: 100 });
    h.clock.advance(12_000);
    expect(h.times('sendRequest')).toEqual([0, 500, 4500, 8500]);
  });

  it('§17.1.2.2: Timer K is T4 on UDP', () => {
    const h = new Harness(handle, 'trying' as NictState, U);
    h.feed({ type: 'start' });
    h.feed({ type: 'response', status: 200 });
    h.clock.advance(4_999);
    expect(h.state).toBe('completed');
    h.clock.advance(1);
    expect(h.state).toBe('terminated');
    expect(h.clock.pending).toBe(0);
  });
});
