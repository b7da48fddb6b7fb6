/** GET /health (no auth), GET /metrics (admin), POST /api/ws-ticket (any scope), GET / (the page). */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../../errors/catalogue.js';

const PAGE_URL = new URL('../../web/index.html', import.meta.url);

export async function systemRoutes(app: FastifyInstance): Promise<void> {
  // 503 while shutting down, so a load balancer stops sending work here.
  app.get('/health', async (_request, reply) => {
    if (app.herald.shuttingDown) void reply.header('retry-after', '5');
    return reply.code(app.herald.shuttingDown ? 503 : 200).send({
      status: app.herald.shuttingDown ? 'shutting_down' : 'ok',
      store: app.herald.config.store,
      agent: app.herald.config.agent,
      agentMessages: app.herald.router ? 'on' : 'off',
    });
  });

  app.get('/metrics', { config: { scope: 'admin' } }, async (_request, reply) => {
    const { registry } = app.herald.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  // Each ticket is held in memory until used or expired: a principal may take only so many.
  const perMinute = app.herald.config.ticketRateLimit;
  app.post(
    '/api/ws-ticket',
    {
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
