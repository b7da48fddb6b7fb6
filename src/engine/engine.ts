/**
 * The engine: everything that must hold across Herald instances, behind one interface, in
 * the spirit of Socket.IO's adapters and Centrifugo's engines. The core (router, chat, auth,
 * transports) asks the engine and never knows which one it runs on:
 *
 * - `store`: sessions, timelines, and the admission of an agent message with its seq,
 *   idempotency key and rate window in one atomic step; acks; expiry.
 * - `broker`: wakes the instances that hold a session's live channels.
 * - `tickets`, `chatRateLimiter`, `sessionRateLimiter`, `routeLimitStore`: WebSocket tickets
 *   and the chat, new-session and ws-ticket limits.
 * - `replies`: resumable replies read and stopped from another instance than the one making them.
 *
 * Delivery ownership needs no entry of its own: the instance holding a socket owns its
 * redelivery and asks the store before every resend, so an ack anywhere stops it, and a client
 * whose instance died is replayed from the store by whichever instance it reconnects to.
 *
 * Two engines: `local` (HERALD_STORE=sqlite or memory: one process, nothing shared, the
 * default) and `redis` (HERALD_STORE=redis: every instance on one Redis and key prefix).
 */
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyBaseLogger } from 'fastify';
import type { Broker } from '../agent-messages/broker.js';
import type { Tickets } from '../auth/tickets.js';
import type { ChatRateLimiter } from '../chat/chat-rate-limiter.js';
import type { SessionRateLimiter } from '../chat/session-rate-limiter.js';
import type { HeraldConfig } from '../config/config.js';
import type { SqliteStoreOptions } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createLocalEngine } from './local-engine.js';
import { createRedisEngine } from './redis-engine.js';
import type { ReplyLog } from './redis-replies.js';

export interface Engine {
  readonly kind: 'local' | 'redis';
  readonly store: Store;
  readonly broker: Broker;
  /** WebSocket tickets; undefined keeps the Authenticator's own, in this process. */
  readonly tickets: Tickets | undefined;
  readonly chatRateLimiter: ChatRateLimiter;
  /** New sessions per principal per minute (HERALD_SESSION_RATE_LIMIT). */
  readonly sessionRateLimiter: SessionRateLimiter;
  /** @fastify/rate-limit's store for route limits; undefined counts in this process. */
  readonly routeLimitStore: FastifyRateLimitStoreCtor | undefined;
  /** Kept replies readable and stoppable from other instances; undefined: this instance only. */
  readonly replies: ReplyLog | undefined;
  /** Closes the store and every connection the engine opened; calling it again does nothing. */
  close(): Promise<void>;
}

export type EngineConfig = Pick<
  HeraldConfig,
  | 'store'
  | 'dataDir'
  | 'redisUrl'
  | 'redisCluster'
  | 'redisKeyPrefix'
  | 'chatRateLimit'
  | 'sessionRateLimit'
  | 'ticketTtlMs'
  | 'timelineMaxEntries'
  | 'replyKeepMs'
  | 'replyKeepMaxBytes'
  | 'replyKeepMaxReplies'
>;

/** What the app is told about the engine's work (metrics, logs); engines without the event ignore it. */
export interface EngineHooks
  extends Pick<SqliteStoreOptions, 'onCommit' | 'onCheckpoint' | 'onCheckpointError' | 'onTimelineTrimmed'> {
  log: FastifyBaseLogger;
}

/**
 * Opens the engine HERALD_STORE names. On Redis it waits until Redis answers, and fails start-up
 * (naming the address, never the password) when it does not. `store` replaces the local
 * engine's own (tests hand in theirs).
 *
 * @example
 * const engine = await createEngine(config, { log: app.log });
 */
export async function createEngine(config: EngineConfig, hooks: EngineHooks, store?: Store): Promise<Engine> {
  if (config.store === 'redis' && store === undefined) return createRedisEngine(config, hooks);
  return createLocalEngine(config, hooks, store);
}
