// SIP over WebSocket (RFC 7118): an HTTP(S) server that upgrades requests on the configured path
// carrying the 'sip' subprotocol; every WebSocket message is exactly one SIP message (§5), so no
// stream framing is needed. Only peers can open these flows: we never connect out over WS.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { TransportName } from '../message/index.js';
import type { Logger } from '../../lib/log.js';
import { newConnectionId, type Connection, type ConnectionSink, type Listener } from './connection.js';
import { bindServer } from './tcp.js';
import { loadTlsMaterial } from './tls.js';
import type { Endpoint, ListenSpec } from './types.js';

const CRLF = Buffer.from('\r\n');

export interface WsListenOptions {
  maxMessageBytes: number;
  idleTimeoutMs: number;
  sink: ConnectionSink;
  onConnection: (c: WsConnection) => void;
  /** An upgrade was refused (bad path / no 'sip' subprotocol). */
  onReject: (reason: string) => void;
  logger: Logger;
}

function refuse(socket: Duplex, status: string): void {
  socket.on('error', () => undefined);
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export async function listenWs(spec: ListenSpec, opts: WsListenOptions): Promise<Listener> {
  const transport = spec.transport;
  const path = spec.path ?? '/';
  let server: Server;
  if (transport === 'wss') {
    const m = loadTlsMaterial(spec);
    server = createHttpsServer({ cert: m.cert, key: m.key, ca: m.ca });
    server.on('tlsClientError', () => undefined);
  } else {
    server = createHttpServer();
  }
  // Plain HTTP requests are not ours to serve.
  server.on('request', (_req, res) => {
    res.statusCode = 426;
    res.setHeader('Upgrade', 'websocket');
    res.end();
  });
  server.on('clientError', (_err, socket: Duplex) => socket.destroy());

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxMessageBytes,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
  });
  wss.on('error', () => undefined);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = (req.url ?? '/').split('?')[0];
    if (url !== path) {
      opts.onReject(`path ${url}`);
      refuse(socket, '404 Not Found');
      return;
    }
    // RFC 7118 §4.1: the client MUST offer the 'sip' subprotocol; without it the flow is not SIP.
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim().toLowerCase());
    if (!offered.includes('sip')) {
      opts.onReject('no sip subprotocol');
      refuse(socket, '400 Bad Request');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const remote: Endpoint = { transport, address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 };
      const local: Endpoint = { transport, address: req.socket.localAddress ?? '', port: req.socket.localPort ?? 0 };
      opts.onConnection(new WsConnection(ws, transport, remote, local, opts));
    });
  });

  const listener = await bindServer(server, spec);
  return {
    ...listener,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await listener.close();
    },
  };
}

export class WsConnection implements Connection {
  readonly id: string;
  readonly inbound = true;
  #ws: WebSocket;
  #sink: ConnectionSink;
  #log: Logger;
  #idleTimer: NodeJS.Timeout | undefined;
  #idle = false;

  constructor(
    ws: WebSocket,
    readonly transport: TransportName,
    readonly remote: Endpoint,
    readonly local: Endpoint,
    opts: WsListenOptions,
  ) {
    this.id = newConnectionId(transport);
    this.#ws = ws;
    this.#sink = opts.sink;
    this.#log = opts.logger.child({ conn: this.id, remote: `${remote.address}:${remote.port}` });
    if (opts.idleTimeoutMs > 0) {
      this.#idleTimer = setTimeout(() => {
        this.#idle = true;
        this.#log.debug('idle timeout');
        ws.terminate();
      }, opts.idleTimeoutMs);
      this.#idleTimer.unref();
    }
    ws.on('message', (data: RawData, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on('ping', () => this.#touch());
    ws.on('error', (err: Error & { code?: string }) => {
      this.#log.debug({ err: err.message }, 'websocket error');
      // ws closes with 1009 itself; the frame never reaches us, so it cannot be answered with 413.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#sink.onFramingError(this, 413, 'Request Entity Too Large', undefined);
    });
    ws.once('close', () => {
      clearTimeout(this.#idleTimer);
      this.#sink.onClose(this, this.#idle);
    });
  }

  get closed(): boolean {
    return this.#ws.readyState !== WebSocket.OPEN;
  }

  #touch(): void {
    this.#idleTimer?.refresh();
  }

  #onMessage(data: RawData, _isBinary: boolean): void {
    this.#touch();
    // With the default binaryType a message is a single Buffer; be defensive about the others.
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    // Browsers' SIP stacks send RFC 5626-style CRLF keep-alives inside WS messages.
    if (isCrlfOnly(buf)) {
      if (buf.length === 4) this.#ws.send(CRLF);
      this.#sink.onKeepAlive(this);
      return;
    }
    this.#sink.onMessage(this, buf);
  }

  write(buf: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error(`connection ${this.id} is closed`));
        return;
      }
      this.#touch();
      // RFC 7118 §5: text frames must be UTF-8; a body that is not goes in a binary frame.
      this.#ws.send(buf, { binary: !isUtf8(buf) }, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(1000);
  }

  destroy(): void {
    this.#ws.terminate();
  }
}

/** True for "\r\n" or "\r\n\r\n" (keep-alive, not a message). */
export function isCrlfOnly(buf: Buffer): boolean {
  if (buf.length !== 2 && buf.length !== 4) return false;
  for (let i = 0; i < buf.length; i += 2) if (buf[i] !== 0x0d || buf[i + 1] !== 0x0a) return false;
  return true;
}
