/**
 * The retention sweeper on real stores: idle sessions go with all they hold, live and recently
 * active ones stay, a backlog is worked off in batches, and a SQLite file that deletes as fast
 * as it writes stops growing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import { RetentionSweeper } from '../../src/retention/sweeper.js';
import { createMemoryStore } from '../../src/store/memory-store.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { draft, iso, newSession, T0 } from '../store/conformance.js';

const HOUR = 60 * 60 * 1000;
const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-retention-'));
  dirs.push(dir);
  return dir;
};

function sweeper(store: Store, clock: { now: number }, live: string[] = []) {
  const metrics = createMetrics({ defaultMetrics: false });
  const sweep = new RetentionSweeper({
    store,
    retentionMs: 24 * HOUR,
    intervalMs: 60_000,
    liveSessions: () => live,
    metrics: metrics.retention,
    log,
    now: () => clock.now,
  });
  return { sweep, metrics };
}

const chat = async (store: Store, sessionId: string, atMs: number, text = 'hello') => {
  await store.appendTimeline(sessionId, { kind: 'user', id: `m_${atMs}`, text, timestamp: iso(atMs) });
  await store.appendAgentMessage(draft(sessionId, { atMs }), true);
  await store.appendTimeline(sessionId, { kind: 'reply', replyTo: `m_${atMs}`, text, timestamp: iso(atMs) });
};

describe('retention sweeper', () => {
  it('deletes idle sessions with all they hold, and keeps live and recently active ones', async () => {
    const store = createMemoryStore();
    const clock = { now: T0 };
    const idle = await store.createSession(newSession('alice', T0));
    const recent = await store.createSession(newSession('alice', T0));
    const live = await store.createSession(newSession('bob', T0));
    await chat(store, idle.id, T0);
    await chat(store, recent.id, T0 + 20 * HOUR);
    const { sweep, metrics } = sweeper(store, clock, [live.id]);

    clock.now = T0 + 25 * HOUR;
    expect(await sweep.run()).toMatchObject({ sessions: 1, entries: 3 });
    expect(await store.getSession(idle.id)).toBeUndefined();
    expect(await store.listPending(idle.id, 0, 10, T0)).toEqual([]);
    expect(await store.getSession(recent.id)).toEqual(recent);
    expect(await store.getSession(live.id)).toEqual(live);
    expect(await store.listSessionIds('alice')).toEqual([recent.id]);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^herald_retention_sessions_removed_total 1$/m);
    expect(text).toMatch(/^herald_retention_entries_removed_total\{reason="session_expired"\} 3$/m);

    // The live session was touched: once its client leaves, it has a full retention period.
    const later = sweeper(store, clock);
    clock.now = T0 + 48 * HOUR;
    expect((await later.sweep.run()).sessions).toBe(1); // `recent`, idle since T0 + 20 h
    expect(await store.getSession(live.id)).toEqual(live);
    clock.now = T0 + 50 * HOUR;
    expect((await later.sweep.run()).sessions).toBe(1);
    expect(await store.getSession(live.id)).toBeUndefined();
  });

  it('works off a backlog in batches, and joins a run already going', async () => {
    const store = createMemoryStore();
    const clock = { now: T0 };
    for (let i = 0; i < 250; i++) await store.createSession(newSession(`user${i % 7}`, T0));
    const { sweep } = sweeper(store, clock);
    clock.now = T0 + 25 * HOUR;
    const [first, second] = await Promise.all([sweep.run(), sweep.run()]);
    expect(first).toBe(second);
    expect(first.sessions).toBe(250);
    expect(await store.listIdleSessions(clock.now, 1000)).toEqual([]);
  });

  it('keeps a SQLite file from growing when it deletes as fast as it writes', async () => {
    const file = path.join(tempDir(), 'herald.db');
    const store = createSqliteStore({ file, checkpointIntervalMs: 0 });
    const clock = { now: T0 };
    const { sweep } = sweeper(store, clock);
    const text = 'x'.repeat(400);
    // The file's size once everything written has been checkpointed into it.
    const fileSize = (): number => {
      const db = new Database(file);
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        db.close();
      }
      return fs.statSync(file).size;
    };
    const sizes: number[] = [];
    try {
      for (let round = 0; round < 8; round++) {
        // A day of chats: 50 sessions of 10 turns, then deleted once idle.
        const sessions = await Promise.all(
          Array.from({ length: 50 }, () => store.createSession(newSession('alice', clock.now))),
        );
        for (const s of sessions)
          for (let turn = 0; turn < 10; turn++) await chat(store, s.id, clock.now, text);
        clock.now += 25 * HOUR;
        const swept = await sweep.run();
        expect(swept.sessions).toBe(50);
        sizes.push(fileSize());
      }
    } finally {
      await store.close();
    }
    // Once one day's worth of space is free to reuse, the file stays within a small margin.
    const settled = sizes[2]!;
    expect(Math.max(...sizes.slice(3))).toBeLessThanOrEqual(settled * 1.25);
    expect(sizes.at(-1)).toBeGreaterThan(0);
  }, 60_000);
});
