/**
 * The API reference, public like /health (docs/decisions.md, API documents): GET /docs (Swagger
 * UI, every asset served from node_modules, nothing from another origin), GET /docs/openapi.json
 * and GET /docs/asyncapi.json.
 */
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { asyncApiDocument } from './asyncapi.js';

/**
 * Only this origin: no font, style or validator badge from elsewhere (@fastify/swagger-ui's own
 * policy allows any https origin for fonts and styles). Swagger UI sets inline styles; its logo
 * is a data: image.
 */
const CSP =
  "default-src 'self'; base-uri 'self'; frame-ancestors 'self'; img-src 'self' data:; object-src 'none'; " +
  "script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'";

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: CSP,
    theme: { title: 'Herald API' },
    uiConfig: { deepLinking: true, validatorUrl: null },
  });

  app.get('/docs/openapi.json', async () => app.swagger());

  // The servers are where this request came to, so the document works behind any host name.
  const agentMessages = app.herald.router !== undefined;
  const byHost = new Map<string, Record<string, unknown>>();
  app.get('/docs/asyncapi.json', async (request: FastifyRequest) => {
    const secure = request.protocol === 'https';
    const host = request.host || `${app.herald.config.host}:${app.herald.config.port}`;
    const key = `${secure} ${host}`;
    let doc = byHost.get(key);
    if (!doc) {
      doc = asyncApiDocument({ host, secure, agentMessages });
      // Bounded: a client choosing Host headers cannot grow it.
      if (byHost.size < 16) byHost.set(key, doc);
    }
    return doc;
  });
}
