// The embedded drachtio server: a TCP (or TLS) listener for drachtio applications on top of the
// SipStack. It authenticates each connection (`authenticate|<secret>|<tags>`), keeps the verb
// routes, answers `ping`, and dispatches `sip` frames to the inbound (app responses) or outbound
// (app requests) side. When an app disconnects, everything it held is released: its routes, the
// network requests still waiting for its answer (answered here), its requests in flight (INVITEs
// cancelled) and its dialogs (they live on unowned, as with drachtio-server).
// Socket handlers never throw: a bad frame drops that connection, nothing else.
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '../../lib/log.js';
import type { SipStack } from '../stack.js';
import type { IncomingRequest, InviteClient } from '../dialog/types.js';
import { AppConnection } from './app.js';
import { Cdr } from './cdr.js';
import { DialogOwners } from './dialogs.js';
import { splitPayload } from './framing.js';
import { InboundRequests } from './inbound.js';
import { replyPayload } from './meta.js';
import { OutboundRequests } from './outbound.js';
import { ProxyCommands } from './proxy.js';
import { Routes } from './routes.js';
import type { DrachtioDump, DrachtioServerOptions } from './types.js';

/** A v-prefixed semver, so srf's serverVersionAtLeast('v0.8.2') enables its pings. */
export const SERVER_VERSION = 'v1.0.0-switchboard';
/** An app that has not authenticated within this time is dropped. */
const AUTH_TIMEOUT_MS = 10_000;

export class DrachtioServer {
  readonly #stack: SipStack;
  readonly #secret: Buffer;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #apps = new Set<AppConnection>();
  readonly #routes = new Routes();
  readonly #cdr = new Cdr(this.#routes);
  readonly #owners: DialogOwners;
  readonly #inbound: InboundRequests;
  readonly #outbound: OutboundRequests;
  readonly #proxy: ProxyCommands;
  readonly #onRequest = (req: IncomingRequest): void => this.#inbound.onRequest(req);
  #closing: Promise<void> | undefined;

  static async start(opts: DrachtioServerOptions): Promise<DrachtioServer> {
    const s = new DrachtioServer(opts);
    const address = opts.listen?.address ?? '127.0.0.1';
    const port = opts.listen?.port ?? 9022;
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(port, address, () => {
        s.#server.off('error', reject);
        resolve();
      });
    });
    s.#server.on('error', (err) => s.#log.error({ err }, 'drachtio listener error'));
    s.#stack.on('request', s.#onRequest);
    return s;
  }

  private constructor(opts: DrachtioServerOptions) {
    this.#stack = opts.stack;
    this.#secret = Buffer.from(opts.secret, 'utf8');
    this.#log = opts.logger;
    this.#owners = new DialogOwners(this.#stack, this.#log, this.#cdr);
    this.#inbound = new InboundRequests(this.#stack, this.#log, this.#routes, this.#owners, this.#cdr, opts.onUnrouted);
    this.#outbound = new OutboundRequests(this.#stack, this.#log, this.#owners, this.#cdr);
    this.#proxy = new ProxyCommands(this.#stack, this.#log, this.#cdr);
    const tls = opts.listen?.tls;
    this.#server = tls ? createTlsServer(tls) : createTcpServer();
    this.#server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => this.#accept(socket));
  }

  get address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  /** Counts of everything held per app: the oracle for leak tests. */
  dump(): DrachtioDump {
    let serverTxns = 0;
    let clientTxns = 0;
    let dialogs = 0;
    for (const a of this.#apps) {
      serverTxns += a.serverTxns.size;
      clientTxns += a.clientTxns.size;
      dialogs += a.dialogs.size;
    }
    return { apps: this.#apps.size, routes: this.#routes.size, serverTxns, clientTxns, dialogs, ownedDialogs: this.#owners.size };
  }

  /** Stops listening and drops every app. Idempotent; does not close the stack. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#stack.off('request', this.#onRequest);
      for (const app of [...this.#apps]) {
        app.socket.destroy();
        this.#release(app);
      }
      this.#server.close(() => resolve());
    });
    return this.#closing;
  }

  // ---- connections -------------------------------------------------------------------------

  #accept(socket: Socket): void {
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    const app = new AppConnection(socket, this.#log);
    this.#apps.add(app);
    const authTimer = setTimeout(() => {
      if (!app.authenticated) socket.destroy();
    }, AUTH_TIMEOUT_MS);
    authTimer.unref();
    const onFrame = (payload: Buffer): void => this.#frame(app, payload);
    socket.on('data', (chunk: Buffer) => {
      try {
        if (app.decoder.push(chunk, onFrame) === 'error') {
          app.log.warn('invalid frame from application; disconnecting');
          socket.destroy();
        }
      } catch (err) {
        app.log.error({ err }, 'failed to handle application frame; disconnecting');
        socket.destroy();
      }
    });
    socket.on('error', (err) => app.log.debug({ err }, 'application socket error'));
    socket.on('close', () => {
      clearTimeout(authTimer);
      this.#release(app);
    });
  }

  #release(app: AppConnection): void {
    if (!app.markClosed()) return;
    this.#apps.delete(app);
    this.#routes.removeApp(app);
    this.#owners.release(app);
    for (const id of app.serverTxns) {
      const req = this.#stack.serverRequest(id);
      if (req === undefined || req.finalStatus !== undefined || req.cancelled) continue;
      try {
        // The app that was to answer is gone: the caller must not wait for timers.
        req.respond(req.method === 'BYE' ? 200 : 480);
      } catch (err) {
        this.#log.debug({ err }, 'answering an orphaned request failed');
      }
    }
    app.serverTxns.clear();
    for (const cr of app.clientTxns.values()) {
      if (cr.method === 'INVITE' && cr.finalResponse === undefined) (cr as InviteClient).cancel();
    }
    app.clientTxns.clear();
    app.log.debug('application disconnected');
  }

  // ---- frames ------------------------------------------------------------------------------

  #frame(app: AppConnection, payload: Buffer): void {
    const { tokens, sip } = splitPayload(payload);
    const id = tokens[0] ?? '';
    const type = tokens[1];
    if (!app.authenticated && type !== 'authenticate') {
      app.log.warn({ type }, 'command before authentication; disconnecting');
      app.socket.destroy();
      return;
    }
    switch (type) {
      case 'sip':
        if (sip.length === 0) {
          app.nok(id, 'missing SIP message');
        } else if (sip[0] === 0x53 && sip.subarray(0, 4).toString('latin1') === 'SIP/') {
          this.#inbound.respond(app, id, tokens[2] ?? '', sip);
        } else {
          void this.#outbound.request(app, id, tokens[2] ?? '', tokens[3] ?? '', tokens[4] ?? '', sip);
        }
        return;
      case 'authenticate':
        this.#authenticate(app, id, tokens[2] ?? '', tokens[3] ?? '');
        return;
      case 'route':
        this.#routes.add(tokens[2] ?? '', app);
        app.ok(id);
        return;
      case 'remove_route':
        this.#routes.remove(tokens[2] ?? '', app);
        app.ok(id);
        return;
      case 'ping':
        app.ok(id, 'pong');
        return;
      case 'proxy':
        this.#proxy.proxy(app, id, tokens, sip);
        return;
      default:
        // client.cpp: an unknown message type ends the connection.
        app.nok(id, 'Unknown message type');
        app.socket.end();
    }
  }

  #authenticate(app: AppConnection, id: string, secret: string, tags: string): void {
    const given = Buffer.from(secret, 'utf8');
    const ok = given.length === this.#secret.length && timingSafeEqual(given, this.#secret);
    if (!ok) {
      // client.cpp: `NO|incorrect secret`, then the client is dropped.
      app.send(replyPayload(id, 'NO', 'incorrect secret'));
      app.socket.end();
      return;
    }
    app.authenticated = true;
    app.tags = tags === '' ? [] : tags.split(',');
    const hostports = this.#stack.endpoints
      .map((e) => `${e.transport}/${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`)
      .join(',');
    // drachtio-wire.md §2: OK | hostports | version | local hostports.
    app.ok(id, hostports, SERVER_VERSION, hostports);
  }
}
