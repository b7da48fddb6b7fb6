/** The bench's Redis housekeeping: every run's keys live under a prefix of its own. */
import type { Redis } from 'ioredis';

/** Deletes every key under `prefix` (SCAN + UNLINK), so bench runs never fill the Redis they share. */
export async function dropKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
