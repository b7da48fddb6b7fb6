/**
 * Schema migrations of the SQLite store, in order: `MIGRATIONS[n]` takes the file from
 * `user_version` n to n + 1. Append new ones; never edit one that has shipped.
 */
import type Database from 'better-sqlite3';

type Migration = string | ((db: Database.Database) => void);

const MIGRATIONS: readonly Migration[] = [
  /* 1: sessions, timelines, the delivery store, idempotency keys, dead letters. */ `
  CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    chat_key   TEXT,                          -- NULLs never collide in a UNIQUE index
    last_seq   INTEGER NOT NULL DEFAULT 0     -- the seq of the newest agent message
  );
  CREATE UNIQUE INDEX sessions_owner_chat_key ON sessions (owner, chat_key);
  CREATE INDEX sessions_owner_created ON sessions (owner, created_at);

  -- pos is the rowid: it only grows (rows are never deleted), so it is the order things happened.
  CREATE TABLE timeline (
    pos        INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    kind       TEXT NOT NULL,
    json       TEXT NOT NULL                  -- the whole TimelineEntry
  );
  CREATE INDEX timeline_session_pos ON timeline (session_id, pos);

  -- Unacked, unpurged agent messages. Clustered by (session_id, seq): listPending is one range scan.
  CREATE TABLE pending (
    session_id    TEXT NOT NULL REFERENCES sessions (id),
    seq           INTEGER NOT NULL,
    id            TEXT NOT NULL UNIQUE,
    expires_at_ms INTEGER NOT NULL,
    json          TEXT NOT NULL,              -- the whole AgentMessage
    PRIMARY KEY (session_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX pending_expires ON pending (expires_at_ms);

  CREATE TABLE idempotency (
    session_id    TEXT NOT NULL REFERENCES sessions (id),
    key           TEXT NOT NULL,
    id            TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (session_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX idempotency_expires ON idempotency (expires_at_ms);

  CREATE TABLE dead_letters (
    id   INTEGER PRIMARY KEY,                 -- insertion order: listed newest first
    at   TEXT NOT NULL,
    json TEXT NOT NULL                        -- the whole DeadLetter
  );
`,
  /*
   * 2: each agent message stored once. The timeline row of an agent message holds the message
   * itself (its entry is rebuilt on read), and a pending row points at it by `pos` instead of
   * holding a second copy; pending ids lose their index (acks find seqs in memory, see
   * pending-index.ts). Done in JavaScript so the JSON text is moved, never re-rendered.
   */
  (db) => {
    db.exec(`
      CREATE TABLE pending_v2 (
        session_id    TEXT NOT NULL REFERENCES sessions (id),
        seq           INTEGER NOT NULL,
        id            TEXT NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        pos           INTEGER NOT NULL,             -- the message's timeline row
        PRIMARY KEY (session_id, seq)
      ) WITHOUT ROWID;
    `);
    const rows = db
      .prepare<[], { pos: number; session_id: string; json: string }>(
        "SELECT pos, session_id, json FROM timeline WHERE kind = 'agent_message' ORDER BY pos",
      )
      .all();
    const rewrite = db.prepare<[string, number]>('UPDATE timeline SET json = ? WHERE pos = ?');
    const pendingOf = db.prepare<[string, number], { id: string; expires_at_ms: number }>(
      'SELECT id, expires_at_ms FROM pending WHERE session_id = ? AND seq = ?',
    );
    const insert = db.prepare<[string, number, string, number, number]>(
      'INSERT INTO pending_v2 (session_id, seq, id, expires_at_ms, pos) VALUES (?, ?, ?, ?, ?)',
    );
    for (const row of rows) {
      const entry = JSON.parse(row.json) as { message: { seq: number } };
      const message = JSON.stringify(entry.message);
      rewrite.run(message, row.pos);
      const pending = pendingOf.get(row.session_id, entry.message.seq);
      if (pending) insert.run(row.session_id, entry.message.seq, pending.id, pending.expires_at_ms, row.pos);
    }
    db.exec(`
      DROP TABLE pending;
      ALTER TABLE pending_v2 RENAME TO pending;
      CREATE INDEX pending_expires ON pending (expires_at_ms);
    `);
  },
  /*
   * 3: retention. Each session's last activity (epoch ms, the newest timestamp written to it)
   * and its timeline length, kept on every write, so idle sessions are an index range and a
   * trim needs no count. Existing sessions start from their newest timeline entry.
   */ `
  ALTER TABLE sessions ADD COLUMN last_active_ms INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE sessions ADD COLUMN entries INTEGER NOT NULL DEFAULT 0;
  UPDATE sessions SET
    entries = (SELECT count(*) FROM timeline WHERE session_id = sessions.id),
    last_active_ms = CAST(round((julianday(coalesce(
      (SELECT json_extract(json, '$.timestamp') FROM timeline
        WHERE session_id = sessions.id ORDER BY pos DESC LIMIT 1),
      created_at)) - 2440587.5) * 86400000) AS INTEGER);
  CREATE INDEX sessions_last_active ON sessions (last_active_ms);
`,
];

/** The schema version this Herald writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the file to SCHEMA_VERSION (or `target`, for tests of a migration) in one write
 * transaction; refuses a file from a newer Herald. The version is read inside the
 * transaction, so concurrent starts serialise.
 */
export function migrate(db: Database.Database, file: string, target = MIGRATIONS.length): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(
        `${file} has schema version ${version}; this Herald knows up to ${MIGRATIONS.length}: upgrade Herald`,
      );
    }
    for (const step of MIGRATIONS.slice(version, target)) {
      if (typeof step === 'string') db.exec(step);
      else step(db);
    }
    if (version < target) db.pragma(`user_version = ${target}`);
  }).immediate();
}
