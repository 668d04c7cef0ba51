// INVITE client transaction state machine — RFC 3261 §17.1.1 (Figure 5) as updated by
// RFC 6026 §8.4 (the 'accepted' state, so 2xx retransmissions reach the TU).
// Pure: `handle(state, input, timers)` returns the next state and the actions to execute.

import type { Timers } from './timers.js';
import type { Action, TimerInput, Transition, TransportErrorInput } from './fsm.js';
import { isFailure, isProvisional, isSuccess } from './fsm.js';

export type IctState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

export type IctInput =
  | { type: 'start' }
  | { type: 'response'; status: number }
  /** RFC 3261 §9.1: a CANCEL was sent and no final response came within 64*T1. */
  | { type: 'cancelTimeout' }
  | TimerInput
  | TransportErrorInput;

const stay = (state: IctState): Transition<IctState> => ({ state, actions: [] });

const TERMINATE: Action[] = [{ type: 'stopTimer', timer: 'A' }, { type: 'stopTimer', timer: 'B' }, { type: 'terminate' }];

/** Leaving Calling for good: no more retransmissions, no more Timer B. */
const STOP_CALLING: Action[] = [
  { type: 'stopTimer', timer: 'A' },
  { type: 'stopTimer', timer: 'B' },
];

function onFinal(status: number, t: Timers): Transition<IctState> {
  if (isSuccess(status)) {
    // RFC 6026 §8.4: a 2xx moves the transaction to Accepted and is passed to the TU; Timer M
    // keeps it alive so 2xx retransmissions (other forks) also reach the TU.
    return {
      state: 'accepted',
      actions: [...STOP_CALLING, { type: 'passToTU' }, { type: 'startTimer', timer: 'M', ms: t.M }],
    };
  }
  // RFC 3261 §17.1.1.2: a 300-699 response is ACKed by the transaction, passed to the TU,
  // and Timer D (>= 32 s unreliable, 0 reliable) absorbs its retransmissions.
  const actions: Action[] = [...STOP_CALLING, { type: 'sendAck' }, { type: 'passToTU' }];
  if (t.D === 0) return { state: 'terminated', actions: [...actions, { type: 'terminate' }] };
  return { state: 'completed', actions: [...actions, { type: 'startTimer', timer: 'D', ms: t.D }] };
}

export function handle(state: IctState, input: IctInput, t: Timers): Transition<IctState> {
  switch (state) {
    case 'calling':
      switch (input.type) {
        case 'start': {
          // RFC 3261 §17.1.1.2: send the INVITE; Timer A (T1) only on unreliable transports;
          // Timer B (64*T1) always.
          const actions: Action[] = [{ type: 'sendRequest' }];
          if (t.A !== null) actions.push({ type: 'startTimer', timer: 'A', ms: t.A });
          actions.push({ type: 'startTimer', timer: 'B', ms: t.B });
          return { state, actions };
        }
        case 'timer':
          if (input.timer === 'A') {
            // RFC 3261 §17.1.1.2: Timer A fired: retransmit and reset A to twice its value.
            return {
              state,
              actions: [{ type: 'sendRequest' }, { type: 'startTimer', timer: 'A', ms: t.nextA(input.ms) }],
            };
          }
          if (input.timer === 'B') {
            // RFC 3261 §17.1.1.2: Timer B fired in Calling: tell the TU (timeout) and terminate.
            return { state: 'terminated', actions: [{ type: 'timeout' }, ...TERMINATE] };
          }
          return stay(state);
        case 'response':
          if (isProvisional(input.status)) {
            // RFC 3261 §17.1.1.2: a provisional moves Calling to Proceeding, stops
            // retransmission, and goes to the TU.
            return { state: 'proceeding', actions: [...STOP_CALLING, { type: 'passToTU' }] };
          }
          if (isSuccess(input.status) || isFailure(input.status)) return onFinal(input.status, t);
          return stay(state);
        case 'transportError':
          // RFC 3261 §17.1.4: transport failure: inform the TU (503) and terminate.
          return { state: 'terminated', actions: [{ type: 'transportError' }, ...TERMINATE] };
        case 'cancelTimeout':
          return stay(state);
      }
      break;

    case 'proceeding':
      switch (input.type) {
        case 'response':
          if (isProvisional(input.status)) {
            // RFC 3261 §17.1.1.2: further provisionals in Proceeding go to the TU.
            return { state, actions: [{ type: 'passToTU' }] };
          }
          if (isSuccess(input.status) || isFailure(input.status)) return onFinal(input.status, t);
          return stay(state);
        case 'transportError':
          // RFC 3261 §17.1.4: transport failure: inform the TU (503) and terminate.
          return { state: 'terminated', actions: [{ type: 'transportError' }, { type: 'terminate' }] };
        case 'cancelTimeout':
          // RFC 3261 §9.1: no final response 64*T1 after our CANCEL: consider the INVITE
          // cancelled and destroy the client transaction.
          return { state: 'terminated', actions: [{ type: 'timeout' }, { type: 'terminate' }] };
        case 'start':
        case 'timer':
          return stay(state);
      }
      break;

    case 'completed':
      switch (input.type) {
        case 'response':
          if (isFailure(input.status)) {
            // RFC 3261 §17.1.1.2: a retransmitted final in Completed is ACKed again and not
            // passed to the TU.
            return { state, actions: [{ type: 'sendAck' }] };
          }
          return stay(state);
        case 'timer':
          if (input.timer === 'D') {
            // RFC 3261 §17.1.1.2: Timer D fired in Completed: terminate.
            return { state: 'terminated', actions: [{ type: 'terminate' }] };
          }
          return stay(state);
        case 'transportError':
          // RFC 3261 §17.1.1.2: a transport failure sending the ACK ends the transaction; the TU
          // already has the final response.
          return { state: 'terminated', actions: [{ type: 'stopTimer', timer: 'D' }, { type: 'terminate' }] };
        case 'start':
        case 'cancelTimeout':
          return stay(state);
      }
      break;

    case 'accepted':
      switch (input.type) {
        case 'response':
          if (isSuccess(input.status)) {
            // RFC 6026 §8.4: a 2xx in Accepted (retransmission or another fork) goes to the TU,
            // which ACKs it itself.
            return { state, actions: [{ type: 'passToTU' }] };
          }
          // RFC 6026 §8.4: any other response in Accepted is discarded.
          return stay(state);
        case 'timer':
          if (input.timer === 'M') {
            // RFC 6026 §8.4: Timer M fired: terminate.
            return { state: 'terminated', actions: [{ type: 'terminate' }] };
          }
          return stay(state);
        case 'start':
        case 'cancelTimeout':
        case 'transportError':
          // Nothing is sent by the transaction in Accepted; the TU sends the 2xx ACK.
          return stay(state);
      }
      break;

    case 'terminated':
      return stay(state);
  }
  return stay(state);
}
