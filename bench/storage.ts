/**
 * Storage per chat turn and per agent message, for docs/operations.md, on each store:
 * - sqlite: the file's growth (after a full checkpoint into it);
 * - redis: Redis's `used_memory` growth, under a key prefix of the run's own (deleted after);
 * - memory: the JS heap's growth after a full garbage collection (run with --expose-gc; the
 *   npm script does).
 * Each store gets a fresh in-process Herald (createHerald, requests through `inject`, no
 * network): 100 sessions × 10 chats of about 120 characters, half of them with an e-mail
 * address (so half the turns make a sanitization summary), none acked; then 1,000 status
 * messages (at-least-once, 60 characters) published into those sessions. Bounded: 2,000
 * requests per store.
 *
 *   npm run bench:storage
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { createHerald } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { dropKeys } from './lib/redis.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SESSIONS = 100;
const TURNS = 10;
const MESSAGES = 1_000;

type Store = 'sqlite' | 'redis' | 'memory';

interface Measure {
  /** Bytes in use now. */
  bytes(): Promise<number>;
  cleanup(): Promise<void>;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with node --expose-gc (npm run bench:storage does)');
  collect();
  collect();
}

async function measureFor(store: Store, env: Record<string, string>): Promise<Measure> {
  if (store === 'sqlite') {
    const file = path.join(env.HERALD_DATA_DIR!, 'herald.db');
    return {
      async bytes() {
        const db = new Database(file);
        try {
          db.pragma('wal_checkpoint(TRUNCATE)');
        } finally {
          db.close();
        }
        return fs.statSync(file).size;
      },
      async cleanup() {
        fs.rmSync(env.HERALD_DATA_DIR!, { recursive: true, force: true });
      },
    };
  }
  if (store === 'redis') {
    const redis = new Redis(REDIS_URL);
    return {
      async bytes() {
        const info = await redis.info('memory');
        return Number(/used_memory:(\d+)/.exec(info)![1]);
      },
      async cleanup() {
        await dropKeys(redis, env.HERALD_REDIS_KEY_PREFIX!);
        await redis.quit();
      },
    };
  }
  return {
    async bytes() {
      gc();
      return process.memoryUsage().heapUsed;
    },
    async cleanup() {},
  };
}

async function run(store: Store): Promise<{ perTurn: number; perMessage: number }> {
  const env: Record<string, string> = {
    HERALD_STORE: store,
    HERALD_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'herald-storage-')),
    HERALD_REDIS_KEY_PREFIX: `herald-storage:${process.pid}:`,
    REDIS_URL,
    PORT: '0',
    LOG_LEVEL: 'silent',
    HERALD_CHAT_RATE_LIMIT: '0',
    HERALD_SESSION_RATE_LIMIT: '0',
    HERALD_AGENT_RATE_LIMITS: '{"sanitization":0,"security":0,"status":0,"error":0}',
  };
  const measure = await measureFor(store, env);
  const app = await createHerald(loadConfig(env), { logger: false, defaultMetrics: false });
  await app.ready();
  try {
    const before = await measure.bytes();
    const sessionIds: string[] = [];
    for (let s = 0; s < SESSIONS; s++) {
      let sessionId: string | undefined;
      for (let t = 0; t < TURNS; t++) {
        const pii =
          t % 2 === 0 ? ' Write to me at jane.doe@example.com when it is done.' : ' No rush on this.';
        const message = `Could you summarise turn ${t} of our plan for the quarterly review?${pii}`;
        const res = await app.inject({
          method: 'POST',
          url: '/api/chat',
          payload: { message, ...(sessionId && { sessionId }) },
        });
        if (res.statusCode !== 200) throw new Error(`chat answered ${res.statusCode}: ${res.body}`);
        sessionId ??= res.json().sessionId as string;
      }
      sessionIds.push(sessionId!);
    }
    const afterChats = await measure.bytes();
    for (let i = 0; i < MESSAGES; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/agent-messages',
        payload: {
          target: { sessionId: sessionIds[i % SESSIONS] },
          agentType: 'status',
          content: `Indexing step ${i} of the knowledge base is complete.`,
          source: 'bench',
          deliveryGuarantee: 'at-least-once',
        },
      });
      if (res.statusCode !== 202) throw new Error(`publish answered ${res.statusCode}: ${res.body}`);
    }
    const afterMessages = await measure.bytes();
    return {
      perTurn: (afterChats - before) / (SESSIONS * TURNS),
      perMessage: (afterMessages - afterChats) / MESSAGES,
    };
  } finally {
    await app.close();
    await measure.cleanup();
  }
}

const stores = (process.env.BENCH_STORES?.split(',') as Store[] | undefined) ?? ['sqlite', 'redis', 'memory'];
console.log(
  `${SESSIONS} sessions × ${TURNS} chats (half with an e-mail address), then ${MESSAGES} status messages`,
);
for (const store of stores) {
  const { perTurn, perMessage } = await run(store);
  const what = { sqlite: 'file', redis: 'Redis used_memory', memory: 'JS heap' }[store];
  console.log(
    `${store.padEnd(6)} ${what}: ${Math.round(perTurn)} bytes per chat turn, ${Math.round(perMessage)} bytes per agent message`,
  );
}
