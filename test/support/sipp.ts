// Runs SIPp (Debian's sip-tester) as a real peer for integration tests and benchmarks.
// Every run is bounded: a call count (-m) and a global timeout, and it only targets loopback.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './net.js';

export const SCENARIOS = resolve(import.meta.dirname, '..', 'scenarios');

export interface SippOptions {
  /** Scenario XML in test/scenarios (name without .xml), or a built-in via `builtin`. */
  scenario?: string;
  builtin?: 'uac' | 'uas' | 'uac_pcap';
  /** Where SIPp sends (UAC scenarios). A UAS scenario has none: it answers where requests came from. */
  target?: { host: string; port: number };
  transport?: 'udp' | 'tcp';
  /** Request-URI user part ([service]). */
  service?: string;
  calls?: number;
  rate?: number;
  /** Percentage of packets SIPp drops, sending and receiving (-lost). */
  lost?: number;
  timeoutSeconds?: number;
  localIp?: string;
  localPort?: number;
  extraArgs?: string[];
  /** Pass -nr (no SIPp retransmissions over UDP). Never with `lost`. */
  noRetransmissions?: boolean;
  /** Record each call's response time (SIPp -trace_rtt, read back into `SippResult.rtts`). */
  traceRtt?: boolean;
  /** Keep a message trace in `<dir>/messages.log` (read back into `SippResult.messages`). */
  traceMessages?: boolean;
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Counters from SIPp's final statistics CSV, when it wrote one. */
  stats: Record<string, string>;
  errors: string;
  /** The -trace_msg log when `traceMessages` was set. */
  messages: string;
  /** Per-call response times (ms, SIPp's rtd) when `traceRtt` was set. */
  rtts: number[];
}

function assertLoopback(host: string): void {
  if (!/^127\./.test(host) && host !== '::1' && host !== 'localhost') {
    throw new Error(`refusing to run SIPp against non-loopback address ${host}`);
  }
}

export async function runSipp(opts: SippOptions): Promise<SippResult> {
  if (opts.target) assertLoopback(opts.target.host);
  assertLoopback(opts.localIp ?? '127.0.0.1');
  if (opts.lost && opts.transport === 'tcp') throw new Error('-lost only makes sense over UDP');
  if (opts.lost && opts.noRetransmissions) throw new Error('-lost needs SIPp retransmissions');
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const timeout = opts.timeoutSeconds ?? 30;
  const args: string[] = [];
  if (opts.builtin) args.push('-sn', opts.builtin);
  else args.push('-sf', join(SCENARIOS, `${opts.scenario}.xml`));
  if (opts.target) {
    const host = opts.target.host.includes(':') ? `[${opts.target.host}]` : opts.target.host;
    args.push(`${host}:${opts.target.port}`);
  }
  args.push('-i', opts.localIp ?? '127.0.0.1');
  // Always an explicit port: SIPp's default (5060) would collide between parallel test files.
  args.push('-p', String(opts.localPort ?? (await freePort())));
  args.push('-t', opts.transport === 'tcp' ? 't1' : 'u1');
  args.push('-s', opts.service ?? 'service');
  args.push('-m', String(opts.calls ?? 1));
  args.push('-r', String(opts.rate ?? 10));
  if (opts.lost) args.push('-lost', String(opts.lost));
  args.push('-timeout', `${timeout}s`, '-timeout_error', '-nostdin');
  // -nr would stop SIPp's own UDP retransmissions, which the -lost runs depend on.
  if (opts.noRetransmissions) args.push('-nr');
  if (opts.traceRtt) args.push('-trace_rtt', '-rtt_freq', '1');
  if (opts.traceMessages) args.push('-trace_msg', '-message_file', join(dir, 'messages.log'));
  args.push('-trace_err', '-error_file', join(dir, 'errors.log'));
  args.push('-trace_stat', '-stf', join(dir, 'stats.csv'));
  args.push(...(opts.extraArgs ?? []));

  return new Promise((resolvePromise, reject) => {
    const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      // SIPp repaints its screen; keep only the tail so a long run cannot grow memory.
      stdout = (stdout + d.toString()).slice(-20_000);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), (timeout + 10) * 1000);
    child.on('error', (err) => {
      clearTimeout(killer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      let stats: Record<string, string> = {};
      let errors = '';
      try {
        const csv = readFileSync(join(dir, 'stats.csv'), 'utf8').trim().split('\n');
        const head = csv[0]?.split(';') ?? [];
        const last = csv[csv.length - 1]?.split(';') ?? [];
        stats = Object.fromEntries(head.map((h, i) => [h, last[i] ?? '']));
      } catch {
        /* no stats file: SIPp failed before starting */
      }
      try {
        errors = readdirSync(dir).includes('errors.log') ? readFileSync(join(dir, 'errors.log'), 'utf8') : '';
      } catch {
        /* ignore */
      }
      let messages = '';
      try {
        messages = opts.traceMessages ? readFileSync(join(dir, 'messages.log'), 'utf8') : '';
      } catch {
        /* ignore */
      }
      const rtts: number[] = [];
      if (opts.traceRtt) {
        // -trace_rtt writes <scenario>_<pid>_rtt.csv: "Date_ms;response_time_ms;rtd_no" per call.
        try {
          const file = readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
          for (const line of file ? readFileSync(join(dir, file), 'utf8').split('\n').slice(1) : []) {
            const v = Number(line.split(';')[1]);
            if (line.length > 0 && Number.isFinite(v)) rtts.push(v);
          }
        } catch {
          /* no rtt file: no call completed */
        }
      }
      rmSync(dir, { recursive: true, force: true });
      resolvePromise({ code, stdout, stderr, stats, errors, messages, rtts });
    });
  });
}

/** Successful/failed call counts (cumulative) from a SIPp result. */
export function callCounts(r: SippResult): { ok: number; failed: number } {
  return {
    ok: Number(r.stats['SuccessfulCall(C)'] ?? 0),
    failed: Number(r.stats['FailedCall(C)'] ?? 0),
  };
}
