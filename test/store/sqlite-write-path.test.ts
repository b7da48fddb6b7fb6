/**
 * The SQLite store's write path: group commit (one transaction per event-loop turn, each
 * caller resolved after the commit) and the migration to one copy of each agent message.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { migrate, SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import { draft, iso, newSession, T0 } from './conformance.js';

const tempDirs: string[] = [];
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-write-'));
  tempDirs.push(dir);
  return path.join(dir, 'herald.db');
}
afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('group commit', () => {
  it('commits the writes of one turn together, and each is on disk when it resolves', async () => {
    const file = tempFile();
    const batches: number[] = [];
    const store = createSqliteStore({ file, onCommit: (n) => batches.push(n) });
    const other = new Database(file, { readonly: true });
    try {
      const s = newSession();
      await store.createSession(s);
      batches.length = 0;
      const made = await Promise.all(
        Array.from({ length: 30 }, () => store.appendAgentMessage(draft(s.id), true)),
      );
      expect(batches).toEqual([30]);
      expect(made.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      // Another connection sees every one of them: resolved means committed.
      expect(other.prepare('SELECT count(*) AS n FROM pending').get()).toEqual({ n: 30 });
    } finally {
      other.close();
      await store.close();
    }
  });

  it('splits a turn with more writes than one batch takes, keeping their order', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (n INTEGER)');
    const batches: number[] = [];
    const writes = new GroupCommit(db, { maxBatch: 4, onCommit: (n) => batches.push(n) });
    const insert = db.prepare<[number]>('INSERT INTO t (n) VALUES (?)');
    await Promise.all(Array.from({ length: 10 }, (_, i) => writes.write(() => insert.run(i))));
    expect(batches).toEqual([4, 4, 2]);
    expect(db.prepare('SELECT n FROM t ORDER BY rowid').pluck().all()).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    db.close();
  });

  it('fails every write of a batch whose commit fails, and none of them stands', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (n INTEGER)');
    const writes = new GroupCommit(db);
    const insert = db.prepare<[number]>('INSERT INTO t (n) VALUES (?)');
    const first = writes.write(() => insert.run(1));
    // A write that ends the transaction itself, as an I/O error would.
    const breaking = writes.write(() => {
      db.exec('ROLLBACK');
      throw new Error('disk I/O error');
    });
    const third = writes.write(() => insert.run(3));
    const settled = await Promise.allSettled([first, breaking, third]);
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(0);
    // The next turn works again.
    await writes.write(() => insert.run(4));
    expect(db.prepare('SELECT n FROM t').pluck().all()).toEqual([4]);
    db.close();
  });

  it('commits what was asked for before close', async () => {
    const file = tempFile();
    const store = createSqliteStore({ file });
    const s = newSession();
    await store.createSession(s);
    const asked = store.appendTimeline(s.id, { kind: 'user', id: 'm_1', text: 'kept', timestamp: iso(T0) });
    await store.close();
    await asked;
    const again = createSqliteStore({ file });
    expect(await again.readTimeline(s.id)).toHaveLength(1);
    await again.close();
  });
});

describe('migration 2: one copy of each agent message', () => {
  it('moves a version 1 file over, keeping timelines, pending messages and seqs', async () => {
    const file = tempFile();
    const v1 = new Database(file);
    migrate(v1, file, 1);
    const s = newSession();
    const m1 = { ...draft(s.id), seq: 1, data: { ratio: 0.1, nested: { n: 1.5e-7 } } };
    const m2 = { ...draft(s.id), seq: 2 };
    v1.prepare('INSERT INTO sessions (id, owner, created_at, last_seq) VALUES (?, ?, ?, 2)').run(
      s.id,
      s.owner,
      s.createdAt,
    );
    const timeline = v1.prepare('INSERT INTO timeline (session_id, kind, json) VALUES (?, ?, ?)');
    const pending = v1.prepare(
      'INSERT INTO pending (session_id, seq, id, expires_at_ms, json) VALUES (?, ?, ?, ?, ?)',
    );
    const user = { kind: 'user', id: 'm_1', text: 'hi', timestamp: iso(T0) };
    timeline.run(s.id, 'user', JSON.stringify(user));
    for (const m of [m1, m2]) {
      timeline.run(
        s.id,
        'agent_message',
        JSON.stringify({ kind: 'agent_message', message: m, timestamp: m.timestamp }),
      );
    }
    // m1 acked before the upgrade; m2 still pending.
    pending.run(s.id, 2, m2.id, Date.parse(m2.expiresAt), JSON.stringify(m2));
    v1.close();

    const store = createSqliteStore({ file });
    try {
      expect(await store.readTimeline(s.id)).toEqual([
        user,
        { kind: 'agent_message', message: m1, timestamp: m1.timestamp },
        { kind: 'agent_message', message: m2, timestamp: m2.timestamp },
      ]);
      expect(await store.listPending(s.id, 0, 10, T0)).toEqual([m2]);
      // Migration 3: the session's activity is its newest entry's time.
      expect(await store.listIdleSessions(T0, 10)).toEqual([]);
      expect(await store.listIdleSessions(T0 + 1, 10)).toEqual([s.id]);
      expect(await store.ack(s.id, [m1.id, m2.id])).toBe(1);
      expect((await store.appendAgentMessage(draft(s.id), true)).seq).toBe(3);
    } finally {
      await store.close();
    }
    const peek = new Database(file, { readonly: true });
    expect(peek.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    // Rebuilt once so that space freed by deletions can be given back.
    expect(peek.pragma('auto_vacuum', { simple: true })).toBe(2);
    peek.close();
  });
});

describe('WAL checkpoints in a worker thread', () => {
  it('checkpoints the whole log off the event loop', async () => {
    const file = tempFile();
    const results: Array<{ log: number; checkpointed: number }> = [];
    let wake: (() => void) | undefined;
    const store = createSqliteStore({
      file,
      checkpointIntervalMs: 5,
      onCheckpoint: (r) => {
        results.push(r);
        wake?.();
      },
    });
    try {
      const s = newSession();
      await store.createSession(s);
      const text = 'x'.repeat(2000);
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.appendTimeline(s.id, { kind: 'user', id: `m_${i}`, text, timestamp: iso(T0) }),
        ),
      );
      // Wait for the checkpoint that copied a log holding those pages into the database.
      while (!results.some((r) => r.log > 100 && r.checkpointed === r.log)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      await store.close();
    }
    // The last connection out removes the log.
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });
});
