import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import { draft, iso, newSession, storeConformance, T0 } from './conformance.js';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-store-'));
  tempDirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

storeConformance('sqlite store', async (limits) => ({
  store: createSqliteStore({ file: path.join(tempDir(), 'herald.db'), ...limits }),
}));

describe('sqlite store, on disk', () => {
  it('keeps sessions, timelines, pending messages and seqs across close and reopen', async () => {
    const file = path.join(tempDir(), 'herald.db');
    const first = createSqliteStore({ file });
    const s = newSession();
    await first.createSession(s, 'chat_1');
    await first.appendTimeline(s.id, { kind: 'user', id: 'm_1', text: 'hello', timestamp: iso(T0) });
    const m1 = await first.appendAgentMessage(draft(s.id), true);
    const m2 = await first.appendAgentMessage(draft(s.id), false);
    const m3 = await first.appendAgentMessage(draft(s.id), true, {
      idempotency: { key: 'k', expiresAtMs: T0 + 1000, nowMs: T0 },
    });
    await first.ack(s.id, [m1.id]);
    const letter = { message: m3, attempts: 5, reason: 'no ack', at: iso(T0) };
    await first.addDeadLetter(letter);
    const timeline = await first.readTimeline(s.id);
    await first.close();

    const again = createSqliteStore({ file });
    try {
      expect(await again.getSession(s.id)).toEqual(s);
      expect(await again.findSessionByChatKey('alice', 'chat_1')).toEqual(s);
      expect(await again.readTimeline(s.id)).toEqual(timeline);
      expect(timeline).toHaveLength(4);
      expect(await again.listPending(s.id, 0, 10, T0)).toEqual([m3]);
      expect(await again.getIdempotency(s.id, 'k', T0)).toEqual({ id: m3.id, seq: 3 });
      expect(await again.listDeadLetters(10)).toEqual([letter]);
      expect((await again.appendAgentMessage(draft(s.id), true)).seq).toBe(4);
      expect(m2.seq).toBe(2);
    } finally {
      await again.close();
    }
  });

  it('runs in WAL mode at the current schema version, creating the folder', async () => {
    const file = path.join(tempDir(), 'nested', 'deeper', 'herald.db');
    const store = createSqliteStore({ file });
    await store.createSession(newSession());
    const peek = new Database(file, { readonly: true });
    try {
      expect(peek.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(peek.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      peek.close();
      await store.close();
    }
  });

  it('refuses a file written by a newer schema', () => {
    const file = path.join(tempDir(), 'herald.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => createSqliteStore({ file })).toThrow(/schema version 99/);
  });

  it('rejects calls after close', async () => {
    const store = createSqliteStore({ file: path.join(tempDir(), 'herald.db') });
    await store.close();
    await expect(store.getSession('sess_x')).rejects.toThrow();
  });
});

// The same contract with the in-memory pending index squeezed to almost nothing: evictions,
// reloads and the file-only path for sessions with more pending than an index holds.
storeConformance('sqlite store, tiny pending index', async (limits) => ({
  store: createSqliteStore({
    file: path.join(tempDir(), 'herald.db'),
    ...limits,
    pendingIndex: { maxSessions: 1, maxEntries: 3, maxPerSession: 2 },
  }),
}));
