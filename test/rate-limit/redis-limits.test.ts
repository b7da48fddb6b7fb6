/**
 * The chat limit and the route limit store in Redis, as two instances see them: two limiters
 * on separate ioredis clients and one key prefix hold N per minute together. When Redis fails,
 * each falls back to an in-memory limit of the same size (fail-open to per-instance).
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createChatRateLimiter } from '../../src/chat/chat-rate-limiter.js';
import { redisRouteLimitStore } from '../../src/transports/http/route-limit-store.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';

const hasRedis = await redisAnswers();
requireRedisInCi(hasRedis, 'Redis rate limits');

describe.skipIf(!hasRedis)('rate limits in Redis', () => {
  const clients: Redis[] = [];
  const prefixes: string[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
    for (const p of prefixes.splice(0)) await dropPrefix(p);
  });
  // Ready before use, as the app's client is: a limiter falls back while Redis is not.
  const client = async () => {
    const redis = new Redis(REDIS_URL);
    clients.push(redis);
    await redis.ping();
    return redis;
  };
  const prefix = () => {
    const p = newPrefix();
    prefixes.push(p);
    return p;
  };

  it('holds the chat limit of N a minute across two instances together, per principal', async () => {
    const keyPrefix = prefix();
    const a = createChatRateLimiter(3, { redis: await client(), keyPrefix });
    const b = createChatRateLimiter(3, { redis: await client(), keyPrefix });
    await a.consume('alice');
    await b.consume('alice');
    await a.consume('alice');
    await expect(b.consume('alice')).rejects.toMatchObject({
      code: 'rate_limited',
      message: 'Chat rate limit of 3 messages a minute reached.',
    });
    const err = await a.consume('alice').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'rate_limited' });
    expect((err as { retryAfter: number }).retryAfter).toBeGreaterThan(0);
    expect((err as { retryAfter: number }).retryAfter).toBeLessThanOrEqual(60);
    await b.consume('bob');
    expect(await (await client()).keys(`${keyPrefix}ratelimit:chat:*`)).toEqual(
      expect.arrayContaining([`${keyPrefix}ratelimit:chat:alice`, `${keyPrefix}ratelimit:chat:bob`]),
    );
  });

  it('counts a route limit across two instances together (the ws-ticket limit)', async () => {
    const keyPrefix = prefix();
    const route = { routeInfo: { method: 'POST', url: '/api/ws-ticket' } } as never;
    const a = new (redisRouteLimitStore(await client(), keyPrefix))({} as never).child(route);
    const b = new (redisRouteLimitStore(await client(), keyPrefix))({} as never).child(route);
    const incr = (store: typeof a, key: string) =>
      new Promise<{ current: number; ttl: number }>((resolve, reject) =>
        store.incr(key, (err, res) => (err ? reject(err) : resolve(res!)), 60_000, 2),
      );
    expect((await incr(a, 'ticket:alice')).current).toBe(1);
    expect((await incr(b, 'ticket:alice')).current).toBe(2);
    const over = await incr(a, 'ticket:alice');
    expect(over.current).toBeGreaterThan(2);
    expect(over.ttl).toBeGreaterThan(0);
    expect(over.ttl).toBeLessThanOrEqual(60_000);
    expect((await incr(b, 'ticket:bob')).current).toBe(1);
    expect(await (await client()).keys(`${keyPrefix}ratelimit:route:*`)).toContain(
      `${keyPrefix}ratelimit:route:POST/api/ws-ticket:ticket:alice`,
    );
  });

  it('falls back to a per-instance limit of the same size when Redis errors during consume', async () => {
    const keyPrefix = prefix();
    const redis = await client();
    // A key of the wrong type makes every Redis count for alice fail (WRONGTYPE).
    await redis.hset(`${keyPrefix}ratelimit:chat:alice`, 'x', '1');
    const limiter = createChatRateLimiter(2, { redis, keyPrefix });
    await limiter.consume('alice');
    await limiter.consume('alice');
    await expect(limiter.consume('alice')).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('falls back the same way when Redis is not connected at all', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => null });
    down.on('error', () => {});
    clients.push(down);
    const limiter = createChatRateLimiter(2, { redis: down, keyPrefix: newPrefix() });
    await limiter.consume('alice');
    await limiter.consume('alice');
    await expect(limiter.consume('alice')).rejects.toMatchObject({ code: 'rate_limited' });
  });
});
