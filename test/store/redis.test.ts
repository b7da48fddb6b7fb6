/**
 * The Redis store against a real Redis (REDIS_URL, default redis://127.0.0.1:6379): the
 * conformance suite, then what only Redis has (atomic admission across clients, one hash tag
 * per session). Each test works under its own key prefix, deleted afterwards. Without a Redis
 * the file is skipped with one line, except under CI, where that fails.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../src/store/redis-store.js';
import { UnknownSessionError } from '../../src/store/shared.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';
import { draft, iso, newSession, storeConformance, T0 } from './conformance.js';

const hasRedis = await redisAnswers();
requireRedisInCi(hasRedis, 'Redis store tests');

describe.skipIf(!hasRedis)('redis', () => {
  storeConformance('redis store', async (limits) => {
    const keyPrefix = newPrefix();
    return {
      store: createRedisStore({ url: REDIS_URL, keyPrefix, ...limits }),
      cleanup: () => dropPrefix(keyPrefix),
    };
  });

  describe('redis store, on Redis', () => {
    const prefixes: string[] = [];
    const clients: Redis[] = [];
    const stores: RedisStore[] = [];
    const open = (keyPrefix: string, redis?: Redis, timelineMaxEntries?: number): RedisStore => {
      const store = createRedisStore({ url: REDIS_URL, keyPrefix, redis, timelineMaxEntries });
      stores.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      for (const client of clients.splice(0)) await client.quit();
      for (const prefix of prefixes.splice(0)) await dropPrefix(prefix);
    });

    it('admits concurrently from two clients with distinct, gap-free seqs', async () => {
      const keyPrefix = newPrefix();
      prefixes.push(keyPrefix);
      const a = open(keyPrefix);
      const b = open(keyPrefix);
      const s = newSession();
      await a.createSession(s);
      const made = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 ? a : b).appendAgentMessage(draft(s.id), true, {
            idempotency: { key: `k${i}`, expiresAtMs: T0 + 1000, nowMs: T0 },
          }),
        ),
      );
      const seqs = made.map((m) => m.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect((await a.listPending(s.id, 0, 1000, T0)).map((m) => m.seq)).toEqual(seqs);
      // Each client sends the pending count's update right after its admission: a PING on each
      // connection comes back once they are done.
      await Promise.all([a.health(), b.health()]);
      expect(await b.countPending()).toBe(100);
      const timeline = await b.readTimeline(s.id);
      expect(timeline.map((e) => e.kind === 'agent_message' && e.message.seq)).toEqual(seqs);
      for (const [i, m] of made.entries())
        expect(await a.getIdempotency(s.id, `k${i}`, T0)).toEqual({ id: m.id, seq: m.seq });
    });

    it('finishes a deletion a crash cut short on the next call, and shows nothing half deleted meanwhile', async () => {
      const keyPrefix = newPrefix();
      prefixes.push(keyPrefix);
      const redis = new Redis(REDIS_URL);
      clients.push(redis);
      const store = open(keyPrefix, redis);
      const s = await store.createSession(newSession('alice'), 'chat_1');
      await store.appendAgentMessage(draft(s.id), true);
      // The instance dies after the session's own keys went, before its owner's index did.
      const scripts = redis as unknown as Record<string, unknown>;
      const unlink = scripts.heraldUnlinkOwner;
      scripts.heraldUnlinkOwner = () => Promise.reject(new Error('killed'));
      await expect(store.deleteSession(s.id, { idleBeforeMs: T0 + 1 })).rejects.toThrow('killed');
      scripts.heraldUnlinkOwner = unlink;

      expect(await store.getSession(s.id)).toBeUndefined();
      expect(await store.readTimeline(s.id)).toEqual([]);
      expect(await store.listPending(s.id, 0, 10, T0)).toEqual([]);
      await expect(
        store.appendTimeline(s.id, { kind: 'user', id: 'm', text: 'x', timestamp: iso(T0) }),
      ).rejects.toBeInstanceOf(UnknownSessionError);
      // Still listed as idle, so the next retention pass comes back to it and finishes.
      expect(await store.listIdleSessions(T0 + 1, 10)).toEqual([s.id]);
      expect(await store.deleteSession(s.id, { idleBeforeMs: T0 + 1 })).toEqual({ entries: 0 });
      expect(await store.listIdleSessions(T0 + 1, 10)).toEqual([]);
      expect(await store.listSessionIds('alice')).toEqual([]);
      expect(await store.findSessionByChatKey('alice', 'chat_1')).toBeUndefined();
      await store.health();
      expect(await store.countPending()).toBe(0);
      expect(await redis.keys(`${keyPrefix}s:*`)).toEqual([]);
    });

    it("keeps every key of a session under the session's hash tag", async () => {
      const keyPrefix = newPrefix();
      prefixes.push(keyPrefix);
      const store = open(keyPrefix, undefined, 1);
      const s = newSession();
      await store.createSession(s, 'chat_1');
      const m = await store.appendAgentMessage(draft(s.id), true, {
        idempotency: { key: 'k', expiresAtMs: T0 + 1000, nowMs: T0 },
      });
      // Past the timeline limit (1) with the message still pending: the `trimmed` set too.
      await store.appendTimeline(s.id, { kind: 'user', id: 'm_1', text: 'hi', timestamp: iso(T0) });
      await store.addDeadLetter({ message: m, attempts: 1, reason: 'test', at: iso(T0) });

      const redis = new Redis(REDIS_URL);
      clients.push(redis);
      const keys = await redis.keys(`${keyPrefix}*`);
      const sessionKeys = keys.filter((k) => k.includes(s.id));
      expect(sessionKeys.sort()).toEqual(store.sessionKeys(s.id).sort());
      const tag = (key: string): string | undefined => /\{([^}]*)\}/.exec(key)?.[1];
      for (const key of sessionKeys) expect(tag(key)).toBe(s.id);
    });

    it('creates no key for an admission to a missing session', async () => {
      const keyPrefix = newPrefix();
      prefixes.push(keyPrefix);
      const store = open(keyPrefix);
      await expect(
        store.appendAgentMessage(draft('sess_missing'), true, {
          idempotency: { key: 'k', expiresAtMs: T0 + 1000, nowMs: T0 },
        }),
      ).rejects.toBeInstanceOf(UnknownSessionError);
      const redis = new Redis(REDIS_URL);
      clients.push(redis);
      expect(await redis.keys(`${keyPrefix}*`)).toEqual([]);
    });

    it('purges more than one script batch and keeps the pending count right', async () => {
      const keyPrefix = newPrefix();
      prefixes.push(keyPrefix);
      const store = open(keyPrefix);
      const [a, b] = [newSession(), newSession()];
      await store.createSession(a);
      await store.createSession(b);
      const made = await Promise.all(
        Array.from({ length: 2500 }, (_, i) =>
          store.appendAgentMessage(draft(i % 2 ? a.id : b.id, { ttl: i < 2400 ? 1000 : 9000 }), true),
        ),
      );
      await store.ack(a.id, [made[1]!.id]);
      expect(await store.countPending()).toBe(2499);
      const purged = await store.purgeExpired(T0 + 1000);
      expect(purged).toHaveLength(2399);
      expect(await store.countPending()).toBe(100);
      expect(await store.listPending(a.id, 0, 5000, T0)).toHaveLength(50);
      expect(await store.listPending(b.id, 0, 20, T0)).toEqual(
        made.filter((m, i) => i >= 2400 && m.sessionId === b.id).slice(0, 20),
      );
    });

    it('keeps the newest dead letters up to its cap', async () => {
      const keyPrefix = newPrefix();
      prefixes.push(keyPrefix);
      const store = createRedisStore({ url: REDIS_URL, keyPrefix, maxDeadLetters: 2 });
      stores.push(store);
      const s = newSession();
      await store.createSession(s);
      const m = await store.appendAgentMessage(draft(s.id), true);
      for (const reason of ['one', 'two', 'three'])
        await store.addDeadLetter({ message: m, attempts: 1, reason, at: iso(T0) });
      expect((await store.listDeadLetters(10)).map((l) => l.reason)).toEqual(['three', 'two']);
    });

    it('works on a client it is given, leaving it open on close', async () => {
      const keyPrefix = newPrefix();
      prefixes.push(keyPrefix);
      const redis = new Redis(REDIS_URL);
      clients.push(redis);
      const store = open(keyPrefix, redis);
      const s = newSession();
      await store.createSession(s);
      await store.close();
      expect(await redis.ping()).toBe('PONG');
      expect(await open(keyPrefix, redis).getSession(s.id)).toEqual(s);
    });
  });
});
