// SQLite implementation of EventRepository: an append-only log (the schema refuses UPDATE and
// DELETE) that the API tails by id cursor.
import type Database from 'better-sqlite3';
import type { EventRepository, StoredEvent } from './types.js';

/** Upper bound on one `list()` page so a careless caller cannot pull the whole log into memory. */
export const MAX_EVENTS_PER_PAGE = 10_000;

interface Row {
  id: number;
  at: number;
  kind: string;
  subject: string | null;
  data: string;
}

export class SqliteEventRepository implements EventRepository {
  #insert: Database.Statement;
  #list: Database.Statement;

  constructor(db: Database.Database) {
    this.#insert = db.prepare('INSERT INTO events (at, kind, subject, data) VALUES (?, ?, ?, ?)');
    this.#list = db.prepare('SELECT id, at, kind, subject, data FROM events WHERE id > ? ORDER BY id LIMIT ?');
  }

  append(event: { at: number; kind: string; subject?: string | null; data?: Record<string, unknown> }): number {
    const info = this.#insert.run(event.at, event.kind, event.subject ?? null, JSON.stringify(event.data ?? {}));
    return Number(info.lastInsertRowid);
  }

  list(sinceId: number = 0, limit: number = 1000): StoredEvent[] {
    const n = Math.max(1, Math.min(MAX_EVENTS_PER_PAGE, Math.floor(limit)));
    return (this.#list.all(sinceId, n) as Row[]).map((r) => ({
      id: r.id,
      at: r.at,
      kind: r.kind,
      subject: r.subject,
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
  }
}
