// SQLite implementation of RegistrationRepository: the registrar's bindings survive restarts,
// so phones stay reachable without re-registering after a deploy.
import type Database from 'better-sqlite3';
import type { Binding, RegistrationRepository } from './types.js';

interface Row {
  aor: string;
  contact: string;
  expires_at: number;
  q: number | null;
  call_id: string;
  cseq: number;
  path: string;
  received: string | null;
  transport: string;
  source_address: string;
  source_port: number;
  instance_id: string | null;
  reg_id: number | null;
  user_agent: string | null;
  updated_at: number;
}

const ORDER = 'ORDER BY aor, q IS NULL, q DESC, contact';

export class SqliteRegistrationRepository implements RegistrationRepository {
  #upsert: Database.Statement;
  #remove: Database.Statement;
  #removeAll: Database.Statement;
  #list: Database.Statement;
  #listAll: Database.Statement;
  #expired: Database.Statement;
  #purge: Database.Statement;
  #apply: (changes: Parameters<RegistrationRepository['apply']>[0]) => void;

  constructor(db: Database.Database) {
    this.#upsert = db.prepare(`
      INSERT INTO registrations (aor, contact, expires_at, q, call_id, cseq, path, received, transport,
                                 source_address, source_port, instance_id, reg_id, user_agent, updated_at)
      VALUES (@aor, @contact, @expires_at, @q, @call_id, @cseq, @path, @received, @transport,
              @source_address, @source_port, @instance_id, @reg_id, @user_agent, @updated_at)
      ON CONFLICT (aor, contact) DO UPDATE SET
        expires_at = excluded.expires_at, q = excluded.q, call_id = excluded.call_id, cseq = excluded.cseq,
        path = excluded.path, received = excluded.received, transport = excluded.transport,
        source_address = excluded.source_address, source_port = excluded.source_port,
        instance_id = excluded.instance_id, reg_id = excluded.reg_id, user_agent = excluded.user_agent,
        updated_at = excluded.updated_at`);
    this.#remove = db.prepare('DELETE FROM registrations WHERE aor = ? AND contact = ?');
    this.#removeAll = db.prepare('DELETE FROM registrations WHERE aor = ?');
    this.#list = db.prepare(`SELECT * FROM registrations WHERE aor = ? ${ORDER}`);
    this.#listAll = db.prepare(`SELECT * FROM registrations ${ORDER}`);
    this.#expired = db.prepare(`SELECT * FROM registrations WHERE expires_at <= ? ${ORDER}`);
    this.#purge = db.prepare('DELETE FROM registrations WHERE expires_at <= ?');
    this.#apply = db.transaction((changes: Parameters<RegistrationRepository['apply']>[0]) => {
      for (const r of changes.remove) this.#remove.run(r.aor, r.contact);
      for (const b of changes.upsert) this.#upsert.run(toRow(b));
    });
    this.purgeExpired = db.transaction(this.purgeExpired.bind(this));
  }

  upsert(binding: Binding): void {
    this.#upsert.run(toRow(binding));
  }

  apply(changes: Parameters<RegistrationRepository['apply']>[0]): void {
    this.#apply(changes);
  }

  remove(aor: string, contact: string): boolean {
    return this.#remove.run(aor, contact).changes > 0;
  }

  removeAll(aor: string): number {
    return this.#removeAll.run(aor).changes;
  }

  list(aor: string): Binding[] {
    return (this.#list.all(aor) as Row[]).map(fromRow);
  }

  listAll(): Binding[] {
    return (this.#listAll.all() as Row[]).map(fromRow);
  }

  purgeExpired(now: number): Binding[] {
    // Wrapped in a transaction by the constructor so the rows returned are exactly those deleted.
    const rows = (this.#expired.all(now) as Row[]).map(fromRow);
    this.#purge.run(now);
    return rows;
  }
}

function toRow(b: Binding): Row {
  return {
    aor: b.aor,
    contact: b.contact,
    expires_at: b.expiresAt,
    q: b.q,
    call_id: b.callId,
    cseq: b.cseq,
    path: JSON.stringify(b.path),
    received: b.received,
    transport: b.transport,
    source_address: b.sourceAddress,
    source_port: b.sourcePort,
    instance_id: b.instanceId,
    reg_id: b.regId,
    user_agent: b.userAgent,
    updated_at: b.updatedAt,
  };
}

function fromRow(r: Row): Binding {
  return {
    aor: r.aor,
    contact: r.contact,
    expiresAt: r.expires_at,
    q: r.q,
    callId: r.call_id,
    cseq: r.cseq,
    path: JSON.parse(r.path) as string[],
    received: r.received,
    transport: r.transport,
    sourceAddress: r.source_address,
    sourcePort: r.source_port,
    instanceId: r.instance_id,
    regId: r.reg_id,
    userAgent: r.user_agent,
    updatedAt: r.updated_at,
  };
}
