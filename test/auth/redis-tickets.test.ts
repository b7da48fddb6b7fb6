/**
 * Tickets in Redis, as two instances see them: two RedisTicketStores on separate ioredis
 * clients and one key prefix. A ticket issued by one is redeemed once, by either, never again;
 * Redis holds only a hash of it.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { RedisTicketStore, ticketKey } from '../../src/auth/redis-tickets.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';

const hasRedis = await redisAnswers();
requireRedisInCi(hasRedis, 'Redis tickets');

const alice = (expiresAt?: number): Principal => ({
  sub: 'alice',
  scopes: new Set(['chat']),
  via: 'jwt',
  ...(expiresAt !== undefined ? { expiresAt } : {}),
});

describe.skipIf(!hasRedis)('RedisTicketStore', () => {
  const clients: Redis[] = [];
  const prefixes: string[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.quit()));
    for (const p of prefixes.splice(0)) await dropPrefix(p);
  });
  const client = () => {
    const redis = new Redis(REDIS_URL);
    clients.push(redis);
    return redis;
  };
  const two = (options: { ttlMs?: number; now?: () => number } = {}) => {
    const keyPrefix = newPrefix();
    prefixes.push(keyPrefix);
    return {
      keyPrefix,
      a: new RedisTicketStore({ redis: client(), keyPrefix, ...options }),
      b: new RedisTicketStore({ redis: client(), keyPrefix, ...options }),
    };
  };

  it('redeems a ticket issued by one instance once, on the other, and never again on either', async () => {
    const { a, b } = two();
    const { ticket, expiresAt } = await a.issue(alice());
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(25_000);
    expect(await b.redeem(ticket)).toEqual({ sub: 'alice', scopes: new Set(['chat']), via: 'ticket' });
    await expect(b.redeem(ticket)).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'invalid or used ticket',
    });
    await expect(a.redeem(ticket)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('lets exactly one of many concurrent redemptions on both instances win', async () => {
    const { a, b } = two();
    const { ticket } = await a.issue(alice());
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).redeem(ticket)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('keys only a SHA-256 of the ticket, with the ticket ttl, holding the principal snapshot', async () => {
    const { a, keyPrefix } = two({ ttlMs: 10_000 });
    const { ticket } = await a.issue(alice(Date.now() + 60_000));
    const redis = client();
    const keys = await redis.keys(`${keyPrefix}*`);
    expect(keys).toEqual([ticketKey(keyPrefix, ticket)]);
    expect(keys[0]).not.toContain(ticket);
    const pttl = await redis.pttl(keys[0]!);
    expect(pttl).toBeGreaterThan(8_000);
    expect(pttl).toBeLessThanOrEqual(10_000);
    const stored = await redis.get(keys[0]!);
    expect(stored).not.toContain(ticket);
    expect(JSON.parse(stored!)).toMatchObject({ sub: 'alice', scopes: ['chat'] });
  });

  it('keeps the credential expiry, and a JWT expiring first cuts the ticket short', async () => {
    const { a, b, keyPrefix } = two();
    const exp = Date.now() + 5_000;
    const issued = await a.issue(alice(exp));
    expect(issued.expiresAt).toBe(new Date(exp).toISOString());
    expect(await client().pttl(ticketKey(keyPrefix, issued.ticket))).toBeLessThanOrEqual(5_000);
    expect(await b.redeem(issued.ticket)).toMatchObject({ via: 'ticket', expiresAt: exp });
    await expect(a.issue(alice(Date.now() - 1))).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'token expired',
    });
  });

  it('refuses expired, unknown and malformed tickets as unauthorized', async () => {
    let now = Date.now();
    const { a, b } = two({ ttlMs: 30_000, now: () => now });
    const { ticket } = await a.issue(alice());
    now += 30_000;
    await expect(b.redeem(ticket)).rejects.toMatchObject({ code: 'unauthorized', message: 'ticket expired' });
    const { ticket: real } = await a.issue(alice());
    await expect(b.redeem(`${real.slice(0, -1)}${real.endsWith('A') ? 'B' : 'A'}`)).rejects.toMatchObject({
      code: 'unauthorized',
    });
    await expect(b.redeem('not a ticket')).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('expires the key with the ticket, and refuses a ticket past its expiry on its own clock', async () => {
    // No waiting on the wall clock: Redis is asked for the key's time to live, and the stores'
    // own clock (the check for clocks a little apart) is moved by the test.
    let clock = Date.parse('2026-11-30T00:00:00Z');
    const { a, b, keyPrefix } = two({ ttlMs: 30_000, now: () => clock });
    const { ticket, expiresAt } = await a.issue(alice());
    expect(Date.parse(expiresAt)).toBe(clock + 30_000);
    const ttl = await client().pttl(ticketKey(keyPrefix, ticket));
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    // A token that expires first bounds the key's life too.
    const short = await a.issue(alice(clock + 5_000));
    expect(await client().pttl(ticketKey(keyPrefix, short.ticket))).toBeLessThanOrEqual(5_000);

    clock += 30_000;
    await expect(b.redeem(ticket)).rejects.toMatchObject({ code: 'unauthorized', message: 'ticket expired' });
    // Once Redis has expired the key, the ticket is simply unknown.
    const again = await a.issue(alice());
    await client().del(ticketKey(keyPrefix, again.ticket));
    await expect(b.redeem(again.ticket)).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'invalid or used ticket',
    });
  });

  it('answers unavailable (503, Retry-After) when Redis does not', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    down.on('error', () => {});
    const store = new RedisTicketStore({ redis: down, keyPrefix: newPrefix() });
    await expect(store.issue(alice())).rejects.toMatchObject({
      code: 'unavailable',
      status: 503,
      retryAfter: 5,
    });
    await expect(store.redeem('a'.repeat(43))).rejects.toMatchObject({ code: 'unavailable' });
    down.disconnect();
  });
});
