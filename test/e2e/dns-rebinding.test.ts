/**
 * DNS rebinding and cross-site requests in open development mode (issue 10): a page on another
 * name that resolves to 127.0.0.1 sends its own name as Host, and a page on another origin sends
 * its Origin. Open mode answers neither, on any route (403 `forbidden`; on the WebSocket an error
 * frame and close 1008). With credentials configured the checks are off: the credentials decide.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { publish } from '../support/agent-messages.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import { WsClient } from '../support/ws-client.js';

const h = useHarness();

/** An HTTP call with the Host and Origin headers a browser would send (fetch cannot set Host). */
function call(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      `${url}${path}`,
      {
        method,
        headers: { ...headers, ...(data && { 'content-type': 'application/json' }) },
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const REBOUND = { host: 'attacker.example:8787' };
const CROSS_SITE = { host: '127.0.0.1', origin: 'http://attacker.example' };

describe('open development mode', () => {
  const routes: Array<[string, string, unknown?]> = [
    ['GET', '/health'],
    ['GET', '/'],
    ['GET', '/docs/openapi.json'],
    ['POST', '/api/chat', { message: 'hi' }],
    [
      'POST',
      '/api/agent-messages',
      { target: { userId: 'anonymous' }, agentType: 'status', content: 'x', source: 'x' },
    ],
    ['GET', '/api/agent-messages?sessionId=sess_x'],
    ['POST', '/api/ws-ticket'],
    ['GET', '/metrics'],
  ];

  it('refuses a non-loopback Host on every route with 403 forbidden', async () => {
    const server = await h.start();
    for (const [method, path, body] of routes) {
      const answer = await call(server.url, method, path, REBOUND, body);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body, `${method} ${path}`).toMatchObject({ success: false, code: 'forbidden' });
    }
  });

  it('refuses a cross-origin browser request (Origin not loopback, or "null") with 403 forbidden', async () => {
    const server = await h.start();
    for (const origin of ['http://attacker.example', 'null', 'http://127.0.0.1.attacker.example']) {
      for (const [method, path, body] of routes) {
        const answer = await call(server.url, method, path, { host: '127.0.0.1', origin }, body);
        expect(answer.status, `${origin} ${method} ${path}`).toBe(403);
        expect(answer.body).toMatchObject({ code: 'forbidden' });
      }
    }
  });

  it('serves loopback names and loopback origins', async () => {
    const server = await h.start();
    const port = new URL(server.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, '127.0.0.2']) {
      const answer = await call(server.url, 'GET', '/health', { host, origin: `http://${host}` });
      expect(answer.status, host).toBe(200);
    }
    const chat = await call(
      server.url,
      'POST',
      '/api/chat',
      { host: `localhost:${port}`, origin: 'http://localhost:3000' },
      { message: 'hi' },
    );
    expect(chat.status).toBe(200);
    // What nobody refused still stands: the publish from a loopback page reached the session.
    const published = await publish(server, { target: { sessionId: chat.body.sessionId } });
    expect(published.status).toBe(202);
  });

  it('refuses a WebSocket upgrade to a rebound name with an error frame and close 1008', async () => {
    const server = await h.start();
    const client = h.track(new WsClient(server.wsUrl, { headers: { host: 'attacker.example' } }));
    await client.open();
    expect(await client.type('error')).toMatchObject({ code: 'forbidden' });
    expect(await client.closed()).toBe(1008);
    expect(client.frames.some((f) => f.type === 'ready')).toBe(false);
  });

  it('leaves the checks to credentials when they are configured', async () => {
    const server = await h.start(AUTH_ENV);
    expect((await call(server.url, 'GET', '/health', REBOUND)).status).toBe(200);
    const chat = await call(
      server.url,
      'POST',
      '/api/chat',
      { ...CROSS_SITE, authorization: `Bearer ${KEYS.alice}` },
      { message: 'hi' },
    );
    expect(chat.status).toBe(200);
    expect((await call(server.url, 'POST', '/api/chat', CROSS_SITE, { message: 'hi' })).status).toBe(401);
  });
});
