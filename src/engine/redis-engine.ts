/**
 * The Redis engine: every Herald on one Redis and key prefix shares sessions, admissions,
 * tickets and limits, and wakes the others for live delivery. Two connections: one for
 * commands (the store, tickets, limits) and one that only subscribes (the broker's wake-ups;
 * a subscribing connection can do nothing else).
 */
import { Redis } from 'ioredis';
import { createRedisBroker } from '../agent-messages/redis-broker.js';
import { RedisTicketStore } from '../auth/redis-tickets.js';
import { createChatRateLimiter } from '../chat/chat-rate-limiter.js';
import { createSessionRateLimiter } from '../chat/session-rate-limiter.js';
import { redisAddress } from '../store/redis/address.js';
import { createRedisStore } from '../store/redis-store.js';
import { redisRouteLimitStore } from '../transports/http/route-limit-store.js';
import type { Engine, EngineConfig, EngineHooks } from './engine.js';
import { createRedisReplies } from './redis-replies.js';

export async function createRedisEngine(config: EngineConfig, hooks: EngineHooks): Promise<Engine> {
  const where = redisAddress(config.redisUrl);
  const keyPrefix = config.redisKeyPrefix;
  // Named for CLIENT LIST: which connections are Herald's, and which of them only subscribes.
  // (Redis refuses names with spaces or characters outside printable ASCII.)
  const namedPrefix = keyPrefix.replace(/[^!-~]/g, '_');
  const redis = new Redis(config.redisUrl, {
    connectionName: `herald@${namedPrefix}`,
    lazyConnect: true,
    connectTimeout: 5_000,
    // While Redis is away the store refuses at once (503); these bound what was already sent
    // when it went: given up after one failed reconnection, or after 5 s, never waiting for
    // Redis to come back (ioredis's default retries 20 times).
    maxRetriesPerRequest: 1,
    commandTimeout: 5_000,
  });
  // Without a listener ioredis prints every failed reconnection itself. Never the URL: it may hold a password.
  redis.on('error', (err: Error) =>
    hooks.log.warn({ redis: where, reason: err.message }, 'Redis connection failed'),
  );
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`Redis at ${where} did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  const subscriber = redis.duplicate({ connectionName: `herald-live@${namedPrefix}` });
  subscriber.on('error', (err: Error) =>
    hooks.log.warn({ redis: where, reason: err.message }, 'Redis connection for live delivery failed'),
  );
  // Connected now, not by its first SUBSCRIBE: a lazy connection that a SUBSCRIBE opens sent it
  // on a connection ioredis then replaced without subscribing again (seen in MONITOR under the
  // chaos test), so that session's wake-ups never came.
  try {
    await subscriber.connect();
  } catch (err) {
    redis.disconnect();
    subscriber.disconnect();
    throw new Error(`Redis at ${where} did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  const store = createRedisStore({
    redis,
    keyPrefix,
    timelineMaxEntries: config.timelineMaxEntries,
    onTimelineTrimmed: hooks.onTimelineTrimmed,
  });
  const broker = createRedisBroker({ publisher: redis, subscriber, keyPrefix });
  const replies = createRedisReplies({
    redis,
    subscriber,
    keyPrefix,
    keepMs: config.replyKeepMs,
    maxBytes: config.replyKeepMaxBytes,
    maxReaders: config.replyKeepMaxReplies,
  });
  let closed = false;
  return {
    kind: 'redis',
    store,
    broker,
    tickets: new RedisTicketStore({ redis, keyPrefix, ttlMs: config.ticketTtlMs }),
    chatRateLimiter: createChatRateLimiter(config.chatRateLimit, { redis, keyPrefix }),
    sessionRateLimiter: createSessionRateLimiter(config.sessionRateLimit, { redis, keyPrefix }),
    routeLimitStore: redisRouteLimitStore(redis, keyPrefix),
    replies,
    async close() {
      if (closed) return;
      closed = true;
      await replies.close();
      await store.close();
      await broker.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
