/**
 * createEngine: the local engine keeps everything in this process (SQLite file or memory); the
 * Redis engine shares the store, tickets and limits of every instance on one Redis and key
 * prefix, and refuses to start, without showing the password, when Redis does not answer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { localBroker } from '../../src/agent-messages/broker.js';
import type { Principal } from '../../src/auth/principal.js';
import { createEngine, type EngineConfig } from '../../src/engine/engine.js';
import { createMemoryStore } from '../../src/store/memory-store.js';
import { newSession } from '../store/conformance.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';

const base: EngineConfig = {
  store: 'memory',
  dataDir: '/nonexistent',
  redisUrl: REDIS_URL,
  redisCluster: false,
  redisKeyPrefix: 'herald:',
  chatRateLimit: 2,
  sessionRateLimit: 2,
  ticketTtlMs: 30_000,
  timelineMaxEntries: 10_000,
  replyKeepMs: 60_000,
  replyKeepMaxBytes: 1024 * 1024,
  replyKeepMaxReplies: 1000,
};
const silent = { warn() {}, error() {} } as unknown as FastifyBaseLogger;

describe('local engine', () => {
  it('opens herald.db in the data folder for sqlite, and keeps everything else in this process', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'herald-engine-')), 'data');
    try {
      const engine = await createEngine({ ...base, store: 'sqlite', dataDir }, { log: silent });
      expect(engine.kind).toBe('local');
      expect(engine.broker).toBe(localBroker);
      expect(engine.tickets).toBeUndefined();
      expect(engine.routeLimitStore).toBeUndefined();
      const s = newSession();
      await engine.store.createSession(s);
      expect(await engine.store.getSession(s.id)).toEqual(s);
      await engine.chatRateLimiter.consume('alice');
      await engine.chatRateLimiter.consume('alice');
      await expect(engine.chatRateLimiter.consume('alice')).rejects.toMatchObject({ code: 'rate_limited' });
      await engine.close();
      await engine.close();
      expect(fs.existsSync(path.join(dataDir, 'herald.db'))).toBe(true);
    } finally {
      fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
    }
  });

  it('makes a memory store, or uses the store it is given', async () => {
    const engine = await createEngine(base, { log: silent });
    const s = newSession();
    await engine.store.createSession(s);
    expect(await engine.store.getSession(s.id)).toEqual(s);
    await engine.close();

    const given = createMemoryStore();
    const withGiven = await createEngine({ ...base, store: 'redis' }, { log: silent }, given);
    expect(withGiven.kind).toBe('local');
    expect(withGiven.store).toBe(given);
    await withGiven.close();
  });
});

describe('redis engine', () => {
  it('fails to start when Redis does not answer, naming the address but never the password', async () => {
    const warnings: unknown[] = [];
    const log = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as FastifyBaseLogger;
    const err = await createEngine(
      { ...base, store: 'redis', redisUrl: 'redis://user:s3cret-pass@127.0.0.1:1' },
      { log },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('Redis at 127.0.0.1:1 did not answer');
    expect((err as Error).message).not.toContain('s3cret');
    expect(warnings.length).toBeGreaterThan(0);
    expect(JSON.stringify(warnings)).toContain('127.0.0.1:1');
    expect(JSON.stringify(warnings)).not.toContain('s3cret');
  });
});

const hasRedis = await redisAnswers();
requireRedisInCi(hasRedis, 'the Redis engine');

describe.skipIf(!hasRedis)('redis engine on Redis', () => {
  it('shares the store, tickets and limits of one key prefix, apart from other prefixes', async () => {
    const redisKeyPrefix = newPrefix();
    const config: EngineConfig = { ...base, store: 'redis', redisKeyPrefix };
    try {
      const first = await createEngine(config, { log: silent });
      const second = await createEngine(config, { log: silent });
      const other = await createEngine({ ...config, redisKeyPrefix: newPrefix() }, { log: silent });
      expect(first.kind).toBe('redis');
      const s = newSession();
      await first.store.createSession(s);
      expect(await second.store.getSession(s.id)).toEqual(s);
      expect(await other.store.getSession(s.id)).toBeUndefined();

      const principal: Principal = { sub: 'alice', scopes: new Set(['chat']), via: 'api-key' };
      const { ticket } = await first.tickets!.issue(principal);
      expect(await second.tickets!.redeem(ticket)).toMatchObject({ sub: 'alice', via: 'ticket' });
      await expect(Promise.resolve().then(() => first.tickets!.redeem(ticket))).rejects.toMatchObject({
        code: 'unauthorized',
      });

      await first.chatRateLimiter.consume('bob');
      await second.chatRateLimiter.consume('bob');
      await expect(first.chatRateLimiter.consume('bob')).rejects.toMatchObject({ code: 'rate_limited' });
      await other.chatRateLimiter.consume('bob');
      expect(first.routeLimitStore).toBeTypeOf('function');

      for (const engine of [first, second, other]) await engine.close();
      await first.close();
    } finally {
      await dropPrefix(redisKeyPrefix);
    }
  });
});
