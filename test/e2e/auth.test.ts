/** Every auth path over real HTTP: API key, JWT, expired JWT, forged JWTs, and the shared chat limit. */
import { describe, expect, it } from 'vitest';
import { AUTH_ENV, JWT_SECRET, jwt, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('authentication over HTTP', () => {
  it('accepts a JWT with the chat scope and keeps its sessions to its subject', async () => {
    const server = await h.start(AUTH_ENV);
    const token = await jwt('carol', 'chat');
    const res = await server.request('POST', '/api/chat', { token, body: { message: 'hi' } });
    expect(res.status).toBe(200);
    const other = await server.request('GET', `/api/sessions/${res.body.sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(other.status).toBe(404);
  });

  it('refuses an expired JWT', async () => {
    const server = await h.start(AUTH_ENV);
    const token = await jwt('carol', 'chat', Math.floor(Date.now() / 1000) - 60);
    const res = await server.request('POST', '/api/chat', { token, body: { message: 'hi' } });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized' });
    expect(JSON.stringify(res.body)).not.toContain(token);
  });

  it('refuses alg none and a token signed with another secret', async () => {
    const server = await h.start(AUTH_ENV);
    const exp = Math.floor(Date.now() / 1000) + 300;
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory', scope: 'chat admin', exp })}.`;
    expect((await server.request('POST', '/api/chat', { token: none, body: { message: 'x' } })).status).toBe(
      401,
    );
    const { SignJWT } = await import('jose');
    const forged = await new SignJWT({ scope: 'chat' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(`${JWT_SECRET}-not`));
    expect(
      (await server.request('POST', '/api/chat', { token: forged, body: { message: 'x' } })).status,
    ).toBe(401);
  });

  it('answers a non-JSON content type with invalid_request naming content-type', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_request', fields: ['content-type'] });
  });
});

describe('the chat rate limit', () => {
  it('counts HTTP and WebSocket together per principal', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_CHAT_RATE_LIMIT: '2' });
    expect(
      (await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'one' } })).status,
    ).toBe(200);
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send({ type: 'chat', id: 'm_2', message: 'two' });
    await client.next((f) => f.type === 'complete' && f.replyTo === 'm_2');
    client.send({ type: 'chat', id: 'm_3', message: 'three' });
    const limited = await client.type('error');
    expect(limited).toMatchObject({ code: 'rate_limited', replyTo: 'm_3' });
    expect(limited.retryAfter).toBeGreaterThan(0);
    const http = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'four' } });
    expect(http.status).toBe(429);
    // The socket stays open.
    client.send({ type: 'ping' });
    await client.type('pong');
  });
});
