import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { JWT_CLOCK_TOLERANCE_S } from '../../src/auth/jwt.js';
import { MAX_TIMER_MS } from '../../src/config/config.js';
import { AUTH_ENV, jwt, KEYS } from '../support/auth.js';
import { advance, fakeTimers } from '../support/fake-clock.js';
import { useHarness } from '../support/harness.js';
import { WsClient } from '../support/ws-client.js';

const h = useHarness();
/** HERALD_WS_PING_INTERVAL_MS's default; the tests on fake timers move time by it. */
const PING_INTERVAL_MS = 30_000;
/** A ping frame answered: the server has read every frame the client sent before it. */
const roundTrip = async (client: WsClient) => {
  const from = client.frames.length;
  client.send({ type: 'ping' });
  await client.type('pong', from);
};

describe('GET /ws/chat', () => {
  it('sends ready, then typing, chunks with replyTo and complete for a chat frame', async () => {
    const server = await h.start(AUTH_ENV);
    const { client, ready } = await h.connect(server.wsUrl, { token: KEYS.alice });
    expect(ready).toMatchObject({ type: 'ready', protocol: 1 });
    expect(ready.sessionId).toMatch(/^sess_/);

    client.send({ type: 'chat', id: 'm_42', message: 'Hello over WebSocket' });
    const complete = await client.type('complete');
    expect(complete).toEqual({ type: 'complete', replyTo: 'm_42' });
    const types = client.frames.map((f) => f.type);
    expect(types.indexOf('typing')).toBeLessThan(types.indexOf('chunk'));
    // The local agent yields its deltas in one turn, so they may come merged into fewer frames
    // (test/ws/chunks.test.ts): what matters is that they carry the whole reply, in order.
    const chunks = client.frames.filter((f) => f.type === 'chunk');
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    expect(chunks.every((c) => c.replyTo === 'm_42')).toBe(true);
    const text = chunks.map((c) => c.content).join('');
    expect(text).toContain('Hello over WebSocket');
    const timeline = await server.request('GET', `/api/sessions/${ready.sessionId}/messages`, {
      token: KEYS.alice,
    });
    const reply = timeline.body.messages.find((e: { kind: string }) => e.kind === 'reply');
    expect(text).toBe(reply.text);
    expect(client.frames.filter((f) => f.type === 'typing').map((f) => f.status)).toEqual([true, false]);
    expect(types.lastIndexOf('chunk')).toBeLessThan(types.lastIndexOf('typing'));
  });

  it('accepts the older frame without type and makes a message id', async () => {
    const server = await h.start(AUTH_ENV);
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send({ message: 'old style', context: {} });
    const complete = await client.type('complete');
    expect(complete.replyTo).toMatch(/^m_/);
    const chunk = await client.type('chunk');
    expect(chunk.replyTo).toBe(complete.replyTo);
  });

  it('answers ping with pong', async () => {
    const server = await h.start(AUTH_ENV);
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send({ type: 'ping' });
    expect(await client.type('pong')).toEqual({ type: 'pong' });
  });

  it('answers bad frames with error frames and stays open', async () => {
    const server = await h.start(AUTH_ENV);
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send('{not json');
    expect(await client.type('error')).toMatchObject({ code: 'bad_json' });
    client.send({ type: 'chat' });
    expect(await client.next((f) => f.code === 'invalid_request')).toMatchObject({ fields: ['message'] });
    client.send({ type: 'dance' });
    expect(await client.next((f) => f.code === 'invalid_request' && f.fields?.[0] === 'type')).toMatchObject({
      type: 'error',
      error: expect.any(String),
    });
    client.send('[1,2]');
    expect(await client.next((f) => f.code === 'invalid_request' && f.fields?.[0] === 'frame')).toMatchObject(
      {
        type: 'error',
        error: expect.any(String),
      },
    );
    client.send({ type: 'resume', after: -1 });
    expect(await client.next((f) => f.fields?.[0] === 'after')).toMatchObject({
      type: 'error',
      code: 'invalid_request',
    });
    // Still usable.
    client.send({ type: 'chat', id: 'm_ok', message: 'still here' });
    expect(await client.type('complete')).toMatchObject({ replyTo: 'm_ok' });
    expect(client.closeCode).toBeUndefined();
  });

  it('answers too_large for a message over the chat limit and stays open', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_MAX_MESSAGE_CHARS: '10' });
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send({ type: 'chat', id: 'm_big', message: 'x'.repeat(11) });
    expect(await client.type('error')).toMatchObject({ code: 'too_large', replyTo: 'm_big' });
    client.send({ type: 'ping' });
    await client.type('pong');
  });

  it('closes with 1003 on a binary frame', async () => {
    const server = await h.start(AUTH_ENV);
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.closed()).toBe(1003);
  });

  it('closes with 1009 on a frame over the limit', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_WS_MAX_FRAME_BYTES: '1024' });
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send({ type: 'chat', message: 'x'.repeat(2000) });
    expect(await client.closed()).toBe(1009);
  });

  it('sends unauthorized and closes with 1008 without credentials', async () => {
    const server = await h.start(AUTH_ENV);
    const client = h.track(new WsClient(server.wsUrl));
    await client.open();
    expect(await client.type('error')).toMatchObject({ code: 'unauthorized' });
    expect(await client.closed()).toBe(1008);
  });

  it('sends forbidden and closes with 1008 without the chat scope', async () => {
    const server = await h.start(AUTH_ENV);
    const client = h.track(new WsClient(server.wsUrl, { token: KEYS.publisher }));
    await client.open();
    expect(await client.type('error')).toMatchObject({ code: 'forbidden' });
    expect(await client.closed()).toBe(1008);
  });

  it("sends session_not_found and closes with 1008 for another user's session", async () => {
    const server = await h.start(AUTH_ENV);
    const { ready } = await h.connect(server.wsUrl, { token: KEYS.alice });
    const bob = h.track(new WsClient(`${server.wsUrl}?sessionId=${ready.sessionId}`, { token: KEYS.bob }));
    await bob.open();
    expect(await bob.type('error')).toMatchObject({ code: 'session_not_found' });
    expect(await bob.closed()).toBe(1008);
    expect(bob.frames.some((f) => f.type === 'ready')).toBe(false);
  });

  it('reconnects to its own session', async () => {
    const server = await h.start(AUTH_ENV);
    const { client, ready } = await h.connect(server.wsUrl, { token: KEYS.alice });
    await client.close();
    const again = await h.connect(`${server.wsUrl}?sessionId=${ready.sessionId}`, { token: KEYS.alice });
    expect(again.ready.sessionId).toBe(ready.sessionId);
  });

  it('authenticates a browser with a single-use ticket', async () => {
    const server = await h.start(AUTH_ENV);
    const issued = await server.request('POST', '/api/ws-ticket', { token: KEYS.alice });
    expect(issued.status).toBe(200);
    expect(typeof issued.body.ticket).toBe('string');
    const { ready } = await h.connect(`${server.wsUrl}?ticket=${issued.body.ticket}`);
    expect(ready.type).toBe('ready');
    const reuse = h.track(new WsClient(`${server.wsUrl}?ticket=${issued.body.ticket}`));
    await reuse.open();
    expect(await reuse.type('error')).toMatchObject({ code: 'unauthorized' });
    expect(await reuse.closed()).toBe(1008);
  });

  it('limits how many tickets one principal takes a minute', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_TICKET_RATE_LIMIT: '2' });
    for (let i = 0; i < 2; i++)
      expect((await server.request('POST', '/api/ws-ticket', { token: KEYS.alice })).status).toBe(200);
    const limited = await server.request('POST', '/api/ws-ticket', { token: KEYS.alice });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ success: false, code: 'rate_limited' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await server.request('POST', '/api/ws-ticket', { token: KEYS.bob })).status).toBe(200);
    expect((await server.request('POST', '/api/ws-ticket')).status).toBe(401);
  });

  it('authenticates with a JWT and closes with 1008 when it expires', async () => {
    const server = await h.start(AUTH_ENV);
    fakeTimers({ intervals: false });
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = await jwt('carol', 'chat', exp);
    const { client } = await h.connect(server.wsUrl, { token });
    // Its expiry, with the tolerance for clock skew, less a millisecond: still open.
    const expiresInMs = (exp + JWT_CLOCK_TOLERANCE_S) * 1000 - Date.now();
    await advance(expiresInMs - 1);
    await roundTrip(client);
    expect(client.closeCode).toBeUndefined();
    await advance(1);
    expect(await client.next((f) => f.code === 'unauthorized')).toMatchObject({
      type: 'error',
      error: 'The token expired.',
    });
    expect(await client.closed()).toBe(1008);
  });

  it('keeps a socket whose JWT expires after the longest timer (24.8 days), and closes it at its expiry', async () => {
    const server = await h.start(AUTH_ENV);
    fakeTimers({ intervals: false });
    const token = await jwt('carol', 'chat', '60d');
    const { client } = await h.connect(server.wsUrl, { token });
    // The longest timer fires and is armed again for the rest.
    await advance(MAX_TIMER_MS + 1);
    client.send({ type: 'chat', id: 'm_long', message: 'still here?' });
    await client.next((f) => f.type === 'complete');
    await roundTrip(client);
    expect(client.frames.some((f) => f.type === 'error')).toBe(false);
    expect(client.closeCode).toBeUndefined();
    await advance(60 * 86_400_000 + JWT_CLOCK_TOLERANCE_S * 1000 - MAX_TIMER_MS);
    expect(await client.next((f) => f.code === 'unauthorized')).toMatchObject({
      error: 'The token expired.',
    });
    expect(await client.closed()).toBe(1008);
  });

  it('drops a peer that does not answer pings, at the sweep after the one that pinged it', async () => {
    const server = await h.start(AUTH_ENV);
    fakeTimers();
    // A peer that never answers pings.
    const client = h.track(new WsClient(server.wsUrl, { token: KEYS.alice, autoPong: false }));
    await client.open();
    await client.type('ready');
    const pinged = once(client.socket, 'ping');
    await advance(PING_INTERVAL_MS);
    await pinged;
    await roundTrip(client);
    expect(client.closeCode).toBeUndefined();
    await advance(PING_INTERVAL_MS);
    expect(await client.closed()).toBe(1006);
  });

  it('keeps a peer that answers pings', async () => {
    const server = await h.start(AUTH_ENV);
    fakeTimers();
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    for (let sweep = 0; sweep < 5; sweep++) {
      const pinged = once(client.socket, 'ping');
      await advance(PING_INTERVAL_MS);
      await pinged;
      // Its pong (sent on the ping, before this frame) has reached the server.
      await roundTrip(client);
    }
    expect(client.closeCode).toBeUndefined();
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });
});
