/**
 * GET /health, /health/live and /health/ready (no auth), GET /metrics (admin), POST
 * /api/ws-ticket (chat), GET / (the page).
 */
import { readFile } from 'node:fs/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../../errors/catalogue.js';
import { HealthResponse, LivenessResponse, ReadinessResponse, TicketResponse } from '../../protocol/http.js';
import { STORE_RETRY_AFTER_S } from '../../store/shared.js';
import type { Store } from '../../store/store.js';

const PAGE_URL = new URL('../../web/index.html', import.meta.url);

export async function systemRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  // 503 while shutting down, so a load balancer stops sending work here; 503 `degraded` while
  // the store cannot reach its backend (Redis), which it reconnects to by itself.
  app.get(
    '/health',
    { schema: { response: { 200: HealthResponse, 503: HealthResponse } } },
    async (_request, reply) => {
      const { herald } = app;
      let status: 'ok' | 'shutting_down' | 'degraded' = 'ok';
      if (herald.shuttingDown) status = 'shutting_down';
      else if ((await storeHealth(herald.store)) !== 'ok') status = 'degraded';
      if (status === 'shutting_down') void reply.header('retry-after', '5');
      if (status === 'degraded') void reply.header('retry-after', String(STORE_RETRY_AFTER_S));
      return reply.code(status === 'ok' ? 200 : 503).send({
        status,
        store: herald.config.store,
        agent: herald.config.agent,
        agentMessages: herald.router ? 'on' : 'off',
      });
    },
  );

  // For orchestrators: live says "do not restart me" (answering at all is the proof), ready says
  // "send me traffic" (not while shutting down or while the store cannot be reached).
  app.get('/health/live', { schema: { response: { 200: LivenessResponse } } }, async () => ({
    status: 'ok' as const,
  }));
  app.get(
    '/health/ready',
    { schema: { response: { 200: ReadinessResponse, 503: ReadinessResponse } } },
    async (_request, reply) => {
      const { herald } = app;
      if (herald.shuttingDown)
        return reply
          .code(503)
          .header('retry-after', '5')
          .send({ status: 'not_ready', reason: 'shutting_down' });
      if ((await storeHealth(herald.store)) !== 'ok')
        return reply
          .code(503)
          .header('retry-after', String(STORE_RETRY_AFTER_S))
          .send({ status: 'not_ready', reason: 'store_unavailable' });
      return { status: 'ready' as const };
    },
  );

  app.get('/metrics', { config: { scope: 'admin' } }, async (_request, reply) => {
    const { registry } = app.herald.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  // Each ticket is held (in memory, or in Redis with HERALD_STORE=redis) until used or expired:
  // a principal may take only so many.
  const perMinute = app.herald.config.ticketRateLimit;
  app.post(
    '/api/ws-ticket',
    {
      schema: { response: { 200: TicketResponse } },
      config: {
        scope: 'chat',
        rateLimit:
          perMinute > 0
            ? {
                max: perMinute,
                timeWindow: 60_000,
                hook: 'preHandler',
                keyGenerator: (request) => `ticket:${request.principal.sub}`,
                errorResponseBuilder: (_request, context) =>
                  new HeraldError('rate_limited', `At most ${perMinute} WebSocket tickets a minute.`, {
                    retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)),
                  }),
              }
            : false,
      },
    },
    async (request) => app.herald.auth.issueTicket(request.principal),
  );

  // Browsers ask for it on every page load; no icon rather than a logged 404.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());

  // Read once at start-up; the page is small and never changes while running.
  const page = await readFile(PAGE_URL, 'utf8');
  app.get('/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header(
        'content-security-policy',
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self'",
      )
      .header('x-content-type-options', 'nosniff')
      .send(page),
  );
}

/** The store's own check (a store without one is fine); one that throws counts as unreachable. */
async function storeHealth(store: Store): Promise<'ok' | 'unavailable'> {
  try {
    return (await store.health?.()) ?? 'ok';
  } catch {
    return 'unavailable';
  }
}
