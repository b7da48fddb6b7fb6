/**
 * The chat rate limit: messages per principal per minute, HTTP and WebSocket together
 * (HERALD_CHAT_RATE_LIMIT). In this process, or in Redis (HERALD_STORE=redis) so the limit
 * holds across every instance sharing it (../rate-limit/limiter.ts).
 */

import { RateLimiterRes } from 'rate-limiter-flexible';
import { HeraldError } from '../errors/catalogue.js';
import { createLimiter } from '../rate-limit/limiter.js';
import type { RedisClient } from '../store/redis/client.js';

export interface ChatRateLimiter {
  /** Counts one chat message for the user; throws rate_limited with Retry-After seconds. */
  consume(sub: string): Promise<void>;
}

export interface ChatRateLimiterOptions {
  /** Count in Redis, under `<keyPrefix>ratelimit:chat:`. */
  redis?: RedisClient;
  /** The Herald key prefix (HERALD_REDIS_KEY_PREFIX). Default `herald:`. */
  keyPrefix?: string;
}

export function createChatRateLimiter(
  perMinute: number,
  options: ChatRateLimiterOptions = {},
): ChatRateLimiter {
  if (perMinute <= 0) return { consume: async () => {} };
  const limiter = createLimiter({
    points: perMinute,
    durationSeconds: 60,
    redis: options.redis,
    keyPrefix: `${options.keyPrefix ?? 'herald:'}ratelimit:chat`,
  });
  return {
    async consume(sub) {
      try {
        await limiter.consume(sub);
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
          throw new HeraldError(
            'rate_limited',
            `Chat rate limit of ${perMinute} messages a minute reached.`,
            {
              retryAfter,
            },
          );
        }
        throw err;
      }
    },
  };
}
