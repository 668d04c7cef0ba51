// 001: registrar bindings (RFC 3261 §10.3), one row per (AOR, Contact URI).
import type { Migration } from './index.js';

export const registrations001: Migration = {
  version: 1,
  name: 'registrations',
  sql: `
    CREATE TABLE registrations (
      aor            TEXT    NOT NULL,
      contact        TEXT    NOT NULL,
      expires_at     INTEGER NOT NULL,          -- epoch ms
      q              REAL CHECK (q IS NULL OR (q >= 0 AND q <= 1)),
      call_id        TEXT    NOT NULL,
      cseq           INTEGER NOT NULL,
      path           TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(path)),  -- JSON array (RFC 3327)
      received       TEXT,
      transport      TEXT    NOT NULL,
      source_address TEXT    NOT NULL,
      source_port    INTEGER NOT NULL,
      instance_id    TEXT,                      -- RFC 5626 +sip.instance
      reg_id         INTEGER,                   -- RFC 5626 reg-id
      user_agent     TEXT,
      updated_at     INTEGER NOT NULL,          -- epoch ms
      PRIMARY KEY (aor, contact)
    ) WITHOUT ROWID;
    CREATE INDEX registrations_expires_at ON registrations (expires_at);
  `,
};
