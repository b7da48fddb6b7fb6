/**
 * A store for @fastify/rate-limit that counts with rate-limiter-flexible in Redis
 * (../../rate-limit/limiter.ts), so route limits (the ws-ticket limit) hold across every
 * instance sharing the Redis and key prefix, with the same in-memory fallback when Redis
 * fails. Without Redis, the plugin's own in-memory store is used, as before.
 * Keys: `<prefix>ratelimit:route:<METHOD><url>:<key>`.
 */
import type {
  FastifyRateLimitOptions,
  FastifyRateLimitStore,
  FastifyRateLimitStoreCtor,
} from '@fastify/rate-limit';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { createLimiter } from '../../rate-limit/limiter.js';
import type { RedisClient } from '../../store/redis/client.js';

type Callback = Parameters<FastifyRateLimitStore['incr']>[1];

/** The part of @fastify/rate-limit's route parameters a store is given. */
interface RouteParams {
  routeInfo?: { method?: string | string[]; url?: string };
}

/** The store class to pass as @fastify/rate-limit's `store` option. */
export function redisRouteLimitStore(redis: RedisClient, keyPrefix: string): FastifyRateLimitStoreCtor {
  return class RedisRouteLimitStore implements FastifyRateLimitStore {
    readonly #namespace: string;
    /** One limiter per window and size (both may be computed per request). */
    readonly #limiters = new Map<string, RateLimiterAbstract>();

    constructor(_params?: unknown, namespace = `${keyPrefix}ratelimit:route:`) {
      this.#namespace = namespace;
    }

    incr(key: string, cb: Callback, timeWindow: number, max: number): void {
      const limiter = this.#limiter(timeWindow, max);
      limiter.consume(key).then(
        (res) => cb(null, { current: res.consumedPoints, ttl: res.msBeforeNext }),
        (err: unknown) => {
          if (err instanceof RateLimiterRes) cb(null, { current: err.consumedPoints, ttl: err.msBeforeNext });
          else cb(err instanceof Error ? err : new Error(String(err)));
        },
      );
    }

    child(params: RouteParams & FastifyRateLimitOptions): FastifyRateLimitStore {
      const method = [params.routeInfo?.method ?? ''].flat().join(',');
      return new RedisRouteLimitStore(undefined, `${this.#namespace}${method}${params.routeInfo?.url ?? ''}`);
    }

    #limiter(timeWindow: number, max: number): RateLimiterAbstract {
      const id = `${timeWindow}/${max}`;
      let limiter = this.#limiters.get(id);
      if (!limiter) {
        limiter = createLimiter({
          points: max,
          durationSeconds: Math.max(1, Math.ceil(timeWindow / 1000)),
          redis,
          keyPrefix: this.#limiters.size === 0 ? this.#namespace : `${this.#namespace}:${id}`,
        });
        this.#limiters.set(id, limiter);
      }
      return limiter;
    }
  };
}
