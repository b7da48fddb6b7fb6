/**
 * What must hold across every Herald sharing one Redis (HERALD_STORE=redis): WebSocket
 * tickets, the chat rate limit and the ws-ticket route limit, on one ioredis client of their
 * own, closed with the app. On sqlite and memory all three stay in this process, as before.
 */
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { type Broker, localBroker } from './agent-messages/broker.js';
import { createRedisBroker } from './agent-messages/redis-broker.js';
import { RedisTicketStore } from './auth/redis-tickets.js';
import type { Tickets } from './auth/tickets.js';
import { type ChatRateLimiter, createChatRateLimiter } from './chat/chat-rate-limiter.js';
import type { HeraldConfig } from './config/config.js';
import { redisAddress } from './store/redis/address.js';
import { redisRouteLimitStore } from './transports/http/route-limit-store.js';

export interface CrossInstanceState {
  /** Redis tickets; undefined keeps the Authenticator's in-process ones. */
  tickets: Tickets | undefined;
  chatRateLimiter: ChatRateLimiter;
  /** @fastify/rate-limit's options beyond `global`: its Redis-backed store, or none. */
  routeLimits: { store?: FastifyRateLimitStoreCtor };
  /** How agent messages admitted on one instance reach the channels another holds. */
  broker: Broker;
  close(): Promise<void>;
}

/**
 * On Redis, waits until the client answers (it fails start-up, with the address but never the
 * password, when Redis does not), so the limits count in Redis from the first request.
 */
export async function createCrossInstanceState(
  config: Pick<HeraldConfig, 'store' | 'redisUrl' | 'redisKeyPrefix' | 'chatRateLimit' | 'ticketTtlMs'>,
  log: FastifyBaseLogger,
): Promise<CrossInstanceState> {
  if (config.store !== 'redis')
    return {
      tickets: undefined,
      chatRateLimiter: createChatRateLimiter(config.chatRateLimit),
      routeLimits: {},
      broker: localBroker,
      close: async () => {},
    };
  const keyPrefix = config.redisKeyPrefix;
  // Fail a command after one failed reconnection or 5 s rather than hold a request for long.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 5_000 });
  const where = redisAddress(config.redisUrl);
  // Without a listener ioredis prints every failed reconnection itself. Never the URL: it may hold a password.
  redis.on('error', (err: Error) =>
    log.warn({ redis: where, reason: err.message }, 'Redis connection for tickets and rate limits failed'),
  );
  try {
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`Redis at ${where} did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  // A subscribing connection can do nothing else: the broker has one of its own.
  const subscriber = redis.duplicate();
  subscriber.on('error', (err: Error) =>
    log.warn({ redis: where, reason: err.message }, 'Redis connection for live delivery failed'),
  );
  const broker = createRedisBroker({ publisher: redis, subscriber, keyPrefix });
  return {
    tickets: new RedisTicketStore({ redis, keyPrefix, ttlMs: config.ticketTtlMs }),
    chatRateLimiter: createChatRateLimiter(config.chatRateLimit, { redis, keyPrefix }),
    routeLimits: { store: redisRouteLimitStore(redis, keyPrefix) },
    broker,
    async close() {
      await broker.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
