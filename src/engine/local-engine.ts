/**
 * The local engine: one Herald process, nothing shared. The store is SQLite (a file in
 * HERALD_DATA_DIR, one Herald per folder) or memory; tickets, limits and live delivery stay in
 * this process.
 */
import path from 'node:path';
import { localBroker } from '../agent-messages/broker.js';
import { createChatRateLimiter } from '../chat/chat-rate-limiter.js';
import { createSessionRateLimiter } from '../chat/session-rate-limiter.js';
import { createMemoryStore } from '../store/memory-store.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { Engine, EngineConfig, EngineHooks } from './engine.js';

/** The SQLite file's name inside `HERALD_DATA_DIR`. */
export const SQLITE_FILE_NAME = 'herald.db';

export async function createLocalEngine(
  config: EngineConfig,
  hooks: EngineHooks,
  given?: Store,
): Promise<Engine> {
  const store = given ?? openLocalStore(config, hooks);
  let closed = false;
  return {
    kind: 'local',
    store,
    broker: localBroker,
    tickets: undefined,
    chatRateLimiter: createChatRateLimiter(config.chatRateLimit),
    sessionRateLimiter: createSessionRateLimiter(config.sessionRateLimit),
    routeLimitStore: undefined,
    replies: undefined,
    async close() {
      if (closed) return;
      closed = true;
      await store.close();
    },
  };
}

function openLocalStore(config: EngineConfig, hooks: EngineHooks): Store {
  switch (config.store) {
    case 'sqlite':
      return createSqliteStore({
        file: path.join(config.dataDir, SQLITE_FILE_NAME),
        timelineMaxEntries: config.timelineMaxEntries,
        onTimelineTrimmed: hooks.onTimelineTrimmed,
        onCommit: hooks.onCommit,
        onCheckpoint: hooks.onCheckpoint,
        onCheckpointError: hooks.onCheckpointError,
      });
    case 'memory':
    case 'redis':
      // `redis` reaches here only with a store handed in; memory is per process by nature.
      return createMemoryStore({
        timelineMaxEntries: config.timelineMaxEntries,
        onTimelineTrimmed: hooks.onTimelineTrimmed,
      });
    default: {
      const unknown: never = config.store;
      throw new Error(`unknown HERALD_STORE ${String(unknown)}`);
    }
  }
}
