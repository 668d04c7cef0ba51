// A SIP flow over a byte stream (TCP or TLS socket): frames messages with StreamFramer
// (RFC 3261 §18.3: Content-Length delimits messages), answers CRLFCRLF pings with a CRLF pong
// (RFC 5626 §4.4.1), closes itself after the idle timeout and on a framing error.
import type { Socket } from 'node:net';
import { StreamFramer } from '../message/index.js';
import type { TransportName } from '../message/index.js';
import type { Logger } from '../../lib/log.js';
import { newConnectionId, type Connection, type ConnectionSink } from './connection.js';
import type { Endpoint } from './types.js';

const CRLF = Buffer.from('\r\n');

export interface StreamConnectionOptions {
  transport: TransportName;
  inbound: boolean;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  sink: ConnectionSink;
  logger: Logger;
}

export class StreamConnection implements Connection {
  readonly id: string;
  readonly transport: TransportName;
  readonly remote: Endpoint;
  readonly local: Endpoint;
  readonly inbound: boolean;
  #socket: Socket;
  #framer: StreamFramer;
  #sink: ConnectionSink;
  #log: Logger;
  #closed = false;
  /** Set once a framing error is seen: further bytes are ignored while the answer drains. */
  #failed = false;
  #idle = false;

  /** `socket` must already be connected (remote address known). */
  constructor(socket: Socket, opts: StreamConnectionOptions) {
    this.id = newConnectionId(opts.transport);
    this.transport = opts.transport;
    this.inbound = opts.inbound;
    this.#socket = socket;
    this.#sink = opts.sink;
    this.#framer = new StreamFramer({ maxMessageBytes: opts.maxMessageBytes });
    this.remote = { transport: opts.transport, address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.local = { transport: opts.transport, address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    this.#log = opts.logger.child({ conn: this.id, remote: `${this.remote.address}:${this.remote.port}` });

    socket.setNoDelay(true);
    // node counts both reads and writes as activity, which is exactly "idle" for a SIP flow.
    if (opts.idleTimeoutMs > 0) socket.setTimeout(opts.idleTimeoutMs);
    socket.on('timeout', () => {
      this.#idle = true;
      this.#log.debug('idle timeout');
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#log.debug({ err: err.message }, 'socket error'));
    socket.once('close', () => {
      this.#closed = true;
      this.#sink.onClose(this, this.#idle);
    });
  }

  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  #onData(chunk: Buffer): void {
    if (this.#failed) return;
    let events;
    try {
      events = this.#framer.push(chunk);
    } catch (err) {
      // The framer promises not to throw; a bug there must still not unwind into the socket.
      this.#log.error({ err }, 'framer threw');
      this.destroy();
      return;
    }
    for (const ev of events) {
      if (this.#failed || this.#socket.destroyed) return;
      switch (ev.type) {
        case 'message':
          this.#sink.onMessage(this, ev.data);
          break;
        case 'ping':
          // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with a single CRLF pong.
          this.#socket.write(CRLF);
          this.#sink.onKeepAlive(this);
          break;
        case 'pong':
          break;
        case 'error':
          this.#failed = true;
          this.#sink.onFramingError(this, ev.status, ev.reason, ev.head);
          break;
      }
    }
  }

  write(buf: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed || this.#socket.writableEnded) {
        reject(new Error(`connection ${this.id} is closed`));
        return;
      }
      this.#socket.write(buf, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    this.#socket.end();
    // A peer that never closes its side must not keep the socket half-open forever.
    const t = setTimeout(() => this.#socket.destroy(), 2000);
    t.unref();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
