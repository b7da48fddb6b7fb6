/**
 * Picks the store named by `HERALD_STORE` (contract section 9). Async because the Redis store
 * will need to connect before it is usable.
 */
import path from 'node:path';
import type { HeraldConfig } from '../config/config.js';
import { createMemoryStore } from './memory-store.js';
import { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import type { Store } from './store.js';

/** What the app is told about a store's write path (metrics, logs); stores without one ignore it. */
export type StoreHooks = Pick<SqliteStoreOptions, 'onCommit' | 'onCheckpoint' | 'onCheckpointError'>;

/** The SQLite file's name inside `HERALD_DATA_DIR`. */
export const SQLITE_FILE_NAME = 'herald.db';

/**
 * Opens the configured store.
 *
 * @example
 * const store = await createStore({ store: 'sqlite', dataDir: './data', redisUrl: '' });
 */
export async function createStore(
  config: Pick<HeraldConfig, 'store' | 'dataDir' | 'redisUrl'>,
  hooks: StoreHooks = {},
): Promise<Store> {
  switch (config.store) {
    case 'sqlite':
      return createSqliteStore({ file: path.join(config.dataDir, SQLITE_FILE_NAME), ...hooks });
    case 'memory':
      return createMemoryStore();
    case 'redis':
      throw new Error('HERALD_STORE=redis is not available yet');
    default: {
      const unknown: never = config.store;
      throw new Error(`unknown HERALD_STORE ${String(unknown)}`);
    }
  }
}
