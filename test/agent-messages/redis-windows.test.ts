/**
 * The agent message rate windows in Redis: the same rules as the in-process windows, holding
 * over two instances (two clients sharing a key prefix).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { localWindows, type RateWindows, WINDOW_MS } from '../../src/agent-messages/rate-window.js';
import { redisWindows } from '../../src/agent-messages/redis-windows.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';

const hasRedis = await redisAnswers();
requireRedisInCi(hasRedis, 'agent message rate windows on Redis');

const T = 1_800_000_000_000;

describe.skipIf(!hasRedis)('rate windows in Redis', () => {
  const clients: Redis[] = [];
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const c of clients) await c.quit();
    for (const p of prefixes) await dropPrefix(p);
  });
  /** Two instances' windows on one prefix. */
  const pair = (): [RateWindows, RateWindows] => {
    const prefix = newPrefix();
    prefixes.push(prefix);
    const [a, b] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    clients.push(a, b);
    return [redisWindows(a, prefix), redisWindows(b, prefix)];
  };

  it('admits up to the limit in any 60 s over both instances, and carries what it refused', async () => {
    const [a, b] = pair();
    expect(await a.tryAdmit('s1', 'status', 2, T)).toEqual({ ok: true, suppressed: 0 });
    expect(await b.tryAdmit('s1', 'status', 2, T + 10)).toEqual({ ok: true, suppressed: 0 });
    expect(await a.tryAdmit('s1', 'status', 2, T + 20)).toEqual({ ok: false, retryAfterMs: WINDOW_MS - 20 });
    expect(await b.tryAdmit('s1', 'status', 2, T + 30)).toEqual({ ok: false, retryAfterMs: WINDOW_MS - 30 });
    // The first admission leaves the window: the next one carries both refusals.
    expect(await b.tryAdmit('s1', 'status', 2, T + WINDOW_MS + 1)).toEqual({ ok: true, suppressed: 2 });
    expect(await a.tryAdmit('s1', 'status', 2, T + WINDOW_MS + 11)).toEqual({ ok: true, suppressed: 0 });
  });

  it('keeps sessions and types apart, and hands refusals to a message that bypasses the limit', async () => {
    const [a, b] = pair();
    expect((await a.tryAdmit('s1', 'status', 1, T)).ok).toBe(true);
    expect((await a.tryAdmit('s2', 'status', 1, T)).ok).toBe(true);
    expect((await a.tryAdmit('s1', 'error', 1, T)).ok).toBe(true);
    expect((await b.tryAdmit('s1', 'status', 1, T + 1)).ok).toBe(false);
    expect(await b.takeSuppressed('s1', 'status')).toBe(1);
    expect(await a.takeSuppressed('s1', 'status')).toBe(0);
  });

  it('agrees with the in-process windows on the same sequence', async () => {
    const [redis] = pair();
    const local = localWindows();
    const steps = [0, 5, 9, 30_000, 59_999, 60_000, 60_004, 60_006, 120_010, 120_011];
    for (const [i, dt] of steps.entries()) {
      if (i === 6)
        expect(await redis.takeSuppressed('s', 'status')).toBe(await local.takeSuppressed('s', 'status'));
      expect(await redis.tryAdmit('s', 'status', 3, T + dt)).toEqual(
        await local.tryAdmit('s', 'status', 3, T + dt),
      );
    }
  });
});
