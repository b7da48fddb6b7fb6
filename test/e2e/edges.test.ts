/** Edges a careful client meets: odd URLs, shutdown, origins, odd-but-valid JSON. */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { createGatedAgent } from '../support/gated-agent.js';
import { useHarness } from '../support/harness.js';
import { WsClient } from '../support/ws-client.js';

const h = useHarness();

describe('URLs', () => {
  it('answers bad and overlong path parameters with the catalogue body', async () => {
    const server = await h.start(AUTH_ENV);
    const bad = await server.request('GET', '/api/sessions/%ZZ/messages', { token: KEYS.alice });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, code: 'invalid_request', fields: ['url'] });
    const long = await server.request('GET', `/api/sessions/sess_${'A'.repeat(600)}/messages`, {
      token: KEYS.alice,
    });
    expect(long.status).toBe(404);
    expect(long.body).toMatchObject({ success: false, code: 'not_found' });
    // Any id Herald could not have made is simply unknown.
    const odd = await server.request('GET', `/api/sessions/sess_${'A'.repeat(90)}/messages`, {
      token: KEYS.alice,
    });
    expect(odd.status).toBe(404);
    expect(odd.body.code).toBe('session_not_found');
  });

  it('explains a plain GET on the WebSocket endpoint', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await server.request('GET', '/ws/chat', { token: KEYS.alice });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_request', fields: ['upgrade'] });
  });
});

describe('JSON bodies', () => {
  it('accepts valid JSON holding __proto__ and ignores that key', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: '{"message":"hi","context":{"__proto__":{"admin":true}}}',
    });
    expect(res.status).toBe(200);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('takes a bodyless POST with a JSON content type', async () => {
    const server = await h.start(AUTH_ENV);
    const ticket = await server.request('POST', '/api/ws-ticket', {
      token: KEYS.alice,
      headers: { 'content-type': 'application/json' },
    });
    expect(ticket.status).toBe(200);
    const chat = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      headers: { 'content-type': 'application/json' },
    });
    expect(chat.status).toBe(400);
    expect(chat.body.code).toBe('invalid_request');
  });
});

describe('WebSocket edges', () => {
  it('tells a bad `after` in an error frame after ready, keeps the socket and replays from 0', async () => {
    const server = await h.start(AUTH_ENV);
    const first = await h.connect(server.wsUrl, { token: KEYS.alice });
    const sessionId = first.ready.sessionId;
    await server.request('POST', '/api/agent-messages', {
      token: KEYS.publisher,
      body: { target: { sessionId }, agentType: 'security', content: 'kept', source: 'test' },
    });
    const client = h.track(
      new WsClient(`${server.wsUrl}?sessionId=${sessionId}&after=abc`, { token: KEYS.alice }),
    );
    await client.open();
    expect((await client.type('ready')).sessionId).toBe(sessionId);
    expect(await client.type('error')).toMatchObject({ code: 'invalid_request', fields: ['after'] });
    expect((await client.type('agent_message')).message.content).toBe('kept');
    expect(client.frames[0]!.type).toBe('ready');
    expect(client.closeCode).toBeUndefined();
  });

  it('names the chat id in errors about a bad chat frame', async () => {
    const server = await h.start(AUTH_ENV);
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send({ type: 'chat', id: 'm_7', message: 5 });
    expect(await client.type('error')).toMatchObject({
      code: 'invalid_request',
      fields: ['message'],
      replyTo: 'm_7',
    });
  });

  it('lets only loopback origins connect in open development mode', async () => {
    const server = await h.start();
    const evil = h.track(new WsClient(server.wsUrl, { headers: { origin: 'http://evil.example' } }));
    await evil.open();
    expect(await evil.type('error')).toMatchObject({ code: 'forbidden' });
    expect(await evil.closed()).toBe(1008);
    const dev = h.track(new WsClient(server.wsUrl, { headers: { origin: 'http://localhost:3000' } }));
    await dev.open();
    expect((await dev.type('ready')).type).toBe('ready');
  });
});

describe('shutdown', () => {
  it('refuses new requests with 503 unavailable while replies in flight finish', async () => {
    const agent = createGatedAgent();
    const server = await h.start(AUTH_ENV, { agent });
    // One kept-alive connection, opened before shutdown: requests on it still reach Herald.
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const viaKeepAlive = (method: string, path: string, body?: unknown) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }>((resolve, reject) => {
        const req = http.request(`${server.url}${path}`, {
          method,
          agent: keepAlive,
          headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
          );
        });
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    try {
      expect((await viaKeepAlive('GET', '/health')).status).toBe(200);
      const inFlight = server.request('POST', '/api/chat', {
        token: KEYS.alice,
        body: { message: 'finish me' },
      });
      await agent.started();
      const closing = server.close();
      const refused = await viaKeepAlive('POST', '/api/chat', { message: 'late' });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ success: false, code: 'unavailable' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      const health = await viaKeepAlive('GET', '/health');
      expect(health.status).toBe(503);
      expect(Number(health.headers['retry-after'])).toBeGreaterThan(0);
      expect(health.body.status).toBe('shutting_down');
      agent.release({ reply: 'done' });
      expect((await inFlight).status).toBe(200);
      await closing;
    } finally {
      keepAlive.destroy();
    }
  });
});

describe('the page', () => {
  it('is served with a same-origin Content-Security-Policy', async () => {
    const server = await h.start();
    const res = await fetch(`${server.url}/`);
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain('ws:');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
