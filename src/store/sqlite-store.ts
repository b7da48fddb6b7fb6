/**
 * The embedded store (the default): one SQLite file through better-sqlite3.
 *
 * better-sqlite3 is synchronous, so every method runs to completion before another starts
 * in this process: `appendAgentMessage` takes its seq inside one transaction with no await
 * in between, and concurrent calls still get distinct, gap-free seqs.
 *
 * Each message is serialized once on admission; the same JSON text goes into the timeline
 * (inside the entry) and the delivery store, and is parsed only when read.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AgentMessage } from '../agent-messages/types.js';
import { expiresAtMs, UnknownSessionError } from './shared.js';
import type {
  AgentMessageDraft,
  DeadLetter,
  IdempotencyRecord,
  Session,
  Store,
  TimelineEntry,
} from './store.js';

export interface SqliteStoreOptions {
  /** The database file; its folder is created when missing. */
  file: string;
  /** Milliseconds a statement waits for another connection's lock before failing. Default 5,000. */
  busyTimeoutMs?: number;
}

/**
 * Schema migrations, in order: `MIGRATIONS[n]` takes the file from `user_version` n to n + 1.
 * Append new ones; never edit one that has shipped.
 */
const MIGRATIONS: readonly string[] = [
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
];

/** Opens (creating or migrating when needed) the SQLite store at `options.file`. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  fs.mkdirSync(path.dirname(options.file), { recursive: true });
  const db = new Database(options.file);
  try {
    // WAL: readers never block the writer nor the writer readers, and a commit appends to the
    // log instead of rewriting pages. With synchronous=NORMAL a commit does not wait for fsync
    // (only checkpoints do): a power cut may lose the last commits but never corrupts the
    // file, the usual trade for a chat store. https://www.sqlite.org/wal.html
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    db.pragma('foreign_keys = ON');
    migrate(db, options.file);
  } catch (err) {
    db.close();
    throw err;
  }
  return sqliteStore(db);
}

function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(
      `${file} has schema version ${version}; this Herald knows up to ${MIGRATIONS.length}: upgrade Herald`,
    );
  }
  db.transaction(() => {
    for (const sql of MIGRATIONS.slice(version)) db.exec(sql);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

interface SessionRow {
  id: string;
  owner: string;
  created_at: string;
}

const toSession = (row: SessionRow): Session => ({ id: row.id, owner: row.owner, createdAt: row.created_at });
const parseAll = <T>(rows: string[]): T[] => rows.map((json) => JSON.parse(json) as T);

function sqliteStore(db: Database.Database): Store {
  const sessionColumns = 'id, owner, created_at';
  // Statements are prepared once. Id lists are bound as one JSON array read by json_each, so
  // one statement serves any length and SQLite's bound-variable limit never applies. The `+`
  // in `+session_id` keeps the planner on the unique id index (a probe per named id) rather
  // than walking every pending row of the session.
  const sql = {
    insertSession: db.prepare<[string, string, string, string | null]>(
      'INSERT INTO sessions (id, owner, created_at, chat_key) VALUES (?, ?, ?, ?)',
    ),
    getSession: db.prepare<[string], SessionRow>(`SELECT ${sessionColumns} FROM sessions WHERE id = ?`),
    findByChatKey: db.prepare<[string, string], SessionRow>(
      `SELECT ${sessionColumns} FROM sessions WHERE owner = ? AND chat_key = ?`,
    ),
    listSessionIds: db
      .prepare<[string], string>('SELECT id FROM sessions WHERE owner = ? ORDER BY created_at, rowid')
      .pluck(),
    nextSeq: db
      .prepare<[string], number>(
        'UPDATE sessions SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq',
      )
      .pluck(),
    insertTimeline: db.prepare<[string, TimelineEntry['kind'], string]>(
      'INSERT INTO timeline (session_id, kind, json) VALUES (?, ?, ?)',
    ),
    readTimeline: db
      .prepare<[string], string>('SELECT json FROM timeline WHERE session_id = ? ORDER BY pos')
      .pluck(),
    readTimelineTail: db
      .prepare<[string, number], string>(
        `SELECT json FROM (SELECT pos, json FROM timeline WHERE session_id = ? ORDER BY pos DESC LIMIT ?)
          ORDER BY pos`,
      )
      .pluck(),
    insertPending: db.prepare<[string, number, string, number, string]>(
      'INSERT INTO pending (session_id, seq, id, expires_at_ms, json) VALUES (?, ?, ?, ?, ?)',
    ),
    listPending: db
      .prepare<[string, number, number, number], string>(
        `SELECT json FROM pending
          WHERE session_id = ? AND seq > ? AND expires_at_ms > ?
          ORDER BY seq
          LIMIT ?`,
      )
      .pluck(),
    pendingIds: db
      .prepare<[string, string], string>(
        'SELECT id FROM pending WHERE +session_id = ? AND id IN (SELECT value FROM json_each(?))',
      )
      .pluck(),
    ack: db.prepare<[string, string]>(
      'DELETE FROM pending WHERE +session_id = ? AND id IN (SELECT value FROM json_each(?))',
    ),
    purgePending: db
      .prepare<[number], string>('DELETE FROM pending WHERE expires_at_ms <= ? RETURNING json')
      .pluck(),
    countPending: db.prepare<[], number>('SELECT count(*) FROM pending').pluck(),
    purgeIdempotency: db.prepare<[number]>('DELETE FROM idempotency WHERE expires_at_ms <= ?'),
    getIdempotency: db.prepare<[string, string, number], IdempotencyRecord>(
      'SELECT id, seq FROM idempotency WHERE session_id = ? AND key = ? AND expires_at_ms > ?',
    ),
    putIdempotency: db.prepare<[string, string, string, number, number]>(
      `INSERT INTO idempotency (session_id, key, id, seq, expires_at_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (session_id, key) DO UPDATE
         SET id = excluded.id, seq = excluded.seq, expires_at_ms = excluded.expires_at_ms`,
    ),
    addDeadLetter: db.prepare<[string, string]>('INSERT INTO dead_letters (at, json) VALUES (?, ?)'),
    listDeadLetters: db
      .prepare<[number], string>('SELECT json FROM dead_letters ORDER BY id DESC LIMIT ?')
      .pluck(),
  };

  const createSession = db.transaction((session: Session, chatKey: string | undefined): Session => {
    if (chatKey !== undefined) {
      const earlier = sql.findByChatKey.get(session.owner, chatKey);
      if (earlier) return toSession(earlier);
    }
    sql.insertSession.run(session.id, session.owner, session.createdAt, chatKey ?? null);
    return { id: session.id, owner: session.owner, createdAt: session.createdAt };
  });

  const appendAgentMessage = db.transaction((draft: AgentMessageDraft, pending: boolean, expiry: number) => {
    const seq = sql.nextSeq.get(draft.sessionId);
    if (seq === undefined) throw new UnknownSessionError(draft.sessionId);
    const message: AgentMessage = { ...draft, seq };
    const json = JSON.stringify(message);
    // The timeline entry wraps the same JSON text rather than serializing the message twice.
    const entry = `{"kind":"agent_message","message":${json},"timestamp":${JSON.stringify(message.timestamp)}}`;
    sql.insertTimeline.run(draft.sessionId, 'agent_message', entry);
    if (pending) sql.insertPending.run(draft.sessionId, seq, message.id, expiry, json);
    return message;
  });

  const purgeExpired = db.transaction((nowMs: number): AgentMessage[] => {
    const purged = sql.purgePending.all(nowMs);
    sql.purgeIdempotency.run(nowMs);
    return parseAll<AgentMessage>(purged);
  });

  /** Runs a write that names a session, turning the foreign key failure into UnknownSessionError. */
  const inSession = <T>(sessionId: string, write: () => T): T => {
    try {
      return write();
    } catch (err) {
      if (err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new UnknownSessionError(sessionId);
      }
      throw err;
    }
  };

  return {
    async createSession(session, chatKey) {
      return createSession(session, chatKey);
    },

    async getSession(id) {
      const row = sql.getSession.get(id);
      return row && toSession(row);
    },

    async findSessionByChatKey(owner, chatKey) {
      const row = sql.findByChatKey.get(owner, chatKey);
      return row && toSession(row);
    },

    async listSessionIds(owner) {
      return sql.listSessionIds.all(owner);
    },

    async appendTimeline(sessionId, entry) {
      inSession(sessionId, () => sql.insertTimeline.run(sessionId, entry.kind, JSON.stringify(entry)));
    },

    async readTimeline(sessionId, last) {
      if (last === undefined) return parseAll<TimelineEntry>(sql.readTimeline.all(sessionId));
      // A negative LIMIT means "no limit" to SQLite.
      return last < 1 ? [] : parseAll<TimelineEntry>(sql.readTimelineTail.all(sessionId, last));
    },

    async appendAgentMessage(draft, pending) {
      return appendAgentMessage(draft, pending, expiresAtMs(draft));
    },

    async listPending(sessionId, afterSeq, limit, nowMs) {
      // A negative LIMIT means "no limit" to SQLite.
      if (limit < 1) return [];
      return parseAll<AgentMessage>(sql.listPending.all(sessionId, afterSeq, nowMs, limit));
    },

    async pendingIds(sessionId, ids) {
      if (ids.length === 0) return new Set();
      return new Set(sql.pendingIds.all(sessionId, JSON.stringify(ids)));
    },

    async ack(sessionId, ids) {
      if (ids.length === 0) return 0;
      return sql.ack.run(sessionId, JSON.stringify(ids)).changes;
    },

    async countPending() {
      return sql.countPending.get() ?? 0;
    },

    async purgeExpired(nowMs) {
      return purgeExpired(nowMs);
    },

    async getIdempotency(sessionId, key, nowMs) {
      const row = sql.getIdempotency.get(sessionId, key, nowMs);
      return row && { id: row.id, seq: row.seq };
    },

    async putIdempotency(sessionId, key, record, expiresAtMs) {
      inSession(sessionId, () => sql.putIdempotency.run(sessionId, key, record.id, record.seq, expiresAtMs));
    },

    async addDeadLetter(letter: DeadLetter) {
      sql.addDeadLetter.run(letter.at, JSON.stringify(letter));
    },

    async listDeadLetters(limit) {
      if (limit < 1) return [];
      return parseAll<DeadLetter>(sql.listDeadLetters.all(limit));
    },

    async close() {
      if (db.open) db.close();
    },
  };
}
