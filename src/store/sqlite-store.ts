/**
 * The embedded store (the default): one SQLite file through better-sqlite3, written with
 * group commit (`sqlite/group-commit.ts`): the writes of one event-loop turn share one
 * transaction, and each promise resolves once its write is committed.
 *
 * Writes run one after another inside that transaction with no await in between, so
 * `appendAgentMessage` still takes its seq atomically and concurrent calls get distinct,
 * gap-free seqs. Reads run at once on committed state.
 *
 * Each agent message is stored once, as its timeline row; a pending row points at it. What is
 * pending per session is also known in memory (`sqlite/pending-index.ts`), so listing a session
 * with nothing pending, or acking by id, asks SQLite nothing it already knows.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { rememberJson } from '../agent-messages/message-json.js';
import type { AgentMessage } from '../agent-messages/types.js';
import { activityMs, timelineMax, trimSlack } from './limits.js';
import { SlidingWindows, takeWindow, windowKey, withSuppressed } from './rate-window.js';
import { DuplicateAdmissionError, deepFreeze, expiresAtMs, UnknownSessionError } from './shared.js';
import { Checkpointer, type CheckpointResult } from './sqlite/checkpointer.js';
import { lockDataFolder } from './sqlite/folder-lock.js';
import { GroupCommit } from './sqlite/group-commit.js';
import { migrate } from './sqlite/migrations.js';
import { type PendingEntry, PendingIndex, type PendingIndexOptions } from './sqlite/pending-index.js';
import type {
  AdmitOptions,
  AgentMessageDraft,
  DeadLetter,
  DeletedSession,
  IdempotencyRecord,
  Session,
  Store,
  StoreLimits,
  TimelineEntry,
} from './store.js';

export interface SqliteStoreOptions extends StoreLimits {
  /** The database file; its folder is created when missing. */
  file: string;
  /** Milliseconds a statement waits for another connection's lock before failing. Default 5,000. */
  busyTimeoutMs?: number;
  /** Bounds of what is kept in memory about pending messages (tests make them small). */
  pendingIndex?: PendingIndexOptions;
  /** Told the size of each committed batch of writes (metrics). */
  onCommit?: (writes: number) => void;
  /**
   * Milliseconds between WAL checkpoints run by a worker thread (`sqlite/checkpointer.ts`);
   * 0 leaves them to SQLite's automatic checkpoint on the event loop. Default 1,000.
   */
  checkpointIntervalMs?: number;
  /** Told when the checkpoint worker fails (logs). */
  onCheckpointError?: (err: unknown) => void;
  /** Told after each checkpoint of the worker. */
  onCheckpoint?: (result: CheckpointResult) => void;
}

/** What the -wal file is cut back to after a checkpoint. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** The index of the timeline's statement in `sql.deleteSession`. */
const TIMELINE_STATEMENT = 2;
/** Pages returned to the file system per reclaimSpace call (4 KiB each: 4 MiB). */
const RECLAIM_PAGES = 1_000;

/**
 * Turns on incremental auto-vacuum. A new file takes it before its first table; an existing
 * file without it is rebuilt by VACUUM, once (it takes as long as copying the file).
 */
function reclaimable(db: Database.Database, file: string): void {
  if (db.pragma('auto_vacuum', { simple: true }) === 2) return;
  db.pragma('auto_vacuum = INCREMENTAL');
  const tables = db
    .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
    .pluck()
    .get() as number;
  if (tables > 0) {
    process.emitWarning(`${file}: rebuilding once (VACUUM) so that freed space can be reused`);
    db.exec('VACUUM');
  }
}

/** The automatic checkpoint threshold (pages) while the worker checkpoints: a safety net only. */
const SAFETY_NET_CHECKPOINT_PAGES = 10_000;

/** Opens (creating or migrating when needed) the SQLite store at `options.file`. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  fs.mkdirSync(path.dirname(options.file), { recursive: true });
  // One Herald per data folder: taken before the file is opened, held until the store closes.
  const folder = lockDataFolder(path.dirname(options.file));
  let db: Database.Database;
  try {
    db = new Database(options.file);
  } catch (err) {
    folder.release();
    throw err;
  }
  try {
    // WAL: readers never block the writer nor the writer readers, and a commit appends to the
    // log instead of rewriting pages. With synchronous=NORMAL a commit does not wait for fsync
    // (only checkpoints do): a power cut may lose the last commits but never corrupts the
    // file, the usual trade for a chat store. https://www.sqlite.org/wal.html
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    db.pragma('foreign_keys = ON');
    // Pages freed by deletions (retention, erased sessions) go back to the file system a little
    // at a time (reclaimSpace); a file made before this is rebuilt once to allow it.
    reclaimable(db, options.file);
    // After a checkpoint the write-ahead log is cut back to this size, so a burst of writes does
    // not leave a large -wal file behind.
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    migrate(db, options.file);
  } catch (err) {
    db.close();
    folder.release();
    throw err;
  }
  const intervalMs = options.checkpointIntervalMs ?? 1000;
  let checkpointer: Checkpointer | undefined;
  if (intervalMs > 0) {
    db.pragma(`wal_autocheckpoint = ${SAFETY_NET_CHECKPOINT_PAGES}`);
    checkpointer = new Checkpointer({
      file: options.file,
      intervalMs,
      onError: options.onCheckpointError,
      onCheckpoint: options.onCheckpoint,
    });
  }
  const store = sqliteStore(db, options, checkpointer);
  const closeStore = store.close.bind(store);
  store.close = async () => {
    try {
      await closeStore();
    } finally {
      folder.release();
    }
  };
  return store;
}

interface SessionRow {
  id: string;
  owner: string;
  created_at: string;
}

interface PendingRow {
  id: string;
  seq: number;
  expires_at_ms: number;
}

/** Sessions kept in memory (first in, first out): they never change once made. */
const SESSION_CACHE_SIZE = 50_000;

const toSession = (row: SessionRow): Session =>
  Object.freeze({ id: row.id, owner: row.owner, createdAt: row.created_at });
const parseAll = <T>(rows: string[]): T[] => rows.map((json) => JSON.parse(json) as T);
/** Messages read from their stored text, which stays theirs (message-json.ts). */
const parseMessages = (rows: string[]): AgentMessage[] =>
  rows.map((json) => rememberJson(JSON.parse(json) as AgentMessage, json));

/** A timeline row as the entry it stands for: agent message rows hold the message alone. */
function toEntry(row: { kind: string; json: string }): TimelineEntry {
  if (row.kind !== 'agent_message') return JSON.parse(row.json) as TimelineEntry;
  const message = JSON.parse(row.json) as AgentMessage;
  return { kind: 'agent_message', message, timestamp: message.timestamp };
}

function sqliteStore(
  db: Database.Database,
  options: SqliteStoreOptions,
  checkpointer: Checkpointer | undefined,
): Store {
  const sessionColumns = 'id, owner, created_at';
  const pendingIndex = new PendingIndex(options.pendingIndex);
  // Sessions never change once made, so the ones in use are read from the file once.
  const sessions = new Map<string, Session>();
  const rememberSession = (session: Session): Session => {
    if (sessions.size >= SESSION_CACHE_SIZE) sessions.delete(sessions.keys().next().value!);
    sessions.set(session.id, session);
    return session;
  };
  const writes = new GroupCommit(db, { onCommit: options.onCommit });
  // One process owns the file, so the rate windows can live in it (lost on restart: a
  // restarted Herald starts every window empty).
  const windows = new SlidingWindows();
  // Statements are prepared once. Id lists are bound as one JSON array read by json_each, so
  // one statement serves any length and SQLite's bound-variable limit never applies.
  const sql = {
    insertSession: db.prepare<[string, string, string, string | null, number]>(
      'INSERT INTO sessions (id, owner, created_at, chat_key, last_active_ms) VALUES (?, ?, ?, ?, ?)',
    ),
    getSession: db.prepare<[string], SessionRow>(`SELECT ${sessionColumns} FROM sessions WHERE id = ?`),
    findByChatKey: db.prepare<[string, string], SessionRow>(
      `SELECT ${sessionColumns} FROM sessions WHERE owner = ? AND chat_key = ?`,
    ),
    listSessionIds: db
      .prepare<[string], string>('SELECT id FROM sessions WHERE owner = ? ORDER BY created_at, rowid')
      .pluck(),
    nextSeq: db.prepare<[number, string], { last_seq: number; entries: number }>(
      `UPDATE sessions SET last_seq = last_seq + 1, entries = entries + 1,
          last_active_ms = max(last_active_ms, ?) WHERE id = ? RETURNING last_seq, entries`,
    ),
    /** A timeline write: the session's activity and length; no row means no such session. */
    touchWrite: db
      .prepare<[number, string], number>(
        `UPDATE sessions SET entries = entries + 1, last_active_ms = max(last_active_ms, ?)
          WHERE id = ? RETURNING entries`,
      )
      .pluck(),
    // Keeps the newest `keep` entries, and older ones a pending message still points at.
    trimTimeline: db.prepare<{ id: string; offset: number }>(
      `DELETE FROM timeline WHERE session_id = :id
        AND pos < (SELECT pos FROM timeline WHERE session_id = :id ORDER BY pos DESC LIMIT 1 OFFSET :offset)
        AND pos NOT IN (SELECT pos FROM pending WHERE session_id = :id)`,
    ),
    recount: db.prepare<[string, string]>(
      'UPDATE sessions SET entries = (SELECT count(*) FROM timeline WHERE session_id = ?) WHERE id = ?',
    ),
    idleSessions: db
      .prepare<[number, number], string>(
        'SELECT id FROM sessions WHERE last_active_ms < ? ORDER BY last_active_ms LIMIT ?',
      )
      .pluck(),
    lastActive: db.prepare<[string], number>('SELECT last_active_ms FROM sessions WHERE id = ?').pluck(),
    touchSessions: db.prepare<[number, string]>(
      'UPDATE sessions SET last_active_ms = max(last_active_ms, ?) WHERE id IN (SELECT value FROM json_each(?))',
    ),
    insertTimeline: db.prepare<[string, TimelineEntry['kind'], string]>(
      'INSERT INTO timeline (session_id, kind, json) VALUES (?, ?, ?)',
    ),
    readTimeline: db.prepare<[string], { kind: string; json: string }>(
      'SELECT kind, json FROM timeline WHERE session_id = ? ORDER BY pos',
    ),
    readTimelineTail: db.prepare<[string, number], { kind: string; json: string }>(
      `SELECT kind, json FROM (SELECT pos, kind, json FROM timeline WHERE session_id = ? ORDER BY pos DESC LIMIT ?)
          ORDER BY pos`,
    ),
    insertPending: db.prepare<[string, number, string, number, number | bigint]>(
      'INSERT INTO pending (session_id, seq, id, expires_at_ms, pos) VALUES (?, ?, ?, ?, ?)',
    ),
    loadPending: db.prepare<[string, number], PendingRow>(
      'SELECT id, seq, expires_at_ms FROM pending WHERE session_id = ? ORDER BY seq LIMIT ?',
    ),
    listPending: db
      .prepare<[string, number, number, number], string>(
        `SELECT t.json FROM pending p JOIN timeline t ON t.pos = p.pos
          WHERE p.session_id = ? AND p.seq > ? AND p.expires_at_ms > ?
          ORDER BY p.seq
          LIMIT ?`,
      )
      .pluck(),
    pendingIds: db
      .prepare<[string, string], string>(
        'SELECT id FROM pending WHERE session_id = ? AND id IN (SELECT value FROM json_each(?))',
      )
      .pluck(),
    ackSeq: db.prepare<[string, number]>('DELETE FROM pending WHERE session_id = ? AND seq = ?'),
    ackIds: db
      .prepare<[string, string], string>(
        'DELETE FROM pending WHERE session_id = ? AND id IN (SELECT value FROM json_each(?)) RETURNING id',
      )
      .pluck(),
    purgePending: db.prepare<[number], { session_id: string; id: string; json: string }>(
      `DELETE FROM pending WHERE expires_at_ms <= ?
        RETURNING session_id, id, (SELECT json FROM timeline WHERE timeline.pos = pending.pos) AS json`,
    ),
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
    // `at` is an ISO 8601 instant in UTC (toISOString), so text order is time order.
    pruneDeadLetters: db.prepare<[string]>('DELETE FROM dead_letters WHERE at < ?'),
    // TIMELINE_STATEMENT is the timeline's, whose count is reported.
    deleteSession: [
      'DELETE FROM pending WHERE session_id = ?',
      'DELETE FROM idempotency WHERE session_id = ?',
      'DELETE FROM timeline WHERE session_id = ?',
      "DELETE FROM dead_letters WHERE json_extract(json, '$.message.sessionId') = ?",
    ].map((text) => db.prepare<[string]>(text)),
    deleteSessionRow: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),
  };

  /** The session's pending index, loaded from the file when not held; undefined: ask the file. */
  const pendingOf = (sessionId: string) =>
    pendingIndex.get(sessionId, () =>
      sql.loadPending
        .all(sessionId, pendingIndex.maxPerSession + 1)
        .map(
          (r): PendingEntry => ({ id: r.id, seq: r.seq, expiresAtMs: r.expires_at_ms, message: undefined }),
        ),
    );

  const createSession = (session: Session, chatKey: string | undefined): Session => {
    if (chatKey !== undefined) {
      const earlier = sql.findByChatKey.get(session.owner, chatKey);
      if (earlier) return toSession(earlier);
    }
    sql.insertSession.run(
      session.id,
      session.owner,
      session.createdAt,
      chatKey ?? null,
      activityMs(session.createdAt),
    );
    return Object.freeze({ id: session.id, owner: session.owner, createdAt: session.createdAt });
  };

  interface Admitted {
    message: AgentMessage;
    pending: PendingEntry | undefined;
  }
  // No savepoint is needed for the seq, the timeline row, the pending row and the key to stand
  // or fall together: once the seq is taken (the session exists), none of the rest can fail
  // on its own; only an I/O failure can, and that ends the whole batch's transaction.
  const appendAgentMessage = (
    draft: AgentMessageDraft,
    pending: boolean,
    expiry: number,
    admit: AdmitOptions | undefined,
  ): Admitted => {
    const key = admit?.idempotency;
    if (key) {
      const prior = sql.getIdempotency.get(draft.sessionId, key.key, key.nowMs);
      if (prior) throw new DuplicateAdmissionError({ id: prior.id, seq: prior.seq });
    }
    let suppressed = 0;
    if (admit?.rateWindow) {
      // Only a session that exists counts against a window.
      if (!sessions.has(draft.sessionId) && !sql.getSession.get(draft.sessionId))
        throw new UnknownSessionError(draft.sessionId);
      suppressed = takeWindow(windows, draft, admit.rateWindow);
    }
    const taken = sql.nextSeq.get(activityMs(draft.timestamp), draft.sessionId);
    if (taken === undefined) throw new UnknownSessionError(draft.sessionId);
    const seq = taken.last_seq;
    // Its own copy: a draft's `data` stays the caller's (the message is kept in memory, frozen).
    const message: AgentMessage = { ...withSuppressed(draft, suppressed), seq };
    if (message.data !== undefined) message.data = structuredClone(message.data);
    const json = JSON.stringify(message);
    const { lastInsertRowid } = sql.insertTimeline.run(draft.sessionId, 'agent_message', json);
    let entry: PendingEntry | undefined;
    if (pending) {
      sql.insertPending.run(draft.sessionId, seq, message.id, expiry, lastInsertRowid);
      entry = { id: message.id, seq, expiresAtMs: expiry, message: deepFreeze(message) };
    }
    if (key) sql.putIdempotency.run(draft.sessionId, key.key, message.id, seq, key.expiresAtMs);
    trimIfLong(draft.sessionId, taken.entries);
    return { message: rememberJson(entry?.message ?? message, json), pending: entry };
  };

  const maxEntries = timelineMax(options);
  const slack = trimSlack(maxEntries);
  /** Drops the oldest entries once the session holds the limit plus its slack. */
  const trimIfLong = (sessionId: string, entries: number): void => {
    if (entries < maxEntries + slack) return;
    const { changes } = sql.trimTimeline.run({ id: sessionId, offset: maxEntries - 1 });
    sql.recount.run(sessionId, sessionId);
    if (changes > 0) trimmed += changes;
  };
  // Told after the commit, in one call per batch.
  let trimmed = 0;
  const reportTrimmed = (): void => {
    if (trimmed > 0) options.onTimelineTrimmed?.(trimmed);
    trimmed = 0;
  };

  const purgeExpired = (nowMs: number) => {
    windows.prune(nowMs);
    const purged = sql.purgePending.all(nowMs);
    sql.purgeIdempotency.run(nowMs);
    return purged;
  };

  return {
    writesInOrder: true,
    createSession(session, chatKey) {
      return writes.write(
        () => createSession(session, chatKey),
        (made) => {
          if (made.id !== session.id) return;
          pendingIndex.created(made.id);
          rememberSession(made);
        },
      );
    },

    async getSession(id) {
      const known = sessions.get(id);
      if (known) return known;
      const row = sql.getSession.get(id);
      return row && rememberSession(toSession(row));
    },

    async findSessionByChatKey(owner, chatKey) {
      const row = sql.findByChatKey.get(owner, chatKey);
      return row && toSession(row);
    },

    async listSessionIds(owner) {
      return sql.listSessionIds.all(owner);
    },

    async appendTimeline(sessionId, entry) {
      const json = JSON.stringify(entry);
      await writes.write(() => {
        const entries = sql.touchWrite.get(activityMs(entry.timestamp), sessionId);
        if (entries === undefined) throw new UnknownSessionError(sessionId);
        sql.insertTimeline.run(sessionId, entry.kind, json);
        trimIfLong(sessionId, entries);
      }, reportTrimmed);
    },

    async readTimeline(sessionId, last) {
      // Never more than the limit, whether or not the session was trimmed yet.
      const n = Math.min(last ?? Number.POSITIVE_INFINITY, maxEntries);
      if (!Number.isFinite(n)) return sql.readTimeline.all(sessionId).map(toEntry);
      return n < 1 ? [] : sql.readTimelineTail.all(sessionId, n).map(toEntry);
    },

    async appendAgentMessage(draft, pending, admit) {
      const expiry = expiresAtMs(draft);
      const admitted = await writes.write(
        () => appendAgentMessage(draft, pending, expiry, admit),
        (done) => {
          if (done.pending) pendingIndex.added(draft.sessionId, done.pending);
          reportTrimmed();
        },
      );
      return admitted.message;
    },

    async listPending(sessionId, afterSeq, limit, nowMs) {
      if (limit < 1) return [];
      const held = pendingOf(sessionId);
      if (held) {
        // From memory when every message to list is there; otherwise one read fills it in.
        const out: AgentMessage[] = [];
        let complete = true;
        for (const entry of held.values()) {
          if (entry.seq <= afterSeq || entry.expiresAtMs <= nowMs) continue;
          if (!entry.message) {
            complete = false;
            break;
          }
          out.push(entry.message);
          if (out.length >= limit) break;
        }
        if (complete) return out;
      }
      // A negative LIMIT means "no limit" to SQLite.
      const read = parseMessages(sql.listPending.all(sessionId, afterSeq, nowMs, limit));
      if (!held) return read;
      return read.map((message) => {
        const entry = held.get(message.id);
        if (!entry) return message;
        entry.message ??= deepFreeze(message);
        return entry.message;
      });
    },

    async pendingIds(sessionId, ids) {
      if (ids.length === 0) return new Set();
      const held = pendingOf(sessionId);
      if (!held) return new Set(sql.pendingIds.all(sessionId, JSON.stringify(ids)));
      const found = new Set<string>();
      for (const id of ids) if (held.has(id)) found.add(id);
      return found;
    },

    async ack(sessionId, ids) {
      if (ids.length === 0) return 0;
      const held = pendingOf(sessionId);
      if (held) {
        // Each pending id's seq is known: delete by the table's key, and skip the write
        // altogether when nothing named is pending (a repeated ack).
        const seqs = new Map<string, number>();
        for (const id of ids) {
          const entry = held.get(id);
          if (entry) seqs.set(id, entry.seq);
        }
        if (seqs.size === 0) return 0;
        return writes.write(
          () => {
            let n = 0;
            for (const seq of seqs.values()) n += sql.ackSeq.run(sessionId, seq).changes;
            return n;
          },
          () => pendingIndex.removed(sessionId, seqs.keys()),
        );
      }
      const acked = await writes.write(() => sql.ackIds.all(sessionId, JSON.stringify(ids)));
      return acked.length;
    },

    async countPending() {
      return sql.countPending.get() ?? 0;
    },

    async purgeExpired(nowMs) {
      const purged = await writes.write(
        () => purgeExpired(nowMs),
        (rows) => {
          for (const row of rows) pendingIndex.removed(row.session_id, [row.id]);
        },
      );
      return purged.map((row) => JSON.parse(row.json) as AgentMessage);
    },

    async getIdempotency(sessionId, key, nowMs) {
      const row = sql.getIdempotency.get(sessionId, key, nowMs);
      return row && { id: row.id, seq: row.seq };
    },

    async pruneDeadLetters(beforeMs) {
      const done = await writes.write(() => sql.pruneDeadLetters.run(new Date(beforeMs).toISOString()));
      return done.changes;
    },

    // One transaction, so nothing half deleted is ever read (and a crash leaves it whole); its
    // size is bounded by the timeline limit.
    async deleteSession(id, options) {
      return writes.write(
        (): DeletedSession | undefined => {
          const active = sql.lastActive.get(id);
          if (active === undefined) return undefined;
          if (options?.idleBeforeMs !== undefined && active >= options.idleBeforeMs) return undefined;
          let entries = 0;
          for (const [i, statement] of sql.deleteSession.entries()) {
            const { changes } = statement.run(id);
            if (i === TIMELINE_STATEMENT) entries = changes;
          }
          sql.deleteSessionRow.run(id);
          return { entries };
        },
        (deleted) => {
          if (!deleted) return;
          pendingIndex.deleted(id);
          sessions.delete(id);
          windows.forget(windowKey(id, ''));
        },
      );
    },

    async listIdleSessions(beforeMs, limit) {
      return limit < 1 ? [] : sql.idleSessions.all(beforeMs, Math.floor(limit));
    },

    async touchSessions(ids, nowMs) {
      if (ids.length === 0) return;
      await writes.write(() => sql.touchSessions.run(nowMs, JSON.stringify(ids)));
    },

    async reclaimSpace() {
      const before = db.pragma('freelist_count', { simple: true }) as number;
      if (before === 0) return 0;
      await writes.write(() => db.pragma(`incremental_vacuum(${RECLAIM_PAGES})`));
      return before - (db.pragma('freelist_count', { simple: true }) as number);
    },

    async addDeadLetter(letter: DeadLetter) {
      const json = JSON.stringify(letter);
      await writes.write(() => sql.addDeadLetter.run(letter.at, json));
    },

    async listDeadLetters(limit) {
      if (limit < 1) return [];
      return parseAll<DeadLetter>(sql.listDeadLetters.all(limit));
    },

    async close() {
      if (!db.open) return;
      // What was asked for before close is committed, not dropped.
      writes.flushNow();
      pendingIndex.clear();
      sessions.clear();
      await checkpointer?.stop();
      if (db.open) db.close();
    },
  };
}
