import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';
import { newSession } from './conformance.js';

const base = { redisUrl: REDIS_URL, redisKeyPrefix: 'herald:' };

describe('createStore', () => {
  it('opens herald.db in the data folder for sqlite', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'herald-create-')), 'data');
    try {
      const store = await createStore({ ...base, store: 'sqlite', dataDir });
      const s = newSession();
      await store.createSession(s);
      expect(await store.getSession(s.id)).toEqual(s);
      await store.close();
      expect(fs.existsSync(path.join(dataDir, 'herald.db'))).toBe(true);
    } finally {
      fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
    }
  });

  it('makes a memory store', async () => {
    const store = await createStore({ ...base, store: 'memory', dataDir: '/nonexistent' });
    const s = newSession();
    await store.createSession(s);
    expect(await store.getSession(s.id)).toEqual(s);
  });

  it('fails at start when Redis does not answer, naming the address but never the password', async () => {
    const failing = createStore({
      ...base,
      store: 'redis',
      dataDir: '.',
      redisUrl: 'redis://:hunter2@127.0.0.1:1',
    });
    await expect(failing).rejects.toThrow(/Redis at 127\.0\.0\.1:1 did not answer/);
    await expect(failing).rejects.not.toThrow(/hunter2/);
  });
});

const hasRedis = await redisAnswers();
requireRedisInCi(hasRedis, 'createStore on Redis');

describe.skipIf(!hasRedis)('createStore on Redis', () => {
  it('opens the Redis store under its key prefix, apart from other prefixes on the same Redis', async () => {
    const redisKeyPrefix = newPrefix();
    const config = { store: 'redis' as const, dataDir: '.', redisUrl: REDIS_URL, redisKeyPrefix };
    try {
      const first = await createStore(config);
      const s = newSession();
      await first.createSession(s);
      // A second Herald on the same prefix shares it.
      const second = await createStore(config);
      expect(await second.getSession(s.id)).toEqual(s);
      await second.close();
      // Another prefix on the same Redis is another Herald's.
      const other = await createStore({ ...config, redisKeyPrefix: newPrefix() });
      expect(await other.getSession(s.id)).toBeUndefined();
      await other.close();
      await first.close();
    } finally {
      await dropPrefix(redisKeyPrefix);
    }
  });
});
