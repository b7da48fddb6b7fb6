/**
 * The new-session limit: sessions one principal may make per minute (HERALD_SESSION_RATE_LIMIT),
 * whatever makes them: a chat without a `sessionId` over HTTP or the AI SDK stream, or a
 * WebSocket connect without one. Without it a client could make thousands of sessions in
 * seconds without sending a message, each one more for a publish to its user to fan out over
 * (docs/decisions.md, Fairness). In this process, or in Redis like the chat limit.
 */
import { RateLimiterRes } from 'rate-limiter-flexible';
import { HeraldError } from '../errors/catalogue.js';
import { createLimiter } from '../rate-limit/limiter.js';
import type { ChatRateLimiter, ChatRateLimiterOptions } from './chat-rate-limiter.js';

export type SessionRateLimiter = ChatRateLimiter;

export function createSessionRateLimiter(
  perMinute: number,
  options: ChatRateLimiterOptions = {},
): SessionRateLimiter {
  if (perMinute <= 0) return { consume: async () => {} };
  const limiter = createLimiter({
    points: perMinute,
    durationSeconds: 60,
    redis: options.redis,
    keyPrefix: `${options.keyPrefix ?? 'herald:'}ratelimit:sessions`,
  });
  return {
    async consume(sub) {
      try {
        await limiter.consume(sub);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        throw new HeraldError('rate_limited', `New session limit of ${perMinute} a minute reached.`, {
          retryAfter: Math.max(1, Math.ceil(err.msBeforeNext / 1000)),
        });
      }
    },
  };
}
