/**
 * Picks the store named by `HERALD_STORE` (contract section 9). Async because the Redis store
 * will need to connect before it is usable.
 */
import path from 'node:path';
import { Redis } from 'ioredis';
import type { HeraldConfig } from '../config/config.js';
import { createMemoryStore } from './memory-store.js';
import { redisAddress } from './redis/address.js';
import { createRedisStore } from './redis-store.js';
import { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import type { Store } from './store.js';

/** What the app is told about a store's write path (metrics, logs); stores without one ignore it. */
export type StoreHooks = Pick<SqliteStoreOptions, 'onCommit' | 'onCheckpoint' | 'onCheckpointError'> & {
  /** Told when the Redis connection fails (it reconnects by itself). */
  onConnectionError?: (err: Error) => void;
};

/** The SQLite file's name inside `HERALD_DATA_DIR`. */
export const SQLITE_FILE_NAME = 'herald.db';

/**
 * Opens the configured store.
 *
 * @example
 * const store = await createStore({ store: 'sqlite', dataDir: './data', redisUrl: '' });
 */
export async function createStore(
  config: Pick<HeraldConfig, 'store' | 'dataDir' | 'redisUrl' | 'redisKeyPrefix'>,
  hooks: StoreHooks = {},
): Promise<Store> {
  switch (config.store) {
    case 'sqlite':
      return createSqliteStore({ file: path.join(config.dataDir, SQLITE_FILE_NAME), ...hooks });
    case 'memory':
      return createMemoryStore();
    case 'redis':
      return openRedisStore(config, hooks);
    default: {
      const unknown: never = config.store;
      throw new Error(`unknown HERALD_STORE ${String(unknown)}`);
    }
  }
}

/**
 * Connects to Redis (failing at start, with the address but never its password, when it does
 * not answer) and opens the Redis store on that connection; closing the store quits it. Several
 * Heralds may share one Redis and key prefix (live delivery between them: agent-messages/broker.ts).
 */
async function openRedisStore(
  config: Pick<HeraldConfig, 'redisUrl' | 'redisKeyPrefix'>,
  hooks: StoreHooks,
): Promise<Store> {
  const where = redisAddress(config.redisUrl);
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: 5_000,
    // While Redis is away the store refuses at once (503); these bound what was already sent
    // when it went: given up after one failed reconnection, or after 5 s, never waiting for
    // Redis to come back (ioredis's default retries 20 times).
    maxRetriesPerRequest: 1,
    commandTimeout: 5_000,
  });
  // Without a listener ioredis prints every failed reconnection itself.
  redis.on('error', (err: Error) => hooks.onConnectionError?.(err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`Redis at ${where} did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  const store = createRedisStore({ redis, keyPrefix: config.redisKeyPrefix });
  return {
    ...store,
    async close() {
      await store.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
