/**
 * One rate-limiter-flexible limiter for Herald's own limits (the chat limit, the ws-ticket
 * route limit): in this process, or in Redis when HERALD_STORE=redis so the limit holds for
 * every instance sharing the Redis and key prefix together.
 *
 * When Redis fails (errors, or is not connected) a Redis limiter falls back to an in-memory
 * one of the same size (rate-limiter-flexible's `insuranceLimiter`): fail-open to a
 * per-instance limit, never to no limit and never to refusing everyone (docs/decisions.md).
 */

import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { RedisClient } from '../store/redis/client.js';

export interface LimiterOptions {
  /** Requests allowed per window. */
  points: number;
  /** The window in seconds. */
  durationSeconds: number;
  /** Holds the counts in Redis when given. */
  redis?: RedisClient;
  /** The Redis keys' prefix; rate-limiter-flexible adds `:<key>`. Required with `redis`. */
  keyPrefix?: string;
}

export function createLimiter(options: LimiterOptions): RateLimiterAbstract {
  const { points, durationSeconds: duration } = options;
  const memory = new RateLimiterMemory({ points, duration });
  if (!options.redis) return memory;
  return new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: options.keyPrefix ?? 'herald:ratelimit',
    points,
    duration,
    // While Redis is down (reconnecting), fall back at once instead of queueing the command.
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
}
