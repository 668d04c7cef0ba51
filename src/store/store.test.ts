import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidStateError } from '../lib/errors.js';
import { appliedMigrations, MIGRATIONS, openStore, type Binding, type Store } from './index.js';

let dir: string;
let file: string;
const open: Store[] = [];
const openAt = (path = file, opts?: Parameters<typeof openStore>[1]): Store => {
  const s = openStore(path, opts);
  open.push(s);
  return s;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-store-'));
  file = join(dir, 'nested', 'switchboard.db');
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function binding(over: Partial<Binding> = {}): Binding {
  return {
    aor: 'sip:1001@pbx.test',
    contact: 'sip:1001@192.0.2.10:5062;transport=udp',
    expiresAt: 1_700_000_360_000,
    q: 0.5,
    callId: 'c1@192.0.2.10',
    cseq: 7,
    path: ['<sip:edge.pbx.test;lr>'],
    received: 'sip:198.51.100.7:40123',
    transport: 'udp',
    sourceAddress: '198.51.100.7',
    sourcePort: 40123,
    instanceId: 'urn:uuid:00000000-0000-1000-8000-000A95A0E128',
    regId: 1,
    userAgent: 'Phone/1.0',
    updatedAt: 1_700_000_000_000,
    ...over,
  };
}

describe('openStore', () => {
  it('creates the parent directory, turns WAL and foreign keys on', () => {
    const s = openAt();
    expect(s.settings()).toEqual({ journalMode: 'wal', foreignKeys: true });
    s.registrations.upsert(binding());
    expect(existsSync(`${file}-wal`)).toBe(true);
    s.close();
    // WAL is a property of the file: a fresh, independent connection sees it too.
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('applies every migration once, in order, with a timestamp', () => {
    openAt(file, { now: () => 1234 }).close();
    openAt(file, { now: () => 9999 }).close(); // second open applies nothing
    const raw = new Database(file, { readonly: true });
    expect(appliedMigrations(raw)).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name, appliedAt: 1234 })));
    raw.close();
    expect(openAt().schemaVersion).toBe(MIGRATIONS.length);
  });

  it('refuses a database written by newer code', () => {
    openAt().close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)').run(99, 'from-the-future', 1);
    raw.close();
    expect(() => openAt()).toThrow(InvalidStateError);
  });

  it('refuses a database whose history names a migration differently', () => {
    openAt().close();
    const renamed = MIGRATIONS.map((m, i) => (i === 0 ? { ...m, name: 'something-else' } : m));
    expect(() => openAt(file, { migrations: renamed })).toThrow(InvalidStateError);
  });

  it('rolls back a failing migration entirely', () => {
    const broken = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'broken', sql: 'CREATE TABLE ok_table (x); SELECT nope FROM missing;' }];
    expect(() => openAt(file, { migrations: broken })).toThrow();
    const s = openAt();
    expect(s.schemaVersion).toBe(MIGRATIONS.length);
    s.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'ok_table'").get()).toBeUndefined();
    raw.close();
  });

  it('close() is idempotent', () => {
    const s = openAt();
    s.close();
    expect(() => s.close()).not.toThrow();
  });

  it('works in memory for unit tests', () => {
    const s = openAt(':memory:');
    s.registrations.upsert(binding());
    expect(s.registrations.listAll()).toHaveLength(1);
  });
});

describe('RegistrationRepository', () => {
  it('round-trips every field and survives close + reopen', () => {
    const b = binding();
    const s = openAt();
    s.registrations.upsert(b);
    s.close();
    expect(openAt().registrations.list(b.aor)).toEqual([b]);
  });

  it('upsert replaces the binding with the same (aor, contact)', () => {
    const s = openAt();
    s.registrations.upsert(binding());
    s.registrations.upsert(binding({ cseq: 8, q: null, path: [], instanceId: null, regId: null, received: null, userAgent: null }));
    const rows = s.registrations.list('sip:1001@pbx.test');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ cseq: 8, q: null, path: [], instanceId: null });
  });

  it('lists several contacts per AOR by q, and keeps AORs apart', () => {
    const s = openAt();
    s.registrations.upsert(binding({ contact: 'sip:a@h', q: 0.1 }));
    s.registrations.upsert(binding({ contact: 'sip:b@h', q: 1 }));
    s.registrations.upsert(binding({ contact: 'sip:c@h', q: null }));
    s.registrations.upsert(binding({ aor: 'sip:1002@pbx.test', contact: 'sip:d@h' }));
    expect(s.registrations.list('sip:1001@pbx.test').map((b) => b.contact)).toEqual(['sip:b@h', 'sip:a@h', 'sip:c@h']);
    expect(s.registrations.listAll()).toHaveLength(4);
  });

  it('remove, removeAll and purgeExpired', () => {
    const s = openAt();
    s.registrations.upsert(binding({ contact: 'sip:a@h', expiresAt: 100 }));
    s.registrations.upsert(binding({ contact: 'sip:b@h', expiresAt: 200 }));
    s.registrations.upsert(binding({ contact: 'sip:c@h', expiresAt: 300 }));
    s.registrations.upsert(binding({ aor: 'sip:1002@pbx.test', contact: 'sip:d@h', expiresAt: 300 }));
    expect(s.registrations.remove('sip:1001@pbx.test', 'sip:zzz@h')).toBe(false);
    expect(s.registrations.remove('sip:1001@pbx.test', 'sip:c@h')).toBe(true);
    expect(s.registrations.purgeExpired(200).map((b) => b.contact)).toEqual(['sip:a@h', 'sip:b@h']);
    expect(s.registrations.listAll().map((b) => b.contact)).toEqual(['sip:d@h']);
    expect(s.registrations.removeAll('sip:1002@pbx.test')).toBe(1);
    expect(s.registrations.listAll()).toEqual([]);
  });

  it('apply() is all or nothing', () => {
    const s = openAt();
    s.registrations.upsert(binding({ contact: 'sip:a@h' }));
    expect(() =>
      s.registrations.apply({
        remove: [{ aor: 'sip:1001@pbx.test', contact: 'sip:a@h' }],
        upsert: [binding({ contact: 'sip:b@h' }), binding({ contact: 'sip:c@h', q: 7 })], // q out of range: CHECK fails
      }),
    ).toThrow();
    expect(s.registrations.listAll().map((b) => b.contact)).toEqual(['sip:a@h']);
  });
});

describe('EventRepository', () => {
  it('appends, lists by id cursor, survives reopen', () => {
    const s = openAt();
    const id1 = s.events.append({ at: 10, kind: 'registrar.registered', subject: 'sip:1001@pbx.test', data: { contacts: 1 } });
    const id2 = s.events.append({ at: 20, kind: 'registrar.banned', subject: '203.0.113.9' });
    expect(id2).toBeGreaterThan(id1);
    s.close();
    const again = openAt();
    expect(again.events.list()).toEqual([
      { id: id1, at: 10, kind: 'registrar.registered', subject: 'sip:1001@pbx.test', data: { contacts: 1 } },
      { id: id2, at: 20, kind: 'registrar.banned', subject: '203.0.113.9', data: {} },
    ]);
    expect(again.events.list(id1).map((e) => e.id)).toEqual([id2]);
    expect(again.events.list(0, 1).map((e) => e.id)).toEqual([id1]);
  });

  it('refuses updates and deletes', () => {
    const s = openAt();
    s.events.append({ at: 1, kind: 'k' });
    s.close();
    const raw = new Database(file);
    expect(() => raw.prepare("UPDATE events SET kind = 'x'").run()).toThrow(/append-only/);
    expect(() => raw.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    raw.close();
  });
});
