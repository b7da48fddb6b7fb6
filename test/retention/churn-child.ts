/**
 * Run by sqlite-crash.test.ts as a process of its own: writes and deletes sessions on a SQLite
 * store as fast as it can, printing `deleted <n>` after each deletion, until it is killed.
 */
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import { draft, iso, newSession } from '../store/conformance.js';

const store = createSqliteStore({ file: process.argv[2]!, checkpointIntervalMs: 0 });
let deleted = 0;
let at = Date.parse('2026-01-01T00:00:00Z');
for (;;) {
  const made = [];
  for (let i = 0; i < 5; i++) {
    const s = await store.createSession(newSession('alice', at));
    for (let turn = 0; turn < 20; turn++) {
      await store.appendTimeline(s.id, {
        kind: 'user',
        id: `m_${turn}`,
        text: 'x'.repeat(200),
        timestamp: iso(at),
      });
      await store.appendAgentMessage(draft(s.id, { atMs: at }), true, {
        idempotency: { key: `k${turn}`, expiresAtMs: at + 60_000, nowMs: at },
      });
    }
    made.push(s.id);
  }
  at += 1000;
  for (const id of await store.listIdleSessions(at, 5)) {
    await store.deleteSession(id, { idleBeforeMs: at });
    deleted++;
    process.stdout.write(`deleted ${deleted}\n`);
  }
}
