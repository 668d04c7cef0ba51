// Public types of the dialog layer (RFC 3261 §12–§15): dialogs, requests we answer, requests we
// send. The call layer and the drachtio wire server code against these interfaces only; the
// classes behind them (dialog.ts, uas.ts, uac.ts) are internal. Transactions and dialogs are
// addressable by string: `IncomingRequest.id` / `ClientRequest.id` are transaction ids,
// `Dialog.id` is the drachtio-style `<Call-ID>;from-tag=<From tag>`.
import type { SipRequest, SipResponse, TransportName } from '../message/index.js';
import type { Endpoint, Inbound } from '../transport/index.js';
import type { DialogFlow } from './next-hop.js';
import type { DialogKey } from './rules.js';

export type { DialogKey };

/** Subscription surface of every event source of the stack (listeners' exceptions are contained). */
export interface Events<E extends { [K in keyof E]: unknown[] }> {
  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this;
  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this;
  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this;
}

export type DialogState = 'early' | 'confirmed' | 'terminated';
export type DialogRole = 'uac' | 'uas';

/** Why a dialog ended. */
export type DialogEndReason =
  /** The peer sent BYE (we answered 200). */
  | 'bye-received'
  /** We sent BYE (whatever its response). */
  | 'bye-sent'
  /** RFC 3261 §13.3.1.4: our 2xx was never ACKed; we sent BYE. */
  | 'ack-timeout'
  /** An early dialog ended by a non-2xx final response to its INVITE. */
  | 'rejected'
  /** An early dialog ended by CANCEL (UAS) or our cancel() (UAC). */
  | 'cancelled'
  /** The INVITE transaction timed out, or an early dialog's INVITE completed without it. */
  | 'timeout'
  /** RFC 3261 §13.2.2.4: another fork answered first; this one got ACK + BYE. */
  | 'fork'
  /** RFC 3261 §12.2.1.2: a request in the dialog got 481 or 408. */
  | 'remote-gone'
  /** The application called terminate(). */
  | 'local'
  /** The stack was closed. */
  | 'closed';

export interface AckInfo {
  /** Transaction id of the INVITE this ACK acknowledges (drachtio hands the ACK over with it). */
  inviteId: string;
  inbound: Inbound;
}

export interface DialogEvents {
  /** A request inside the dialog other than ACK and BYE: answer it with `req.respond()`. With no
   *  listener the stack answers itself (OPTIONS 200, INVITE/UPDATE 488, others 501). */
  request: [req: IncomingRequest];
  /** The ACK for a 2xx we sent (initial INVITE or re-INVITE). */
  ack: [ack: SipRequest, info: AckInfo];
  /** The peer hangs up. The dialog is already terminated; the stack answers 200 after the
   *  listeners ran unless one of them answered or called `req.defer()`. */
  bye: [req: IncomingRequest];
  /** early -> confirmed (a 2xx). */
  confirmed: [];
  /** A target refresh changed the remote target. */
  'target-refresh': [remoteTarget: string];
  /** RFC 3261 §13.3.1.4: no ACK for our 2xx after 64*T1; a BYE follows. */
  'ack-timeout': [];
  terminated: [reason: DialogEndReason];
}

/** A JSON-safe snapshot of a dialog, for the API and dumps. */
export interface DialogInfo {
  id: string;
  key: DialogKey;
  role: DialogRole;
  state: DialogState;
  local: string;
  remote: string;
  remoteTarget: string;
  localContact: string;
  routeSet: string[];
  localSeq: number;
  remoteSeq: number | undefined;
  transport: TransportName;
  /** The flow the dialog was established over, when connection-oriented (RFC 5626 §5.3). */
  flow?: DialogFlow;
}

export interface BodyOptions {
  body?: Buffer | string;
  /** Content-Type for a non-empty body (default application/sdp). */
  contentType?: string;
}

export interface RequestOptions extends BodyOptions {
  /** Extra headers, appended in order. */
  headers?: readonly (readonly [string, string])[];
}

export interface InviteOptions extends RequestOptions {
  /** Send the ACK for a 2xx automatically (default true). With false, call `dialog.ack()`;
   *  2xx retransmissions are answered with that ACK once it is sent. */
  autoAck?: boolean;
}

export interface SendOptions extends InviteOptions {
  /** Skip RFC 3263 and send to this endpoint. */
  dest?: Endpoint;
}

export interface RespondOptions extends RequestOptions {
  reason?: string;
}

export interface Dialog extends Events<DialogEvents> {
  /** drachtio-style `<Call-ID>;from-tag=<tag in From>`: remote tag for UAS, ours for UAC. */
  readonly id: string;
  readonly key: DialogKey;
  readonly role: DialogRole;
  readonly state: DialogState;
  readonly callId: string;
  /** Our party as a name-addr with our tag (From in the requests we send). */
  readonly local: string;
  /** The peer as a name-addr with its tag. */
  readonly remote: string;
  readonly remoteTarget: string;
  /** Our Contact URI in this dialog (what the peer uses as its remote target). */
  readonly localContact: string;
  readonly routeSet: readonly string[];
  readonly localSeq: number;
  readonly remoteSeq: number | undefined;
  /** The transport the dialog was set up on; used when the remote target names none. */
  readonly transport: TransportName;
  /** The TCP/TLS/WS connection the dialog was established over. While it is open, requests whose
   *  target cannot be reached otherwise (a WebSocket client, a `.invalid` host, a name that does
   *  not resolve) are sent on it (RFC 3261 §18.1.1, RFC 5626 §5.3, RFC 7118 §5). */
  readonly flow: DialogFlow | undefined;
  /** RFC 3261 §12.2.1.1: sends a request in the dialog (not ACK / CANCEL). An INVITE returns an
   *  InviteClient whose 2xx is ACKed per `autoAck`. Rejects with SipError when it cannot be sent. */
  request(method: 'INVITE', opts?: InviteOptions): Promise<InviteClient>;
  request(method: string, opts?: RequestOptions): Promise<ClientRequest>;
  /** Sends the ACK for the last 2xx to our INVITE when autoAck was false; resolves with it as sent. */
  ack(opts?: RequestOptions): Promise<SipRequest>;
  /** RFC 3261 §15: sends BYE and terminates. A UAS still waiting for its ACK sends it once the ACK
   *  arrives or times out. Resolves with the final response to the BYE. */
  bye(opts?: RequestOptions): Promise<SipResponse>;
  /** Forgets the dialog without signalling (timers stop, maps drop it). */
  terminate(): void;
  info(): DialogInfo;
}

export interface IncomingRequestEvents {
  /** The peer cancelled this INVITE: the stack already answered 200 to the CANCEL and 487 here. */
  cancel: [cancel: SipRequest];
}

/** A request we received, with the server transaction that answers it. */
export interface IncomingRequest extends Events<IncomingRequestEvents> {
  /** The server transaction id. */
  readonly id: string;
  readonly method: string;
  readonly message: SipRequest;
  readonly source: Endpoint;
  readonly local: Endpoint;
  readonly connectionId: string | undefined;
  /** The request as received: its bytes (`raw`), source and local endpoint. The drachtio wire
   *  server hands these bytes to applications without re-serializing. */
  readonly inbound: Inbound;
  /** In-dialog requests: their dialog. An INVITE: the dialog its 1xx/2xx created, once answered. */
  readonly dialog: Dialog | undefined;
  readonly finalStatus: number | undefined;
  readonly cancelled: boolean;
  /** Builds and sends a response (RFC 3261 §8.2.6): To tag, Server and, when it creates or
   *  refreshes a dialog, Contact are filled in. A 2xx to INVITE is retransmitted until ACKed.
   *  Throws InvalidStateError once a final response was sent or the request was cancelled. */
  respond(status: number, opts?: RespondOptions): SipResponse;
  /** Like respond() with a response built by the caller from `createResponse(message, ...)`. */
  send(res: SipResponse): void;
  /** Tells the stack not to answer this request by default (the listener will, later). */
  defer(): void;
  /** Whether `defer()` was called. */
  readonly deferred: boolean;
}

export interface ClientRequestEvents {
  /** Every provisional and final response. `inbound` is undefined for a response the stack
   *  made up: 408 on timeout, 503 on a transport failure. */
  response: [res: SipResponse, inbound: Inbound | undefined];
}

interface ClientRequestProps {
  /** The client transaction id. */
  readonly id: string;
  readonly method: string;
  /** The request as sent (Via, Max-Forwards filled in). */
  readonly message: SipRequest;
  readonly dest: Endpoint;
  /** The final response; never rejects (timeouts are a 408, transport failures a 503). */
  readonly final: Promise<SipResponse>;
  readonly finalResponse: SipResponse | undefined;
}

export interface ClientRequest extends ClientRequestProps, Events<ClientRequestEvents> {}

export interface InviteClientEvents extends ClientRequestEvents {
  /** A 1xx with a To tag created an early dialog (one per fork). */
  early: [dialog: Dialog];
  /** The first 2xx: `dialog` is confirmed (and ACKed unless autoAck is false). */
  answered: [dialog: Dialog];
}

/** A UAC INVITE (initial or re-INVITE) and the dialogs it creates. */
export interface InviteClient extends ClientRequestProps, Events<InviteClientEvents> {
  /** Every dialog this INVITE created, early ones included, in creation order. */
  readonly dialogs: readonly Dialog[];
  /** The dialog of the first 2xx. */
  readonly dialog: Dialog | undefined;
  /** RFC 3261 §9.1: CANCEL (deferred until a provisional arrived). A 2xx that crosses the CANCEL
   *  is ACKed and its dialog BYE'd at once. */
  cancel(): void;
}

/** Counts of everything the stack keeps per call: the oracle for leak tests and metrics. */
export interface StackDump {
  /** Dialogs by RFC 3261 key. */
  dialogs: number;
  /** Entries of the drachtio-id index (forks share one). */
  dialogIds: number;
  /** Requests we received that have no final response yet. */
  serverRequests: number;
  /** Requests we sent that have no final response yet. */
  clientRequests: number;
  /** Live transactions in the transaction layer (filled in by the stack). */
  serverTransactions?: number;
  clientTransactions?: number;
  /** Running proxy operations (RFC 3261 §16; filled in by the stack). */
  proxies?: number;
}
