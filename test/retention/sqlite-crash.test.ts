/**
 * A Herald killed (SIGKILL) while it deletes sessions leaves no session half deleted: each
 * deletion is one transaction, so after the crash every session is whole or gone, with no
 * timeline, pending or idempotency row left behind for a session that is gone.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a crash in the middle of deleting sessions', () => {
  it('leaves every session whole or gone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-crash-'));
    dirs.push(dir);
    const file = path.join(dir, 'herald.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/retention/churn-child.ts', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Killed while it is deleting: after its 40th deletion has been reported.
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('deleted 40\n')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`churn exited early with ${code}`)));
    });
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;

    // The kernel released the folder: a store opens it, and everything in it is consistent.
    const store = createSqliteStore({ file });
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      const orphans = (table: string) =>
        db
          .prepare(`SELECT count(*) FROM ${table} WHERE session_id NOT IN (SELECT id FROM sessions)`)
          .pluck()
          .get();
      expect(orphans('timeline')).toBe(0);
      expect(orphans('pending')).toBe(0);
      expect(orphans('idempotency')).toBe(0);
      // Every session left has its whole timeline, as counted on each write.
      const uneven = db
        .prepare(
          'SELECT count(*) FROM sessions s WHERE s.entries != (SELECT count(*) FROM timeline t WHERE t.session_id = s.id)',
        )
        .pluck()
        .get();
      expect(uneven).toBe(0);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  }, 60_000);
});
