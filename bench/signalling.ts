// bench:signalling — calls per second through the embedded SIP stack and drachtio wire server.
// SIPp's built-in `uac` scenario (INVITE, 100, 200, ACK, BYE, 200; a separate process over
// loopback) calls a drachtio-srf application (a child process, as in production) that answers
// 200 + SDP with createUAS and waits for the caller's BYE. The rate ramps up step by step; the
// result is the highest rate whose step completed with zero failed calls (and at least 95% of the
// target rate achieved), with SIPp's INVITE→200 response-time p99 at that rate.
//
//   npm run bench:signalling [-- <startRate> <step> <maxRate> <secondsPerStep>]
//
// Ends with:  figure signalling_cps <N>  /  figure invite_200_p99_ms <N>
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { SipStack } from '../src/sip/stack.js';
import { startDrachtioServer } from '../src/sip/drachtio/index.js';
import { callCounts, runSipp } from '../test/support/sipp.js';

const APP = join(import.meta.dirname, 'support', 'srf-uas-app.cjs');

interface Step {
  rate: number;
  ok: number;
  failed: number;
  achieved: number;
  retransmissions: number;
  p99: number;
  leftOver: number;
}

function p99Of(rtts: number[]): number {
  if (rtts.length === 0) return Number.NaN;
  const times = [...rtts].sort((a, b) => a - b);
  return times[Math.min(times.length - 1, Math.floor(times.length * 0.99))];
}

async function main(): Promise<void> {
  const [start = 200, step = 200, max = 2000, seconds = 5] = process.argv.slice(2).map(Number);
  const stack = await SipStack.start({
    listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }],
    timers: { t1: 500, t2: 4000, t4: 5000 },
    limits: { maxUdpBytes: 65535, maxStreamBytes: 65536, idleTimeoutSeconds: 60 },
    userAgent: 'Switchboard-bench',
  });
  const server = await startDrachtioServer({ stack, listen: { address: '127.0.0.1', port: 0 }, secret: 'cymru' });
  const app = fork(APP, [String(server.port)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    app.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
    app.once('exit', (code) => reject(new Error(`app exited ${code}`)));
  });

  const steps: Step[] = [];
  for (let rate = start; rate <= max; rate += step) {
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    const r = await runSipp({
      builtin: 'uac',
      target: { host: '127.0.0.1', port: stack.endpoints[0].port },
      calls: rate * seconds,
      rate,
      timeoutSeconds: seconds * 3 + 20,
      traceRtt: true,
      extraArgs: ['-l', String(rate * 4)],
    });
    const wall = (Date.now() - t0) / 1000;
    const { ok, failed } = callCounts(r);
    // Let in-flight dialogs finish: what is still held afterwards is a real failure.
    await new Promise((res) => setTimeout(res, 1000));
    const s: Step = {
      rate,
      ok,
      failed,
      achieved: Math.round(ok / wall),
      retransmissions: Number(r.stats['Retransmissions(C)'] ?? 0),
      p99: p99Of(r.rtts),
      leftOver: stack.dialogs().length,
    };
    steps.push(s);
    console.log(JSON.stringify(s));
    const clean = failed === 0 && ok === rate * seconds && s.leftOver === 0 && ok / wall >= rate * 0.95 * (seconds / (seconds + 1));
    if (!clean) break;
  }

  app.send('stop');
  await new Promise((r) => setTimeout(r, 200));
  app.kill();
  await server.close();
  await stack.close();

  const best = [...steps].reverse().find((s) => s.failed === 0 && s.ok === s.rate * seconds && s.leftOver === 0);
  console.log(`figure signalling_cps ${best?.rate ?? 0}`);
  console.log(`figure invite_200_p99_ms ${best ? Math.round(best.p99 * 10) / 10 : Number.NaN}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
