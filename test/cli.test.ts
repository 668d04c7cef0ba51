// `switchboard --config file.yaml` as a real child process (tsx src/cli/main.ts): it serves
// OPTIONS on the configured UDP port, exits 0 on SIGTERM, and refuses a bad config with
// file:line:col on stderr and a non-zero exit code. Its config shares no fixed resource with
// other test files (drachtio on port 0, the database in a temp dir), so they can run in parallel.
// The tsx binary is spawned directly rather than through `npx`: npm exec does not pass SIGTERM
// on and wait, it dies of the signal itself (exit 143) and leaves tsx and node running as
// orphans. tsx relays the signal to node and exits with its code, like a process manager
// expects. Each child gets its own process group so cleanup can kill everything it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LOOPBACK, UdpPeer, freePort, isResponseTo, optionsRequest, until } from './support/net.js';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
const children = new Set<ChildProcess>();

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startCli(configFile: string): Run {
  const child = spawn(TSX, ['src/cli/main.ts', '--config', configFile], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      res({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`${what}: nothing after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        res(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        rej(e);
      },
    );
  });
}

/** SIGKILL to the child's whole process group (tsx and the node it started). */
function killGroup(c: ChildProcess): void {
  if (c.pid === undefined) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function groupAlive(c: ChildProcess): boolean {
  try {
    process.kill(-c.pid!, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  for (const c of children) killGroup(c);
  children.clear();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('switchboard CLI', () => {
  it('answers OPTIONS on its UDP port and exits 0 on SIGTERM', async () => {
    const udpPort = await freePort();
    const tcpPort = await freePort();
    const apiPort = await freePort();
    const file = join(dir, 'ok.yaml');
    const database = join(dir, 'cli.db');
    // A recording a crash left with zero sizes in its header: the start-up must repair it.
    const recordings = join(dir, 'recordings');
    mkdirSync(recordings, { recursive: true });
    const broken = join(recordings, 'crashed.wav');
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'latin1');
    header.write('WAVEfmt ', 8, 'latin1');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20); // PCM
    header.writeUInt16LE(1, 22); // mono
    header.writeUInt32LE(8000, 24);
    header.writeUInt32LE(16000, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36, 'latin1');
    writeFileSync(broken, Buffer.concat([header, Buffer.alloc(1600, 7)]));
    writeFileSync(
      file,
      [
        'sip:',
        '  listen:',
        `    - { transport: udp, address: ${LOOPBACK}, port: ${udpPort} }`,
        `    - { transport: tcp, address: ${LOOPBACK}, port: ${tcpPort} }`,
        '  userAgent: Switchboard-cli-test',
        // Nothing shared with other test files running in parallel: an ephemeral drachtio port
        // (not the default 9022) and a database in this test's temp dir (not data/switchboard.db).
        'registrar:',
        `  database: ${database}`,
        'drachtio:',
        `  embedded: { address: ${LOOPBACK}, port: 0 }`,
        'media:',
        `  recordingsDir: ${recordings}`,
        'api:',
        `  address: ${LOOPBACK}`,
        `  port: ${apiPort}`,
        'log:',
        '  level: info',
        '',
      ].join('\n'),
    );
    const run = startCli(file);
    const peer = await UdpPeer.open();
    try {
      // Ask until it is up (tsx compiles on start): one fresh OPTIONS every 250 ms, for 20 s.
      const deadline = Date.now() + 20_000;
      let answer;
      for (let i = 0; answer === undefined; i++) {
        if (Date.now() > deadline) throw new Error(`no answer from the CLI\nstdout: ${run.stdout()}\nstderr: ${run.stderr()}`);
        if (run.child.exitCode !== null) throw new Error(`CLI exited ${run.child.exitCode}\nstderr: ${run.stderr()}`);
        await peer.send(optionsRequest('UDP', `${LOOPBACK}:${peer.port}`, `${LOOPBACK}:${udpPort}`, `cli-${i}`), udpPort);
        answer = await peer.wait(isResponseTo('OPTIONS'), 250, 'OPTIONS answer').catch(() => undefined);
      }
      expect(answer.kind === 'response' && answer.status).toBe(200);
      expect(answer.headers.get('Server')).toBe('Switchboard-cli-test');
      expect(answer.headers.get('Allow')).toMatch(/\bINVITE\b/);

      // SIP answers as soon as the call services are up; the HTTP API starts after them.
      await until(() => run.stdout().includes('switchboard started'), 20_000, 'switchboard started');
      // Bad input is answered, never fatal, and counted in a metric Prometheus can scrape.
      const metric = async (): Promise<number> => {
        const text = await (await fetch(`http://${LOOPBACK}:${apiPort}/metrics`)).text();
        const m = /^switchboard_sip_parse_errors_total (\d+)$/m.exec(text);
        expect(m, text).not.toBeNull();
        return Number(m![1]);
      };
      const before = await metric();
      // Content-Length promises a body the datagram does not carry (RFC 3261 §18.3: 400).
      const malformed = optionsRequest('UDP', `${LOOPBACK}:${peer.port}`, `${LOOPBACK}:${udpPort}`, 'cli-bad').replace(/Content-Length: *0/i, 'Content-Length: 50');
      expect(malformed).toContain('Content-Length: 50');
      await peer.send(Buffer.from(malformed, 'latin1'), udpPort);
      const bad = await peer.wait((m) => m.kind === 'response' && m.status === 400, 2000, '400 to a malformed OPTIONS').catch(() => undefined);
      expect(bad).toBeDefined();
      expect(await metric()).toBe(before + 1);
      expect((await fetch(`http://${LOOPBACK}:${apiPort}/healthz`)).status).toBe(200);
      const repaired = readFileSync(broken);
      expect([repaired.readUInt32LE(4), repaired.readUInt32LE(40)]).toEqual([repaired.length - 8, 1600]);
    } finally {
      peer.close();
    }

    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const { code, signal } = await withTimeout(run.exited, 5000, 'exit after SIGTERM');
    expect({ code, signal }, run.stderr()).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5000);
    // It used what the config said: the temp database, an ephemeral drachtio port.
    expect(existsSync(database)).toBe(true);
    expect(run.stdout()).toContain(`"database":${JSON.stringify(database)}`);
    const drachtio = /"port":(\d+),"msg":"drachtio listening"/.exec(run.stdout());
    expect(drachtio, run.stdout()).not.toBeNull();
    expect(Number(drachtio![1])).not.toBe(9022);
    // A clean shutdown through the stack, not a kill: the CLI logged it.
    expect(run.stdout()).toMatch(/shutting down/);
    expect(run.stdout()).toMatch(/"msg":"stopped"/);
    // Nothing of the group outlives tsx for long (node exited too).
    await until(() => !groupAlive(run.child), 2000, 'the process group to end');
  }, 40_000);

  it('exits non-zero with file:line:col on stderr for an unknown key', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      ['sip:', '  listen:', `    - { transport: udp, address: ${LOOPBACK}, port: 0 }`, '  bogusKey: 1', ''].join('\n'),
    );
    const run = startCli(file);
    const { code } = await withTimeout(run.exited, 20_000, 'exit on a bad config');
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    // Line 4, column 3: where `bogusKey` starts.
    expect(run.stderr()).toContain(`${file}:4:3:`);
    expect(run.stderr()).toMatch(/sip\.bogusKey: unknown key/);
  }, 30_000);
});
