// Non-INVITE client transaction state machine — RFC 3261 §17.1.2 (Figure 6).
// Pure: `handle(state, input, timers)` returns the next state and the actions to execute.

import type { Timers } from './timers.js';
import type { Action, TimerInput, Transition, TransportErrorInput } from './fsm.js';
import { isProvisional } from './fsm.js';

export type NictState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export type NictInput = { type: 'start' } | { type: 'response'; status: number } | TimerInput | TransportErrorInput;

const stay = (state: NictState): Transition<NictState> => ({ state, actions: [] });

const STOP_EF: Action[] = [
  { type: 'stopTimer', timer: 'E' },
  { type: 'stopTimer', timer: 'F' },
];

function onResponse(state: NictState, status: number, t: Timers): Transition<NictState> {
  if (isProvisional(status)) {
    // RFC 3261 §17.1.2.2: a provisional moves Trying to Proceeding and goes to the TU
    // (Timer E keeps running; from now on it fires every T2).
    return { state: 'proceeding', actions: [{ type: 'passToTU' }] };
  }
  if (status >= 200 && status < 700) {
    // RFC 3261 §17.1.2.2: a final (200-699) goes to the TU; Completed absorbs retransmissions
    // for Timer K (T4 unreliable, 0 reliable).
    const actions: Action[] = [...STOP_EF, { type: 'passToTU' }];
    if (t.K === 0) return { state: 'terminated', actions: [...actions, { type: 'terminate' }] };
    return { state: 'completed', actions: [...actions, { type: 'startTimer', timer: 'K', ms: t.K }] };
  }
  return stay(state);
}

export function handle(state: NictState, input: NictInput, t: Timers): Transition<NictState> {
  switch (state) {
    case 'trying':
    case 'proceeding':
      switch (input.type) {
        case 'start': {
          if (state !== 'trying') return stay(state);
          // RFC 3261 §17.1.2.2: send the request; Timer E (T1) only on unreliable transports;
          // Timer F (64*T1) always.
          const actions: Action[] = [{ type: 'sendRequest' }];
          if (t.E !== null) actions.push({ type: 'startTimer', timer: 'E', ms: t.E });
          actions.push({ type: 'startTimer', timer: 'F', ms: t.F });
          return { state, actions };
        }
        case 'timer':
          if (input.timer === 'E') {
            // RFC 3261 §17.1.2.2: Timer E fired: retransmit; in Trying reset E to
            // min(2*E, T2), in Proceeding to T2.
            const ms = state === 'trying' ? t.nextE(input.ms) : t.t2;
            return { state, actions: [{ type: 'sendRequest' }, { type: 'startTimer', timer: 'E', ms }] };
          }
          if (input.timer === 'F') {
            // RFC 3261 §17.1.2.2: Timer F fired in Trying/Proceeding: tell the TU (timeout)
            // and terminate.
            return { state: 'terminated', actions: [{ type: 'timeout' }, ...STOP_EF, { type: 'terminate' }] };
          }
          return stay(state);
        case 'response':
          return onResponse(state, input.status, t);
        case 'transportError':
          // RFC 3261 §17.1.4: transport failure: inform the TU (503) and terminate.
          return { state: 'terminated', actions: [{ type: 'transportError' }, ...STOP_EF, { type: 'terminate' }] };
      }
      break;

    case 'completed':
      switch (input.type) {
        case 'timer':
          if (input.timer === 'K') {
            // RFC 3261 §17.1.2.2: Timer K fired in Completed: terminate.
            return { state: 'terminated', actions: [{ type: 'terminate' }] };
          }
          return stay(state);
        case 'response':
          // RFC 3261 §17.1.2.2: retransmitted responses in Completed are absorbed.
          return stay(state);
        case 'start':
        case 'transportError':
          return stay(state);
      }
      break;

    case 'terminated':
      return stay(state);
  }
  return stay(state);
}
