/**
 * What every transport shares, decorated on the Fastify instance as `app.herald`, and the
 * module augmentation that types Herald's request fields and route options in one place.
 */

import type { AgentMessageRouter } from './agent-messages/router.js';
import type { Authenticator, Principal, Scope } from './auth/principal.js';
import type { ChatService } from './chat/chat-service.js';
import type { Sessions } from './chat/sessions.js';
import type { HeraldConfig } from './config/config.js';
import type { ReplyLog } from './engine/redis-replies.js';
import type { Metrics } from './observability/metrics.js';
import type { RetentionSweeper } from './retention/sweeper.js';
import type { Store } from './store/store.js';
import type { LiveLimit } from './transports/live-limit.js';

export interface HeraldContext {
  config: HeraldConfig;
  store: Store;
  sessions: Sessions;
  chat: ChatService;
  /** Undefined when HERALD_AGENT_MESSAGES=off. */
  router: AgentMessageRouter | undefined;
  /** Kept replies shared with other instances (HERALD_STORE=redis); undefined: this instance only. */
  replies: ReplyLog | undefined;
  auth: Authenticator;
  metrics: Metrics;
  /** The pii and secrets steps of the pipeline, for producers' agent messages. */
  scrub: (text: string) => string;
  /** Set when shutdown starts: live connections close, new chats are refused. */
  shuttingDown: boolean;
  /** Live WebSocket and SSE connections, closed with 1001 (or ended) on shutdown. */
  connections: Set<{
    readonly sessionId?: string;
    close(code: number, reason: string): void | Promise<void>;
  }>;
  /** Live WebSockets and agent message streams per principal (HERALD_MAX_CONNECTIONS_PER_PRINCIPAL). */
  liveConnections: LiveLimit;
  /** Deletes idle sessions (HERALD_SESSION_RETENTION_MS); `run()` does one pass now. */
  retention: RetentionSweeper;
}

declare module 'fastify' {
  interface FastifyInstance {
    herald: HeraldContext;
  }
  interface FastifyRequest {
    /** Set by the auth hook on routes whose config names a scope. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one need no credentials. */
    scope?: Scope;
    /** WebSocket routes answer auth failures with an error frame and close 1008, not HTTP. */
    wsAuth?: boolean;
    /**
     * Schemas shown in the API documents (/docs) only, never compiled or validated by Fastify:
     * for the parts a route checks itself or writes as ready-made text (src/docs/openapi.ts).
     */
    docs?: import('fastify').FastifySchema;
  }
}
