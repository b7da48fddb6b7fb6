/**
 * One Herald per SQLite data folder (docs/decisions.md, Storage): the SQLite store takes this
 * lock before it opens its file and keeps it until it closes. The lock is the kernel's, not a
 * file that says so: SQLite's own file lock (a POSIX advisory lock) on `herald.lock`, which
 * the kernel drops when the process ends in any way, so a SIGKILL or a crash never leaves a
 * stale lock behind.
 *
 * Two small SQLite files in the folder:
 *
 * - `herald.lock` (always empty): the holder's connection is in `locking_mode = EXCLUSIVE`
 *   with a `BEGIN EXCLUSIVE` transaction that stays open, so every other connection, of any
 *   process or of this one, gets SQLITE_BUSY at once (busy timeout 0).
 * - `herald.owner`: one row saying who holds the folder (pid, host, when that process
 *   started, when it took the lock). Taking `herald.lock` and writing the row happen inside
 *   one exclusive transaction on this file, and a refused start reads the row inside one too,
 *   so it always names the process that holds the folder, never an earlier one. These
 *   transactions last milliseconds; a start waits for another's (up to 10 s), never for
 *   `herald.lock`.
 */
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

/** The lock held for the life of the process (an empty SQLite file). */
export const LOCK_FILE_NAME = 'herald.lock';
/** Who holds the folder: one row, rewritten by each holder as it takes the lock. */
export const OWNER_FILE_NAME = 'herald.owner';

/** Milliseconds a start waits for another start's turn on `herald.owner`. */
const OWNER_TURN_TIMEOUT_MS = 10_000;

/** The process that holds a data folder, as it recorded itself. */
export interface FolderOwner {
  pid: number;
  host: string;
  /** When that process started (ISO 8601). */
  startedAt: string;
  /** When it took the folder (ISO 8601). */
  lockedAt: string;
}

/** A data folder already held by another Herald (or by another store of this process). */
export class DataFolderInUseError extends Error {
  constructor(
    readonly folder: string,
    readonly owner: FolderOwner | undefined,
  ) {
    super(
      `the data folder ${folder} is in use by ${describeOwner(owner)}. One data folder serves one ` +
        'Herald: stop that process first, or give this one its own HERALD_DATA_DIR; to run several ' +
        'Heralds on one store, use HERALD_STORE=redis (docs/scaling.md).',
    );
    this.name = 'DataFolderInUseError';
  }
}

function describeOwner(owner: FolderOwner | undefined): string {
  if (!owner) return 'another process';
  const self = owner.pid === process.pid && owner.host === os.hostname() ? ', this very process' : '';
  return (
    `another Herald (pid ${owner.pid} on host ${owner.host}${self}, started ${owner.startedAt}, ` +
    `holding the folder since ${owner.lockedAt})`
  );
}

/** A data folder held by this process; `release` is idempotent. */
export interface FolderLock {
  readonly folder: string;
  release(): void;
}

interface OwnerRow {
  pid: number;
  host: string;
  started_at: string;
  locked_at: string;
}

/**
 * Takes `folder` (which must exist) for this process, or throws `DataFolderInUseError` naming
 * the process that holds it.
 */
export function lockDataFolder(folder: string): FolderLock {
  const dir = path.resolve(folder);
  const owners = new Database(path.join(dir, OWNER_FILE_NAME), { timeout: OWNER_TURN_TIMEOUT_MS });
  let lock: Database.Database | undefined;
  let owner: FolderOwner | undefined;
  try {
    owners
      .transaction(() => {
        owners.exec(
          'CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL, host TEXT NOT NULL, ' +
            'started_at TEXT NOT NULL, locked_at TEXT NOT NULL)',
        );
        lock = tryLock(path.join(dir, LOCK_FILE_NAME));
        if (!lock) {
          const row = owners.prepare<[], OwnerRow>('SELECT * FROM owner').get();
          owner = row && {
            pid: row.pid,
            host: row.host,
            startedAt: row.started_at,
            lockedAt: row.locked_at,
          };
          return;
        }
        const startedAt = new Date(Date.now() - process.uptime() * 1000).toISOString();
        owners.exec('DELETE FROM owner');
        owners
          .prepare('INSERT INTO owner (pid, host, started_at, locked_at) VALUES (?, ?, ?, ?)')
          .run(process.pid, os.hostname(), startedAt, new Date().toISOString());
      })
      .exclusive();
  } catch (err) {
    lock?.close();
    throw err;
  } finally {
    owners.close();
  }
  const held = lock;
  if (!held) throw new DataFolderInUseError(dir, owner);
  return {
    folder: dir,
    release() {
      if (held.open) held.close();
    },
  };
}

/** The exclusive lock on `file`, held by the returned connection; undefined when it is taken. */
function tryLock(file: string): Database.Database | undefined {
  const db = new Database(file, { timeout: 0 });
  try {
    // Nothing is ever written to it, so no journal file either.
    db.pragma('journal_mode = MEMORY');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (err) {
    db.close();
    if (err instanceof Database.SqliteError && err.code === 'SQLITE_BUSY') return undefined;
    throw err;
  }
}
