// 002: the append-only event log. Triggers refuse UPDATE and DELETE so that the log stays an
// audit trail; a future retention job gets its own migration that relaxes the DELETE rule.
import type { Migration } from './index.js';

export const events002: Migration = {
  version: 2,
  name: 'events',
  sql: `
    CREATE TABLE events (
      id      INTEGER PRIMARY KEY AUTOINCREMENT,
      at      INTEGER NOT NULL,                 -- epoch ms
      kind    TEXT    NOT NULL,
      subject TEXT,
      data    TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(data))
    );
    CREATE INDEX events_at ON events (at);
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
  `,
};
