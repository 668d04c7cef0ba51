// Prometheus view of the embedded SIP stack: its plain counters (transport, transactions,
// dialogs) read at scrape time, so the hot path only bumps integers. Bad input — parse errors,
// oversize and dropped messages, the 400/413 answers the stack gave itself — shows up here.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { SipStack } from '../sip/index.js';

/** A counter whose value is read from `read()` at scrape time. */
function scrapedCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function scrapedGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

export function registerSipStackMetrics(registry: Registry, stack: SipStack): void {
  const t = () => stack.stats().transport;
  scrapedCounter(registry, 'switchboard_sip_messages_received_total', 'SIP messages received (keep-alives excluded)', () => t().received);
  scrapedCounter(registry, 'switchboard_sip_messages_sent_total', 'SIP messages sent', () => t().sent);
  scrapedCounter(registry, 'switchboard_sip_send_errors_total', 'SIP messages the OS refused to send', () => t().sendErrors);
  scrapedCounter(registry, 'switchboard_sip_parse_errors_total', 'Malformed SIP messages received (answered 400 or dropped)', () => t().parseErrors);
  scrapedCounter(registry, 'switchboard_sip_dropped_total', 'SIP messages dropped without an answer', () => t().dropped);
  scrapedCounter(registry, 'switchboard_sip_too_large_total', 'SIP messages over the size limit', () => t().tooLarge);
  scrapedCounter(registry, 'switchboard_sip_rejected_total', '400/413 answers the transport layer gave to bad input', () => t().rejected);
  scrapedCounter(registry, 'switchboard_sip_keepalives_total', 'CRLF keep-alives received', () => t().keepAlives);
  scrapedGauge(registry, 'switchboard_sip_connections_open', 'Open TCP/TLS/WebSocket connections', () => t().connectionsOpen);
  scrapedGauge(registry, 'switchboard_sip_dialogs', 'Live SIP dialogs', () => stack.dump().dialogs);
  scrapedGauge(registry, 'switchboard_sip_server_transactions', 'Live server transactions', () => stack.dump().serverTransactions ?? 0);
  scrapedGauge(registry, 'switchboard_sip_client_transactions', 'Live client transactions', () => stack.dump().clientTransactions ?? 0);
}
