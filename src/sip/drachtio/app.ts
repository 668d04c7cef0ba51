// One connected drachtio application (a drachtio-srf `Srf` socket): its socket, its framing
// state and everything it owns — the network requests handed to it that still wait for its
// answer, the requests it sent that still wait for a final response, the dialogs it owns and
// the verbs it routed. The server (server.ts) clears all of that when the socket closes, the
// way mediasoup's Channel rejects every pending request on close.
import type { Socket } from 'node:net';
import type { Logger } from '../../lib/log.js';
import type { ClientRequest } from '../dialog/types.js';
import { encodeFrame, encodeFrameWithBody, FrameDecoder } from './framing.js';
import { replyPayload } from './meta.js';

let nextAppId = 1;

export class AppConnection {
  readonly id = nextAppId++;
  readonly socket: Socket;
  readonly decoder = new FrameDecoder();
  readonly log: Logger;
  authenticated = false;
  tags: string[] = [];
  /** Verbs this app routed (lower case, `cdr:*` included). */
  readonly verbs = new Set<string>();
  /** Network requests delivered to this app and not answered yet, by transaction id. */
  readonly serverTxns = new Set<string>();
  /** Requests this app sent that have no final response yet, by transaction id. */
  readonly clientTxns = new Map<string, ClientRequest>();
  /** Dialogs this app owns, by drachtio dialog id. */
  readonly dialogs = new Set<string>();
  #closed = false;
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.socket.uncork();
  };

  constructor(socket: Socket, log: Logger) {
    this.socket = socket;
    this.log = log.child({ app: this.id });
  }

  get closed(): boolean {
    return this.#closed || this.socket.destroyed;
  }

  /** Marks the app gone; returns false if it already was. */
  markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    return true;
  }

  /**
   * Queues a frame. Frames written in the same tick leave in one writev: at hundreds of calls
   * per second a syscall per frame (with Nagle off) cost more than everything else we do.
   */
  write(frame: Buffer): void {
    if (this.closed) return;
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(this.#uncork);
    }
    this.socket.write(frame);
  }

  send(payload: string): void {
    this.write(encodeFrame(payload));
  }

  sendWithSip(head: string, sip: Buffer): void {
    this.write(encodeFrameWithBody(head, sip));
  }

  ok(appMsgId: string, ...fields: string[]): void {
    this.send(replyPayload(appMsgId, 'OK', ...fields));
  }

  /** drachtio-server answers failed commands `NOK|<reason>` (`NO` only for authenticate). */
  nok(appMsgId: string, reason: string): void {
    this.send(replyPayload(appMsgId, 'NOK', reason));
  }
}
