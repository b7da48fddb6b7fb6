/**
 * Herald mounted as a plugin in an app the user owns: its routes beside the user's own, a chat
 * over HTTP and WebSocket through it, and the user's routes keeping Fastify's own parsers,
 * errors and 404s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { herald } from '../../src/index.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { connect, type WsClient } from '../support/ws-client.js';

let app: FastifyInstance | undefined;
let client: WsClient | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await client?.close();
  await app?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  app = client = dataDir = undefined;
});

/** The user's app: their own route first, then Herald. */
async function userApp(
  env: Record<string, string> = AUTH_ENV,
): Promise<{ url: string; app: FastifyInstance }> {
  dataDir = mkdtempSync(path.join(tmpdir(), 'herald-plugin-'));
  const config = loadConfig({ HERALD_STORE: 'memory', HERALD_DATA_DIR: dataDir, ...env });
  app = Fastify();
  app.get('/hello', async () => ({ hello: 'world' }));
  app.post('/echo', async (request) => ({ got: request.body }));
  await app.register(herald, { config, defaultMetrics: false });
  // The user's route may use what Herald holds.
  app.get('/my/herald', async () => ({ store: app!.herald.config.store, open: app!.herald.auth.openMode }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}`, app };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.alice}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('Herald as a Fastify plugin', () => {
  it("chats over HTTP and WebSocket beside the user's own routes", async () => {
    const { url } = await userApp();
    expect(await (await fetch(`${url}/hello`)).json()).toEqual({ hello: 'world' });
    expect(await (await fetch(`${url}/my/herald`)).json()).toEqual({ store: 'memory', open: false });

    const res = await post(`${url}/api/chat`, { message: 'Hi, my e-mail is jane@example.com' });
    expect(res.status).toBe(200);
    const chat = await res.json();
    expect(chat).toMatchObject({ success: true, sessionId: expect.stringMatching(/^sess_/) });
    expect(chat.response).toContain('[EMAIL]');
    expect(chat.agent_messages.map((m: { agentType: string }) => m.agentType)).toContain('sanitization');

    ({ client } = await connect(`${url.replace('http', 'ws')}/ws/chat?sessionId=${chat.sessionId}`, {
      token: KEYS.alice,
    }));
    client.send({ type: 'chat', id: 'm_ws', message: 'again' });
    const complete = await client.type('complete');
    expect(complete).toMatchObject({ replyTo: 'm_ws' });
    expect(client.frames.some((f) => f.type === 'chunk')).toBe(true);

    // Herald's own answers: auth, errors in the catalogue's shape, the API documents.
    const anonymous = await fetch(`${url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"message":"x"}',
    });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ success: false, code: 'unauthorized' });
    const bad = await post(`${url}/api/chat`, { message: 42 });
    expect(await bad.json()).toMatchObject({ code: 'invalid_request', fields: ['message'] });
    const doc = await (await fetch(`${url}/docs/openapi.json`)).json();
    expect(Object.keys(doc.paths)).toContain('/api/chat');
    expect(Object.keys(doc.paths)).not.toContain('/hello');
  });

  it("leaves the user's parsers, errors and 404s as Fastify makes them", async () => {
    const { url } = await userApp();
    // text/plain is refused on Herald's routes, parsed on the user's.
    const text = await post(`${url}/echo`, 'plain words', { 'content-type': 'text/plain' });
    expect(await text.json()).toEqual({ got: 'plain words' });
    const heraldText = await post(`${url}/api/chat`, 'plain words', { 'content-type': 'text/plain' });
    expect(await heraldText.json()).toMatchObject({ code: 'invalid_request', fields: ['content-type'] });
    // Bad JSON: Fastify's error body on the user's route, Herald's on Herald's.
    const userBad = await (await post(`${url}/echo`, '{nope')).json();
    expect(userBad).toMatchObject({ statusCode: 400 });
    expect(userBad).not.toHaveProperty('success');
    expect(await (await post(`${url}/api/chat`, '{nope')).json()).toMatchObject({ code: 'bad_json' });
    // An unknown path is the user's 404.
    const missing = await (await fetch(`${url}/nowhere`)).json();
    expect(missing).toMatchObject({ statusCode: 404 });
    expect(missing).not.toHaveProperty('code', 'not_found');
  });

  it('can leave the API documents out', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'herald-plugin-'));
    const config = loadConfig({ HERALD_STORE: 'memory', HERALD_DATA_DIR: dataDir });
    app = Fastify();
    await app.register(herald, { config, defaultMetrics: false, docs: false });
    await app.ready();
    expect((await app.inject({ url: '/docs/openapi.json' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
  });
});
