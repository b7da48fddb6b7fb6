/** No user can read, resume, ack or publish into another user's session, on any endpoint. */
import { beforeEach, describe, expect, it } from 'vitest';
import { publish } from '../support/agent-messages.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';
import { WsClient } from '../support/ws-client.js';

const h = useHarness();
let server: TestServer;
let aliceSession: string;
let messageId: string;

beforeEach(async () => {
  server = await h.start(AUTH_ENV);
  const chat = await server.request('POST', '/api/chat', {
    token: KEYS.alice,
    body: { message: 'secret plans' },
  });
  aliceSession = chat.body.sessionId;
  const pub = await publish(server, {
    target: { sessionId: aliceSession },
    agentType: 'security',
    content: 'for alice only',
  });
  messageId = pub.body.id;
});

const notFound = { success: false, code: 'session_not_found' };

describe("another user's session", () => {
  it('cannot be listed, acked, streamed or read over HTTP', async () => {
    const list = await server.request('GET', `/api/agent-messages?sessionId=${aliceSession}`, {
      token: KEYS.bob,
    });
    expect(list.status).toBe(404);
    expect(list.body).toMatchObject(notFound);
    const ack = await server.request('POST', '/api/agent-messages/ack', {
      token: KEYS.bob,
      body: { sessionId: aliceSession, ids: [messageId] },
    });
    expect(ack.status).toBe(404);
    const stream = await server.request('GET', `/api/agent-messages/stream?sessionId=${aliceSession}`, {
      token: KEYS.bob,
    });
    expect(stream.status).toBe(404);
    expect(stream.body).toMatchObject(notFound);
    const timeline = await server.request('GET', `/api/sessions/${aliceSession}/messages`, {
      token: KEYS.bob,
    });
    expect(timeline.status).toBe(404);
    const chat = await server.request('POST', '/api/chat', {
      token: KEYS.bob,
      body: { message: 'hi', sessionId: aliceSession, ack: [messageId] },
    });
    expect(chat.status).toBe(404);
    const stream2 = await server.request('POST', '/api/chat/stream', {
      token: KEYS.bob,
      body: { message: 'hi', sessionId: aliceSession },
    });
    expect(stream2.status).toBe(404);
    // Nothing of alice's was acked by any of it.
    const own = await server.request('GET', `/api/agent-messages?sessionId=${aliceSession}`, {
      token: KEYS.alice,
    });
    expect(own.body.messages.map((m: { id: string }) => m.id)).toEqual([messageId]);
  });

  it("ignores alice's ids inside bob's ack of his own session", async () => {
    const bobChat = await server.request('POST', '/api/chat', { token: KEYS.bob, body: { message: 'mine' } });
    const ack = await server.request('POST', '/api/agent-messages/ack', {
      token: KEYS.bob,
      body: { sessionId: bobChat.body.sessionId, ids: [messageId, 'am_unknown'] },
    });
    expect(ack.status).toBe(200);
    expect(ack.body).toEqual({ acked: 0 });
    const own = await server.request('GET', `/api/agent-messages?sessionId=${aliceSession}`, {
      token: KEYS.alice,
    });
    expect(own.body.messages).toHaveLength(1);
  });

  it('cannot be resumed or acked over WebSocket', async () => {
    const bob = h.track(
      new WsClient(`${server.wsUrl}?sessionId=${aliceSession}&after=0`, { token: KEYS.bob }),
    );
    await bob.open();
    expect(await bob.type('error')).toMatchObject({ code: 'session_not_found' });
    expect(await bob.closed()).toBe(1008);
    expect(bob.frames.some((f) => f.type === 'agent_message')).toBe(false);

    const { client } = await h.connect(server.wsUrl, { token: KEYS.bob });
    client.send({ type: 'ack', ids: [messageId] });
    client.send({ type: 'resume', after: 0 });
    client.send({ type: 'ping' });
    await client.type('pong');
    expect(client.frames.some((f) => f.type === 'agent_message')).toBe(false);
    await client.close();
    const own = await server.request('GET', `/api/agent-messages?sessionId=${aliceSession}`, {
      token: KEYS.alice,
    });
    expect(own.body.messages).toHaveLength(1);
  });

  it('does not receive messages published to another user', async () => {
    const { client: bob } = await h.connect(server.wsUrl, { token: KEYS.bob });
    const { client: alice } = await h.connect(`${server.wsUrl}?sessionId=${aliceSession}`, {
      token: KEYS.alice,
    });
    await alice.next((f) => f.type === 'agent_message' && f.message.id === messageId);
    await publish(server, { target: { userId: 'alice' }, content: 'user-wide' });
    await alice.next((f) => f.type === 'agent_message' && f.message.content === 'user-wide');
    bob.send({ type: 'ping' });
    await bob.type('pong');
    expect(bob.frames.some((f) => f.type === 'agent_message')).toBe(false);
  });
});
