// Opens the SQLite database (WAL, foreign keys on), brings its schema up to date and hands out
// the repositories. One Store per process; better-sqlite3 is synchronous, which suits the small,
// indexed writes the registrar makes and keeps ordering obvious.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventRepository } from './events.js';
import { migrate } from './migrate.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { SqliteRegistrationRepository } from './registrations.js';
import type { EventRepository, RegistrationRepository, Store } from './types.js';

export interface OpenStoreOptions {
  /** Override the migration list (tests). */
  migrations?: readonly Migration[];
  /** Epoch-ms time source used to stamp applied migrations. */
  now?: () => number;
  /** How long a writer waits for another connection's lock, ms. */
  busyTimeoutMs?: number;
}

/** Opens (creating if needed) the database at `path`; ":memory:" gives a private in-memory DB. */
export function openStore(path: string, opts: OpenStoreOptions = {}): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // WAL: readers (API, metrics) never block the registrar's writes; NORMAL sync is durable
    // across application crashes and only risks the last commits on power loss in WAL mode.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.floor(opts.busyTimeoutMs ?? 5000)}`);
    migrate(db, opts.migrations ?? MIGRATIONS, opts.now);
    return new SqliteStore(path, db);
  } catch (err) {
    db.close();
    throw err;
  }
}

class SqliteStore implements Store {
  readonly registrations: RegistrationRepository;
  readonly events: EventRepository;
  #db: Database.Database;

  constructor(
    readonly path: string,
    db: Database.Database,
  ) {
    this.#db = db;
    this.registrations = new SqliteRegistrationRepository(db);
    this.events = new SqliteEventRepository(db);
  }

  get schemaVersion(): number {
    const row = this.#db.prepare('SELECT MAX(version) AS v FROM migrations').get() as { v: number | null };
    return row.v ?? 0;
  }

  settings(): { journalMode: string; foreignKeys: boolean } {
    return {
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      foreignKeys: this.#db.pragma('foreign_keys', { simple: true }) === 1,
    };
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
