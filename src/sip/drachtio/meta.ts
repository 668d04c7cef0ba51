// The `|`-separated meta lines of server→app frames, field by field as drachtio-server writes
// them (drachtio-wire.md §3–§5) and as drachtio-srf's drachtio-agent.js reads them:
//
//   sip|<source>|<bytes>|<transport>|<addr>|<port>|<time>|<transactionId>|<dialogId>|[<recvAddr>|<recvPort>|]
//   response|<appMsgId>|OK|application|<bytes>|<transport>|<addr>|<port>|<time>|<transactionId>|<dialogId>||Msg sent:|
//   response|<appMsgId>|OK|application|<bytes>|<transport>|<addr>|<port>|<time>|<transactionId>|Msg sent:|
//
// Every frame starts with a fresh UUIDv4 message id chosen by the sender (§1).
import { randomUUID } from 'node:crypto';
import type { Endpoint } from '../transport/index.js';

/** drachtio's "time received" field: local wall clock `HH:MM:SS.uuuuuu`. */
export function wireTime(now: number = Date.now()): string {
  const d = new Date(now);
  const us = (now % 1000) * 1000;
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(us).padStart(6, '0')}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function msgId(): string {
  return randomUUID();
}

/**
 * A SIP message for the app (§3 table). `receivedOn` is written only for requests that start a
 * transaction outside a dialog, as drachtio-server does; in-dialog requests, ACKs and responses
 * end right after the dialog id.
 */
export function sipHead(
  source: 'network' | 'application',
  bytes: number,
  transport: string,
  peer: Endpoint,
  transactionId: string,
  dialogId: string,
  receivedOn?: Endpoint,
): string {
  let s = `${msgId()}|sip|${source}|${bytes}|${transport}|${peer.address}|${peer.port}|${wireTime()}|${transactionId}|${dialogId}|`;
  if (receivedOn !== undefined) s += `${receivedOn.address}|${receivedOn.port}|`;
  return s;
}

/** Reply to an app's response (sip-dialog-controller.cpp: `…|<dialogId>||Msg sent:|`). */
export function sentResponseHead(
  appMsgId: string,
  bytes: number,
  transport: string,
  dest: Endpoint,
  transactionId: string,
  dialogId: string,
): string {
  return `${msgId()}|response|${appMsgId}|OK|application|${bytes}|${transport}|${dest.address}|${dest.port}|${wireTime()}|${transactionId}|${dialogId}||Msg sent:|`;
}

/** Reply to an app's request: no dialog id slot (§3), addr/port are our sending address (§4). */
export function sentRequestHead(appMsgId: string, bytes: number, transport: string, local: Endpoint, transactionId: string): string {
  return `${msgId()}|response|${appMsgId}|OK|application|${bytes}|${transport}|${local.address}|${local.port}|${wireTime()}|${transactionId}|Msg sent:|`;
}

/** `response|<appMsgId>|OK|<fields…>` or `…|NO|<reason>` / `…|NOK|<reason>`. */
export function replyPayload(appMsgId: string, status: 'OK' | 'NO' | 'NOK', ...fields: string[]): string {
  let s = `${msgId()}|response|${appMsgId}|${status}`;
  for (const f of fields) s += `|${f}`;
  return s;
}
