/**
 * The API documents: /docs/openapi.json names every route Herald serves and is valid OpenAPI
 * 3.1; /docs/asyncapi.json is valid AsyncAPI 3 and its payloads are the protocol's schemas; both
 * and the reference page are public.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ChatFrame, ServerFrame, WsQuery } from '../../src/protocol/index.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();

/** Every route of the app as `METHOD /path/{param}`, read from Fastify's route tree. */
function routesOf(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)(?:[└├]── )?(\S+) \(([A-Z, ]+)\)$/.exec(line.replaceAll('\u00a0', ' '));
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of m[3]!.split(', ')) routes.push(`${method} ${path}`);
  }
  return routes;
}

/** Not part of the API: HEAD twins of GETs, the browser's icon, Swagger UI's own files. */
const notApi = (route: string) =>
  route.startsWith('HEAD ') ||
  route === 'GET /favicon.ico' ||
  (/^GET \/docs(\/|$)/.test(route) && !/^GET \/docs\/(openapi|asyncapi)\.json$/.test(route));

const json = (schema: unknown) => JSON.parse(JSON.stringify(schema));

describe('API documents', () => {
  it('OpenAPI: every route, valid 3.1, public', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await server.request('GET', '/docs/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');

    const routes = routesOf(server.app).filter((r) => !notApi(r));
    expect(routes).toContain('POST /api/chat');
    expect(routes).toContain('GET /ws/chat');
    expect(routes.length).toBeGreaterThanOrEqual(15);
    const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(routes.sort());

    await SwaggerParser.validate(structuredClone(doc));

    // The parts the routes check themselves or write as text are documented all the same.
    const paths = doc.paths;
    expect(paths['/api/agent-messages'].post.requestBody.content['application/json'].schema).toMatchObject({
      required: expect.arrayContaining(['target', 'agentType', 'content', 'source']),
    });
    expect(
      paths['/api/chat'].post.responses['200'].content['application/json'].schema.properties,
    ).toHaveProperty('agent_messages');
    expect(paths['/api/chat/stream'].post.requestBody.content['application/json'].schema.anyOf).toHaveLength(
      2,
    );
    expect(paths['/api/chat/stream'].post.responses['200'].content).toHaveProperty('text/event-stream');
    const wsQuery = paths['/ws/chat'].get.parameters.map(
      (p: { name: string; in: string }) => `${p.in} ${p.name}`,
    );
    expect(wsQuery.sort()).toEqual(
      Object.keys(WsQuery.properties)
        .map((n) => `query ${n}`)
        .sort(),
    );
    // Scopes and errors.
    expect(paths['/api/chat'].post.security).toEqual([{ bearer: [] }]);
    expect(paths['/health'].get.security).toBeUndefined();
    expect(
      paths['/api/chat'].post.responses.default.content['application/json'].schema.properties,
    ).toHaveProperty('code');
  });

  it('OpenAPI: documenting a schema does not make the route validate it', async () => {
    const server = await h.start(AUTH_ENV);
    // The publish body is still checked field by field: every bad field named at once.
    const publish = await server.request('POST', '/api/agent-messages', {
      token: KEYS.publisher,
      body: { target: {}, agentType: 'nope', content: '', source: 'Bad Source' },
    });
    expect(publish.status).toBe(400);
    expect(publish.body.code).toBe('invalid_agent_message');
    expect(publish.body.fields).toEqual(expect.arrayContaining(['target', 'agentType', 'content', 'source']));
  });

  it('AsyncAPI: valid 3.0, the frame schemas, the request host', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await server.request('GET', '/docs/asyncapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.asyncapi).toBe('3.0.0');
    const { document, diagnostics } = await new Parser().parse(doc);
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();

    expect(doc.servers.websocket).toEqual({ host: new URL(server.url).host, protocol: 'ws' });
    expect(Object.values(doc.channels).map((c: any) => c.address)).toEqual([
      '/ws/chat',
      '/api/agent-messages/stream',
      '/api/chat/stream',
    ]);
    const messages = doc.components.messages;
    expect(messages.chat.payload).toEqual(json(ChatFrame));
    const serverFrames = ServerFrame.anyOf.map(json);
    const sent = doc.operations.chatSend.messages.map((m: { $ref: string }) => {
      const id = m.$ref.split('/').pop()!;
      return messages[id].payload;
    });
    expect(sent).toEqual(serverFrames);
    expect(doc.channels.chat.bindings.ws.query).toEqual(json(WsQuery));
  });

  it('AsyncAPI: without agent messages, no agent message stream', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_AGENT_MESSAGES: 'off' });
    const doc = (await server.request('GET', '/docs/asyncapi.json')).body;
    expect(Object.keys(doc.channels)).toEqual(['chat', 'chatStream']);
    const { diagnostics } = await new Parser().parse(doc);
    expect(diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error)).toEqual([]);
  });

  it('the reference page and its assets come from this server', async () => {
    const server = await h.start(AUTH_ENV);
    const page = await server.request('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/https:|http:|\*|upgrade-insecure/);
    const assets = [...(page.body as string).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\//);
      expect((await fetch(server.url + asset)).status, asset).toBe(200);
    }
  });
});
