// Calls per second through the embedded drachtio server, the drachtio-wire.md §6 setup:
// SIPp's built-in uac (INVITE, 100, 200, ACK, BYE, 200) -> SipStack + drachtio wire server ->
// a drachtio-srf app answering 200 + SDP with createUAS. The app runs in a child process, as a
// real deployment would, so the server's event loop is measured on its own.
//
//   npx tsx bench/drachtio-cps.ts [rate=500] [seconds=10]      (BENCH_LOST=<percent> adds SIPp -lost)
//
// Note: SIPp's uac accepts any 200 as the answer to its BYE, so a UDP drop of ACK+BYE under
// overload shows as a successful call here and as a dialog left until the 64*T1 ACK timeout;
// the "after1500ms" dump makes that visible.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { cpuUsage } from 'node:process';
import { SipStack } from '../src/sip/stack.js';
import { startDrachtioServer } from '../src/sip/drachtio/index.js';
import { callCounts, runSipp } from '../test/support/sipp.js';

const APP = join(import.meta.dirname, 'support', 'srf-uas-app.cjs');

async function main(): Promise<void> {
  const rate = Number(process.argv[2] ?? 500);
  const seconds = Number(process.argv[3] ?? 10);
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
  await new Promise((r) => setTimeout(r, 200));
  const cpu0 = cpuUsage();
  const t0 = Date.now();
  const r = await runSipp({
    builtin: 'uac',
    target: { host: '127.0.0.1', port: stack.endpoints[0].port },
    calls: rate * seconds,
    rate,
    timeoutSeconds: seconds * 3 + 20,
    extraArgs: ['-l', String(rate * 4)],
    lost: process.env.BENCH_LOST ? Number(process.env.BENCH_LOST) : undefined,
  });
  const wall = (Date.now() - t0) / 1000;
  const cpu = cpuUsage(cpu0);
  const appCpu = await new Promise<NodeJS.CpuUsage>((resolve) => {
    app.once('message', (m) => resolve(m as NodeJS.CpuUsage));
    app.send('stop');
  });
  const { ok, failed } = callCounts(r);
  const retrans = r.stats['Retransmissions(C)'] ?? '?';
  console.log(
    JSON.stringify({
      targetCps: rate,
      calls: ok + failed,
      ok,
      failed,
      achievedCps: Math.round((ok / wall) * 10) / 10,
      sippRetransmissions: retrans,
      wallSeconds: wall,
      serverCpuSeconds: (cpu.user + cpu.system) / 1e6,
      appCpuSeconds: (appCpu.user + appCpu.system) / 1e6,
      stackDump: stack.dump(),
      serverDump: server.dump(),
    }),
  );
  // Whatever is still held a moment later is a leak, not in-flight work.
  await new Promise((r) => setTimeout(r, 1500));
  const states: Record<string, number> = {};
  for (const d of stack.dialogs()) {
    const k = `${d.role}/${d.state}`;
    states[k] = (states[k] ?? 0) + 1;
  }
  console.log(JSON.stringify({ after1500ms: stack.dump(), dialogStates: states }));
  await server.close();
  await stack.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
