/**
 * The chat rate limit: messages per principal per minute, HTTP and WebSocket together
 * (HERALD_CHAT_RATE_LIMIT). rate-limiter-flexible so a later Redis-backed limiter can
 * hold the limit across instances behind the same call.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { HeraldError } from '../errors/catalogue.js';

export interface ChatRateLimiter {
  /** Counts one chat message for the user; throws rate_limited with Retry-After seconds. */
  consume(sub: string): Promise<void>;
}

export function createChatRateLimiter(perMinute: number): ChatRateLimiter {
  if (perMinute <= 0) return { consume: async () => {} };
  const limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
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
