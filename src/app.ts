/**
 * Builds a Herald server from a configuration: the store, the agent message router, the
 * chat service, auth, and every transport as a plugin. `main.ts` listens; tests call
 * `buildApp` with their own config (ports 0, temp folders, memory store, fake models).
 */
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { AgentMessageRouter } from './agent-messages/router.js';
import { createModelAgent } from './agents/create-agent.js';
import type { ModelAgent } from './agents/model-agent.js';
import { createAuthenticator } from './auth/authenticator.js';
import { ChatService } from './chat/chat-service.js';
import { Sessions } from './chat/sessions.js';
import type { HeraldConfig } from './config/config.js';
import type { HeraldContext } from './context.js';
import { registerOpenApi } from './docs/openapi.js';
import { docsRoutes } from './docs/routes.js';
import { createEngine } from './engine/engine.js';
import { HeraldError } from './errors/catalogue.js';
import { loggerOptions } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { createSanitizer, createScrubber } from './sanitize/pipeline.js';
import type { Store } from './store/store.js';
import { agentMessageRoutes } from './transports/http/agent-message-routes.js';
import { registerAuth } from './transports/http/auth-hook.js';
import { chatRoutes } from './transports/http/chat-routes.js';
import { registerErrorHandling, sendError } from './transports/http/error-handler.js';
import { registerJsonParser } from './transports/http/json-parser.js';
import { sessionRoutes } from './transports/http/session-routes.js';
import { systemRoutes } from './transports/http/system-routes.js';
import { agentMessageStreamRoutes } from './transports/sse/agent-message-stream.js';
import { chatStreamRoutes } from './transports/sse/chat-stream.js';
import { chatSocketRoutes, onSocketError } from './transports/ws/chat-socket.js';

export interface AppOverrides {
  store?: Store;
  agent?: ModelAgent;
  /** Pino logger options or false to silence (tests). */
  logger?: boolean | object;
  /** Collect prom-client's process metrics (off in tests that build many apps). */
  defaultMetrics?: boolean;
  /** The agent message clock (tests move it to test TTL and rate windows). */
  now?: () => number;
}

export async function buildApp(config: HeraldConfig, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  // A chat body may carry a message at the character limit in 4-byte characters, plus the JSON around it.
  const bodyLimit = Math.max(config.bodyLimitBytes, config.maxMessageChars * 4 + 64 * 1024);
  const app = Fastify({
    logger: overrides.logger ?? loggerOptions(config.logLevel),
    bodyLimit,
    // Schema errors must name the field: no silent coercion of a number into a message string.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    forceCloseConnections: true,
    // Shutdown answers with the catalogue's `unavailable` (the hook below), not Fastify's own body.
    return503OnClosing: false,
    // Session ids are ~31 characters; longer path parameters are simply unknown.
    routerOptions: { maxParamLength: 500 },
    frameworkErrors: sendError,
  });

  // The pending gauge reads the store at scrape time, so metrics come first and name it later.
  let store: Store | undefined;
  const metrics = createMetrics({
    defaultMetrics: overrides.defaultMetrics,
    countPending: config.agentMessages ? () => store!.countPending() : undefined,
  });
  // Everything that must hold across instances: local (one process) or Redis (docs/scaling.md).
  const engine = await createEngine(
    config,
    {
      log: app.log,
      onCommit: (writes) => metrics.store.commitWrites.observe(writes),
      onCheckpoint: (result) => metrics.store.walPages.set(result.log),
      onCheckpointError: (err) => app.log.error({ err }, 'the SQLite checkpoint worker failed'),
    },
    overrides.store,
  );
  store = engine.store;
  const agent = overrides.agent ?? createModelAgent(config);
  const router = config.agentMessages
    ? new AgentMessageRouter({
        store,
        metrics,
        log: app.log.child({ component: 'agent-messages' }),
        rateLimits: config.agentRateLimits,
        ackTimeoutMs: config.ackTimeoutMs,
        maxAttempts: config.maxDeliveryAttempts,
        purgeIntervalMs: config.purgeIntervalMs,
        deadLetterRetentionMs: config.deadLetterRetentionMs,
        now: overrides.now,
        broker: engine.broker,
      })
    : undefined;
  const sanitizer = createSanitizer({ maxChars: config.maxMessageChars });
  const sessions = new Sessions(store);
  const chat = new ChatService({
    store,
    sessions,
    sanitize: (text) => sanitizer.sanitize(text),
    agent,
    router,
    rateLimiter: engine.chatRateLimiter,
    metrics,
    log: app.log.child({ component: 'chat' }),
    maxMessageChars: config.maxMessageChars,
    summaryThreshold: config.summaryThreshold,
    slowReplyMs: config.slowReplyMs,
    historyTurns: agent.name === 'local' ? 0 : 20,
  });

  const herald: HeraldContext = {
    config,
    store,
    sessions,
    chat,
    router,
    auth: await createAuthenticator(config, { tickets: engine.tickets }),
    metrics,
    scrub: createScrubber(),
    shuttingDown: false,
    connections: new Set(),
  };
  app.decorate('herald', herald);

  // JSON only: a text/plain body answers invalid_request naming content-type, not a schema error.
  app.removeContentTypeParser('text/plain');
  registerJsonParser(app, bodyLimit);
  registerErrorHandling(app);
  // While shutting down, new requests are refused (health says so too); work in flight finishes.
  app.addHook('onRequest', async (request) => {
    if (herald.shuttingDown && !request.routeOptions.url?.startsWith('/health'))
      throw new HeraldError('unavailable', undefined, { retryAfter: 5 });
  });
  registerAuth(app);
  // Shutdown order: refuse new work, let replies in flight finish (bounded), close sockets with
  // 1001, then (onClose) close the store. It replaces @fastify/websocket's preClose, which
  // would close every socket at once without a code.
  const preClose = async function (this: FastifyInstance) {
    herald.shuttingDown = true;
    const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
    await Promise.race([chat.idle(), wait(config.shutdownGraceMs)]);
    if (chat.active > 0) {
      // Past the grace period: cut the rest short so each client hears why (error frame, 503,
      // error part) and what it saw is recorded, then close.
      chat.abortAll();
      await Promise.race([chat.idle(), wait(2_000)]);
    }
    await Promise.all([...herald.connections].map((c) => c.close(1001, 'server shutting down')));
    router?.stop();
    for (const client of this.websocketServer.clients) client.close(1001, 'server shutting down');
  };
  await app.register(websocket, {
    options: { maxPayload: config.wsMaxFrameBytes, perMessageDeflate: false },
    preClose,
    // The same policy as every chat socket's own error listener (onSocketError).
    errorHandler: (err, socket) => onSocketError(app.log, err, socket),
  });
  // Route-level limits only (the chat limit is rate-limiter-flexible, shared with WebSocket).
  await app.register(rateLimit, {
    global: false,
    ...(engine.routeLimitStore && { store: engine.routeLimitStore }),
  });
  // Before the routes: the OpenAPI document is made from each route as it is added.
  await registerOpenApi(app);
  await app.register(systemRoutes);
  await app.register(chatRoutes);
  await app.register(chatStreamRoutes);
  await app.register(sessionRoutes);
  await app.register(chatSocketRoutes);
  if (router) {
    await app.register(agentMessageRoutes);
    await app.register(agentMessageStreamRoutes);
  }
  await app.register(docsRoutes);

  app.addHook('onReady', async () => router?.start());
  app.addHook('onClose', async () => {
    await agent.close?.();
    await engine.close();
  });
  return app;
}
