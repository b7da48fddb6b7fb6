/**
 * The Redis engine: every Herald on one Redis (or one Redis Cluster, HERALD_REDIS_CLUSTER) and
 * key prefix shares sessions, admissions, tickets and limits, and wakes the others for live
 * delivery. Connections: one for commands (the store, tickets, limits), one that only
 * subscribes (wake-ups and kept replies; a subscribing connection can do nothing else) and, on
 * a Cluster, one that publishes (below).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { createRedisBroker } from '../agent-messages/redis-broker.js';
import { RedisTicketStore } from '../auth/redis-tickets.js';
import { createChatRateLimiter } from '../chat/chat-rate-limiter.js';
import { createSessionRateLimiter } from '../chat/session-rate-limiter.js';
import { redisAddress } from '../store/redis/address.js';
import { createRedisClient } from '../store/redis/client.js';
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
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: 5_000,
    // While Redis is away the store refuses at once (503); these bound what was already sent
    // when it went: given up after one failed reconnection, or after 5 s, never waiting for
    // Redis to come back (ioredis's default retries 20 times).
    maxRetriesPerRequest: 1,
    commandTimeout: 5_000,
  };
  const redis = createRedisClient(config.redisUrl, config.redisCluster, {
    ...options,
    connectionName: `herald@${namedPrefix}`,
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
  // Pub/sub (wake-ups, and the stops and reads of kept replies) all goes through the node
  // REDIS_URL names. On one server that is the server. On a Cluster it means plain connections
  // to that node, one subscribing and one publishing, rather than the Cluster client: a PUBLISH
  // sent to another node reaches this one only through the cluster bus (dropped while a bus
  // link is down, seen in test/e2e/redis-cluster-instances.test.ts) and answers with the
  // receivers of its own node only (a stop would look unheard); and ioredis's Cluster
  // subscriber can move to another node just after start-up, dropping what was subscribed.
  const subscriber = new Redis(config.redisUrl, { ...options, connectionName: `herald-live@${namedPrefix}` });
  const publisher = config.redisCluster
    ? new Redis(config.redisUrl, { ...options, connectionName: `herald-wake@${namedPrefix}` })
    : redis;
  const liveFailed = (err: Error) =>
    hooks.log.warn({ redis: where, reason: err.message }, 'Redis connection for live delivery failed');
  subscriber.on('error', liveFailed);
  if (publisher !== redis) publisher.on('error', liveFailed);
  // Connected now, not by its first SUBSCRIBE: a lazy connection that a SUBSCRIBE opens sent it
  // on a connection ioredis then replaced without subscribing again (seen in MONITOR under the
  // chaos test), so that session's wake-ups never came.
  try {
    await subscriber.connect();
    if (publisher !== redis) await publisher.connect();
  } catch (err) {
    redis.disconnect();
    subscriber.disconnect();
    publisher.disconnect();
    throw new Error(`Redis at ${where} did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  const store = createRedisStore({
    redis,
    keyPrefix,
    timelineMaxEntries: config.timelineMaxEntries,
    onTimelineTrimmed: hooks.onTimelineTrimmed,
  });
  const broker = createRedisBroker({ publisher, subscriber, keyPrefix });
  const replies = createRedisReplies({
    redis,
    subscriber,
    publisher,
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
      if (publisher !== redis) await publisher.quit().catch(() => publisher.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
