/**
 * The real Redis for tests (REDIS_URL, default redis://127.0.0.1:6379): whether it answers,
 * a fresh key prefix per test, and deleting a prefix afterwards. Files that need Redis skip
 * with one line when none answers, except under CI, where `requireRedisInCi` fails instead.
 */
import { Redis } from 'ioredis';
import { ulid } from 'ulid';
import { it } from 'vitest';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Says once why the file's Redis tests are skipped, or (under CI) fails with a test of its own. */
export function requireRedisInCi(hasRedis: boolean, what: string): void {
  if (!hasRedis && !process.env.CI) console.log(`no Redis at ${REDIS_URL}: ${what} skipped`);
  it.runIf(!hasRedis && Boolean(process.env.CI))('has a Redis in CI', () => {
    throw new Error(`no Redis at ${REDIS_URL}: start one or set REDIS_URL`);
  });
}

/** Deletes every key under `prefix` (SCAN + UNLINK). */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

export const newPrefix = (): string => `herald-test:${ulid()}:`;
