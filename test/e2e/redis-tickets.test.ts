/**
 * WebSocket tickets and the rate limits on one Herald with HERALD_STORE=redis: they live in
 * Redis under the instance's key prefix (the cross-instance property itself is tested on the
 * components: test/auth/redis-tickets.test.ts, test/rate-limit/redis-limits.test.ts).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';
import { WsClient } from '../support/ws-client.js';

const hasRedis = await redisAnswers();
requireRedisInCi(hasRedis, 'tickets and rate limits on Redis');

describe.skipIf(!hasRedis)('tickets and rate limits with HERALD_STORE=redis', () => {
  const h = useHarness();
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await dropPrefix(p);
  });
  const env = (extra: Record<string, string> = {}) => {
    const HERALD_REDIS_KEY_PREFIX = newPrefix();
    prefixes.push(HERALD_REDIS_KEY_PREFIX);
    return { ...AUTH_ENV, HERALD_STORE: 'redis', REDIS_URL, HERALD_REDIS_KEY_PREFIX, ...extra };
  };
  const keys = async (pattern: string) => {
    const redis = new Redis(REDIS_URL);
    try {
      return await redis.keys(pattern);
    } finally {
      await redis.quit();
    }
  };

  it('opens /ws/chat with a ticket from POST /api/ws-ticket, once', async () => {
    const redisEnv = env();
    const server = await h.start(redisEnv);
    const issued = await server.request('POST', '/api/ws-ticket', { token: KEYS.alice });
    expect(issued.status).toBe(200);
    expect(issued.body.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const held = await keys(`${redisEnv.HERALD_REDIS_KEY_PREFIX}ticket:*`);
    expect(held).toHaveLength(1);
    expect(held[0]).not.toContain(issued.body.ticket);

    const { ready } = await h.connect(`${server.wsUrl}?ticket=${issued.body.ticket}`);
    expect(ready.type).toBe('ready');
    expect(await keys(`${redisEnv.HERALD_REDIS_KEY_PREFIX}ticket:*`)).toEqual([]);
    const reuse = h.track(new WsClient(`${server.wsUrl}?ticket=${issued.body.ticket}`));
    await reuse.open();
    expect(await reuse.type('error')).toMatchObject({ code: 'unauthorized' });
    expect(await reuse.closed()).toBe(1008);
  });

  it('limits tickets and chat per principal in Redis, with the same Retry-After and body', async () => {
    const redisEnv = env({ HERALD_TICKET_RATE_LIMIT: '2', HERALD_CHAT_RATE_LIMIT: '1' });
    const server = await h.start(redisEnv);
    for (let i = 0; i < 2; i++)
      expect((await server.request('POST', '/api/ws-ticket', { token: KEYS.alice })).status).toBe(200);
    const limited = await server.request('POST', '/api/ws-ticket', { token: KEYS.alice });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({
      success: false,
      code: 'rate_limited',
      error: 'At most 2 WebSocket tickets a minute.',
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await server.request('POST', '/api/ws-ticket', { token: KEYS.bob })).status).toBe(200);

    const chat = (message: string) =>
      server.request('POST', '/api/chat', { token: KEYS.alice, body: { message } });
    expect((await chat('one')).status).toBe(200);
    const tooMany = await chat('two');
    expect(tooMany.status).toBe(429);
    expect(tooMany.body).toMatchObject({
      code: 'rate_limited',
      error: 'Chat rate limit of 1 messages a minute reached.',
    });
    expect(Number(tooMany.headers.get('retry-after'))).toBeGreaterThan(0);

    const counted = await keys(`${redisEnv.HERALD_REDIS_KEY_PREFIX}ratelimit:*`);
    expect(counted).toEqual(
      expect.arrayContaining([
        `${redisEnv.HERALD_REDIS_KEY_PREFIX}ratelimit:chat:alice`,
        `${redisEnv.HERALD_REDIS_KEY_PREFIX}ratelimit:route:POST/api/ws-ticket:ticket:alice`,
      ]),
    );
  });
});
