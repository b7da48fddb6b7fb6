/**
 * The data folder lock in one process: SQLite's lock conflicts between connections of one
 * process as between processes, so a second store on a folder is refused here too.
 * (test/e2e/data-folder.test.ts runs real Herald processes against each other.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DataFolderInUseError,
  LOCK_FILE_NAME,
  lockDataFolder,
  OWNER_FILE_NAME,
} from '../../src/store/sqlite/folder-lock.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import { newSession } from './conformance.js';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-lock-'));
  tempDirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function refusal(take: () => unknown): DataFolderInUseError {
  try {
    take();
  } catch (err) {
    if (err instanceof DataFolderInUseError) return err;
    throw err;
  }
  throw new Error('the folder was taken twice');
}

describe('data folder lock', () => {
  it('refuses a second holder, naming the folder and who holds it, until the first releases', () => {
    const dir = tempDir();
    const before = Date.now();
    const first = lockDataFolder(dir);
    try {
      const err = refusal(() => lockDataFolder(dir));
      expect(err.folder).toBe(path.resolve(dir));
      expect(err.owner).toMatchObject({ pid: process.pid, host: os.hostname() });
      expect(Date.parse(err.owner!.lockedAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(err.owner!.startedAt)).toBeLessThanOrEqual(Date.parse(err.owner!.lockedAt));
      expect(err.message).toContain(path.resolve(dir));
      expect(err.message).toContain(`pid ${process.pid}`);
      expect(err.message).toContain('HERALD_STORE=redis');
    } finally {
      first.release();
    }
    lockDataFolder(dir).release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(true);
  });

  it('keeps who holds it readable while it is held', () => {
    const dir = tempDir();
    const lock = lockDataFolder(dir);
    const owners = new Database(path.join(dir, OWNER_FILE_NAME), { readonly: true });
    try {
      expect(owners.prepare('SELECT pid FROM owner').pluck().all()).toEqual([process.pid]);
    } finally {
      owners.close();
      lock.release();
    }
  });

  it('is taken by the SQLite store at open and given back at close', async () => {
    const file = path.join(tempDir(), 'data', 'herald.db');
    const store = createSqliteStore({ file, checkpointIntervalMs: 0 });
    await store.createSession(newSession());
    expect(refusal(() => createSqliteStore({ file })).folder).toBe(path.dirname(file));
    // The refused open never touched the database: the first store still works.
    await store.createSession(newSession());
    await store.close();
    await store.close();
    const again = createSqliteStore({ file, checkpointIntervalMs: 0 });
    await again.close();
  });

  it('is given back when the store fails to open', () => {
    const dir = tempDir();
    const file = path.join(dir, 'herald.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => createSqliteStore({ file })).toThrow(/schema version 99/);
    lockDataFolder(dir).release();
  });
});
