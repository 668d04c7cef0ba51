// Public types of the transaction layer (RFC 3261 §17): what it needs from the transport,
// its options, the typed events of the layer and of each transaction.

import type { EventEmitter } from 'node:events';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { SipRequest, SipResponse } from '../message/index.js';
import type { Destination, Endpoint, Inbound } from '../transport/types.js';
import type { TimerConfig } from './timers.js';

export type { Destination, Endpoint, Inbound, TimerConfig };

/** What the layer needs from src/sip/transport's TransportLayer. */
export interface TransactionTransport {
  sendRequest(req: SipRequest, dest: Destination): Promise<void>;
  sendResponse(res: SipResponse, via: { connectionId?: string; source: Endpoint }): Promise<void>;
}

export interface TransactionLayerOptions {
  /** T1/T2/T4 in ms; RFC 3261 defaults (500/4000/5000) when absent. */
  timers?: TimerConfig;
  clock?: Clock;
  logger?: Logger;
}

export interface TransactionLayerEvents {
  /** A new request, after the §8.2 / §16.3 checks; an INVITE has already been answered 100 Trying. */
  request: [st: ServerTransaction];
  /** An ACK that matched no INVITE server transaction in Completed/Confirmed (ACK for a 2xx). */
  ack: [inbound: Inbound];
  /** A response that matched no client transaction (e.g. a 2xx retransmission after the ICT ended). */
  response: [inbound: Inbound];
  /** A CANCEL matched an INVITE server transaction in Proceeding; 200 and 487 are already sent. */
  cancel: [st: ServerTransaction, cancel: Inbound];
}

export type ServerTransactionState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';
export type ClientTransactionState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

export interface ServerTransactionEvents {
  /** A CANCEL for this INVITE arrived (the layer already answered it and sent 487 if still Proceeding). */
  cancelled: [cancel: Inbound];
  /** The ACK for our non-2xx final arrived (absorbed, never a TU request). */
  ack: [inbound: Inbound];
  /** Timer H: the ACK for our non-2xx final never came. */
  timeout: [];
  /** A response could not be sent. */
  'transport-error': [err: Error];
  terminated: [];
}

export interface ClientTransactionEvents {
  /** Every provisional and final (and 2xx retransmissions while the ICT is 'accepted'). */
  response: [res: SipResponse, inbound: Inbound];
  /** Timer B/F (or §9.1 CANCEL without final): `res` is a locally made 408 for the TU. */
  timeout: [res: SipResponse];
  /** The request could not be sent: `res` is a locally made 503 for the TU. */
  'transport-error': [res: SipResponse, err: Error];
  terminated: [];
}

export interface ServerTransaction extends EventEmitter<ServerTransactionEvents> {
  /** UUID, stable for the transaction's life; `TransactionLayer.serverTransaction(id)` finds it. */
  readonly id: string;
  readonly method: string;
  readonly request: SipRequest;
  readonly inbound: Inbound;
  readonly state: ServerTransactionState;
  /** Provisional or final. A 2xx to an INVITE moves it to 'accepted' (RFC 6026); later 2xx
   *  (retransmissions by the UAS core) are sent while 'accepted'. Ignored once a final is sent
   *  otherwise. Never throws for state reasons. */
  respond(res: SipResponse): void;
}

export interface ClientTransaction extends EventEmitter<ClientTransactionEvents> {
  readonly id: string;
  readonly method: string;
  readonly request: SipRequest;
  /** Where the request went (and where its CANCEL and non-2xx ACK go), flow pin included. */
  readonly dest: Destination;
  readonly state: ClientTransactionState;
  /** RFC 3261 §9.1, INVITE only: sends a CANCEL once a provisional has arrived (deferred until
   *  then; dropped if a final arrives first). `reason` is a Reason header value (RFC 3326),
   *  e.g. `SIP;cause=200;text="Call completed elsewhere"`. Idempotent. */
  cancel(reason?: string): void;
}
