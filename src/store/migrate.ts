// Applies the numbered migrations to a database: each pending one in its own transaction,
// recorded with its name and the time it ran. A database written by newer code (a version we
// do not know) or whose history disagrees with ours is refused rather than guessed at.
import type Database from 'better-sqlite3';
import { InvalidStateError } from '../lib/errors.js';
import type { Migration } from './migrations/index.js';

export interface AppliedMigration {
  version: number;
  name: string;
  appliedAt: number;
}

/** Returns the versions applied by this call (empty when the schema was already current). */
export function migrate(db: Database.Database, migrations: readonly Migration[], now: () => number = Date.now): number[] {
  checkOrder(migrations);
  db.exec(`CREATE TABLE IF NOT EXISTS migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const applied = appliedMigrations(db);
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const a of applied) {
    const m = known.get(a.version);
    if (!m) {
      const newest = migrations.at(-1)?.version ?? 0;
      throw new InvalidStateError(
        `database schema version ${a.version} (${a.name}) is newer than this build knows (up to ${newest}); refusing to open`,
      );
    }
    if (m.name !== a.name) {
      throw new InvalidStateError(`database migration ${a.version} is "${a.name}" but this build calls it "${m.name}"`);
    }
  }
  const done = new Set(applied.map((a) => a.version));
  const record = db.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const ran: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    // A failing statement rolls the whole migration back, so a half-applied schema never exists.
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, now());
    }).immediate();
    ran.push(m.version);
  }
  return ran;
}

export function appliedMigrations(db: Database.Database): AppliedMigration[] {
  const rows = db.prepare('SELECT version, name, applied_at AS appliedAt FROM migrations ORDER BY version').all();
  return rows as AppliedMigration[];
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new InvalidStateError(`migration #${i} has version ${m.version}; versions must be 1, 2, 3, ...`);
  });
}
