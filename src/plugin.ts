/**
 * Herald as a Fastify plugin: `app.register(herald, { config })` mounts Herald's routes on an
 * app the caller owns, beside its own. The plugin (fastify-plugin, so `app.herald` is the
 * caller's to use) wires the engine, router, chat service and auth; everything that shapes
 * requests (the JSON parser, validation, the error handler, auth and shutdown hooks, WebSocket,
 * rate limits, the API documents) lives in one encapsulated child holding Herald's routes, so
 * the caller's own routes keep their parsers, errors and 404s. `createHerald` (app.ts) is the
 * standalone server: its own Fastify with this plugin and Herald's 404s.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
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
import { createEngine, type Engine } from './engine/engine.js';
import { HeraldError } from './errors/catalogue.js';
import { createMetrics } from './observability/metrics.js';
import { RetentionSweeper } from './retention/sweeper.js';
import { createInjectionClassifier, withClassifier } from './sanitize/classifier.js';
import { createOffLoopSanitizer } from './sanitize/off-loop.js';
import { createScrubber } from './sanitize/pipeline.js';
import type { Store } from './store/store.js';
import { agentMessageRoutes } from './transports/http/agent-message-routes.js';
import { registerAuth } from './transports/http/auth-hook.js';
import { chatRoutes } from './transports/http/chat-routes.js';
import { registerCors } from './transports/http/cors.js';
import { sendError } from './transports/http/error-handler.js';
import { registerJsonParser } from './transports/http/json-parser.js';
import { sessionRoutes } from './transports/http/session-routes.js';
import { systemRoutes } from './transports/http/system-routes.js';
import { LiveLimit } from './transports/live-limit.js';
import { agentMessageStreamRoutes } from './transports/sse/agent-message-stream.js';
import { chatStreamRoutes } from './transports/sse/chat-stream.js';
import { chatSocketRoutes, onSocketError } from './transports/ws/chat-socket.js';
import { clientBundleRoutes } from './web/client-bundle.js';

export interface HeraldOptions {
  config: HeraldConfig;
  store?: Store;
  agent?: ModelAgent;
  /** Collect prom-client's process metrics (off in tests that build many apps). */
  defaultMetrics?: boolean;
  /** The agent message clock (tests move it to test TTL and rate windows). */
  now?: () => number;
  /** Serve /docs, /docs/openapi.json and /docs/asyncapi.json (default true). */
  docs?: boolean;
}

/** A chat body may carry a message at the character limit in 4-byte characters, plus the JSON around it. */
export const bodyLimitOf = (config: HeraldConfig) =>
  Math.max(config.bodyLimitBytes, config.maxMessageChars * 4 + 64 * 1024);

/** Schema errors must name the field: no silent coercion of a number into a message string. */
const validatorCompiler = AjvCompiler()(
  {},
  { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
);

async function heraldPlugin(app: FastifyInstance, options: HeraldOptions): Promise<void> {
  const { config } = options;
  // The pending gauge reads the store at scrape time, so metrics come first and name it later.
  let store: Store | undefined;
  const metrics = createMetrics({
    defaultMetrics: options.defaultMetrics,
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
      onTimelineTrimmed: (entries) =>
        metrics.retention.entriesRemoved.inc({ reason: 'timeline_limit' }, entries),
    },
    options.store,
  );
  store = engine.store;
  const agent = options.agent ?? createModelAgent(config);
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
        now: options.now,
        broker: engine.broker,
      })
    : undefined;
  // Long messages are sanitized in worker threads, so a crafted one never holds the event loop.
  const sanitizer = createOffLoopSanitizer({
    maxChars: config.maxMessageChars,
    minChars: config.sanitizeThreadMinChars,
    threads: config.sanitizeThreads,
  });
  const { injectionClassifier: ic } = config;
  const classifier =
    ic.url === undefined
      ? undefined
      : createInjectionClassifier({
          url: ic.url,
          apiKey: ic.apiKey,
          model: ic.model,
          timeoutMs: ic.timeoutMs,
        });
  const sessions = new Sessions(store, engine.sessionRateLimiter);
  const chat = new ChatService({
    store,
    sessions,
    sanitize: classifier
      ? async (text) => {
          const clean = await sanitizer.sanitize(text);
          // The classifier sees the sanitized text only: nothing redacted leaves Herald.
          return withClassifier(clean, await classifier.classify(clean.text));
        }
      : (text) => sanitizer.sanitize(text),
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

  // Idle sessions go after HERALD_SESSION_RETENTION_MS; those this instance holds live stay.
  const retention = new RetentionSweeper({
    store,
    retentionMs: config.sessionRetentionMs,
    intervalMs: config.retentionIntervalMs,
    liveSessions: () => liveSessions(herald),
    metrics: metrics.retention,
    log: app.log.child({ component: 'retention' }),
    now: options.now,
  });

  const herald: HeraldContext = {
    config,
    store,
    sessions,
    chat,
    router,
    replies: engine.replies,
    auth: await createAuthenticator(config, { tickets: engine.tickets }),
    metrics,
    scrub: createScrubber(),
    shuttingDown: false,
    connections: new Set(),
    liveConnections: new LiveLimit(config.maxConnectionsPerPrincipal),
    retention,
  };
  app.decorate('herald', herald);

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
  // On the caller's app (`app.websocketServer`, `injectWS`), which may use it for its own routes.
  await app.register(websocket, {
    options: { maxPayload: config.wsMaxFrameBytes, perMessageDeflate: false },
    preClose,
    // The same policy as every chat socket's own error listener (onSocketError).
    errorHandler: (err, socket) => onSocketError(app.log, err, socket),
  });
  await app.register(routes, { engine, docs: options.docs ?? true });

  app.addHook('onReady', async () => {
    router?.start();
    retention.start();
  });
  app.addHook('onClose', async () => {
    await agent.close?.();
    await retention.stop();
    await engine.close();
    await sanitizer.close();
  });
}

/**
 * How Herald reads requests and answers errors (docs/protocol.md, sections 6 and 8): JSON
 * bodies only, validated without coercion, every error as the catalogue's body. For Herald's
 * routes, and in the standalone server for the whole app.
 */
export function useHeraldHttp(app: FastifyInstance, config: HeraldConfig): void {
  app.setValidatorCompiler(validatorCompiler);
  // JSON only: a text/plain body answers invalid_request naming content-type, not a schema error.
  app.removeContentTypeParser('text/plain');
  registerJsonParser(app, bodyLimitOf(config));
  app.setErrorHandler(sendError);
}

/** Herald's routes and what shapes their requests, encapsulated. */
async function routes(app: FastifyInstance, options: { engine: Engine; docs: boolean }): Promise<void> {
  const { herald } = app;
  const { config, router } = herald;
  useHeraldHttp(app, config);
  // While shutting down, new requests are refused (health says so too); work in flight finishes.
  app.addHook('onRequest', async (request) => {
    if (herald.shuttingDown && !request.routeOptions.url?.startsWith('/health'))
      throw new HeraldError('unavailable', undefined, { retryAfter: 5 });
  });
  // Before auth: preflights are answered first, and errors carry the CORS headers too.
  await registerCors(app, config.corsOrigins);
  registerAuth(app);
  // Route-level limits only (the chat limit is rate-limiter-flexible, shared with WebSocket).
  await app.register(rateLimit, {
    global: false,
    ...(options.engine.routeLimitStore && { store: options.engine.routeLimitStore }),
  });
  // Before the routes: the OpenAPI document is made from each route as it is added.
  if (options.docs) await registerOpenApi(app);
  await app.register(systemRoutes);
  await app.register(clientBundleRoutes);
  await app.register(chatRoutes);
  await app.register(chatStreamRoutes);
  await app.register(sessionRoutes);
  await app.register(chatSocketRoutes);
  if (router) {
    await app.register(agentMessageRoutes);
    await app.register(agentMessageStreamRoutes);
  }
  if (options.docs) await app.register(docsRoutes);
}

export const herald = fp(heraldPlugin, { fastify: '5.x', name: 'herald' });

/** The sessions with a socket, a stream or a chat call on this instance. */
function* liveSessions(herald: HeraldContext): Iterable<string> {
  if (herald.router) yield* herald.router.liveSessions();
  for (const connection of herald.connections) if (connection.sessionId) yield connection.sessionId;
}
