/** createCrossInstanceState: in-process on sqlite/memory; on Redis, a start that never shows the password. */
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createCrossInstanceState } from '../../src/cross-instance.js';

const config = {
  redisKeyPrefix: 'herald:',
  chatRateLimit: 2,
  ticketTtlMs: 30_000,
};

describe('createCrossInstanceState', () => {
  it('keeps everything in this process off Redis', async () => {
    for (const store of ['sqlite', 'memory'] as const) {
      const state = await createCrossInstanceState(
        { ...config, store, redisUrl: 'redis://unused' },
        {} as never,
      );
      expect(state.tickets).toBeUndefined();
      expect(state.routeLimits).toEqual({});
      await state.chatRateLimiter.consume('alice');
      await state.chatRateLimiter.consume('alice');
      await expect(state.chatRateLimiter.consume('alice')).rejects.toMatchObject({ code: 'rate_limited' });
      await state.close();
    }
  });

  it('fails to start when Redis does not answer, naming the address but never the password', async () => {
    const warnings: unknown[] = [];
    const log = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as FastifyBaseLogger;
    const err = await createCrossInstanceState(
      { ...config, store: 'redis', redisUrl: 'redis://user:s3cret-pass@127.0.0.1:1' },
      log,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('Redis at 127.0.0.1:1 did not answer');
    expect((err as Error).message).not.toContain('s3cret');
    expect(warnings.length).toBeGreaterThan(0);
    expect(JSON.stringify(warnings)).toContain('127.0.0.1:1');
    expect(JSON.stringify(warnings)).not.toContain('s3cret');
  });
});
