/** What happens while a reply is in flight: agent messages reach the call, failures keep the session. */
import { describe, expect, it } from 'vitest';
import { publish } from '../support/agent-messages.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { createGatedAgent } from '../support/gated-agent.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';

const h = useHarness();

type Gated = ReturnType<typeof createGatedAgent>;

/** A chat through the gated agent that the test lets through at once. */
async function chatNow(server: TestServer, agent: Gated, body: Record<string, unknown>) {
  const call = server.request('POST', '/api/chat', { token: KEYS.alice, body });
  await agent.started();
  agent.release();
  return call;
}

describe('an HTTP chat in flight', () => {
  it('answers with agent messages published while it ran, best-effort ones included', async () => {
    const agent = createGatedAgent();
    const server = await h.start(AUTH_ENV, { agent });
    const first = await chatNow(server, agent, { message: 'hi' });
    const sessionId = first.body.sessionId;

    const call = server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'slow', sessionId },
    });
    await agent.started();
    const status = await publish(server, { target: { sessionId }, content: 'best-effort during the call' });
    const alert = await publish(server, { target: { sessionId }, agentType: 'security', content: 'alert' });
    agent.release();
    const res = await call;
    expect(res.status).toBe(200);
    expect(res.body.agent_messages.map((m: { id: string }) => m.id)).toEqual([status.body.id, alert.body.id]);
    // The best-effort one was for that call only.
    const next = await chatNow(server, agent, { message: 'again', sessionId });
    expect(next.body.agent_messages.map((m: { id: string }) => m.id)).toEqual([alert.body.id]);
  });

  it('streams agent messages published during the reply as data parts', async () => {
    const agent = createGatedAgent();
    const server = await h.start(AUTH_ENV, { agent });
    const first = await chatNow(server, agent, { message: 'hi' });
    const sessionId = first.body.sessionId;
    const call = server.request('POST', '/api/chat/stream', {
      token: KEYS.alice,
      body: { message: 'slow', sessionId },
    });
    await agent.started();
    const alert = await publish(server, {
      target: { sessionId },
      agentType: 'security',
      content: 'during the reply',
    });
    agent.release({ reply: 'done' });
    const raw: string = (await call).body;
    const parts = raw
      .split('\n\n')
      .filter((b) => b.startsWith('data: {'))
      .map((b) => JSON.parse(b.slice(6)));
    const dataParts = parts.filter((p) => p.type === 'data-agent-message');
    expect(dataParts.map((p) => p.id)).toEqual([alert.body.id]);
    expect(parts.map((p) => p.type)).toEqual([
      'start',
      'data-agent-message',
      'text-start',
      'text-delta',
      'text-end',
      'finish',
    ]);
  });

  it('names the session in a 502 and carries the error message, so a first turn can go on', async () => {
    const agent = createGatedAgent();
    const server = await h.start(AUTH_ENV, { agent });
    const call = server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'first turn' } });
    await agent.started();
    agent.release({ partial: 'Hello part', fail: true });
    const res = await call;
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({
      success: false,
      code: 'upstream_failed',
      sessionId: expect.stringMatching(/^sess_/),
    });
    expect(res.body.agent_messages.map((m: { agentType: string }) => m.agentType)).toEqual(['error']);
    expect(res.body.agent_messages[0].content).not.toContain('failed (The model service failed');
    // The part the client saw is in the timeline, marked incomplete.
    const timeline = await server.request('GET', `/api/sessions/${res.body.sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(timeline.body.messages.find((m: { kind: string }) => m.kind === 'reply')).toMatchObject({
      text: 'Hello part',
      incomplete: true,
    });
  });
});

describe('a refused chat', () => {
  it('makes no session', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_CHAT_RATE_LIMIT: '2', HERALD_MAX_MESSAGE_CHARS: '5' });
    const big = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'too long' },
    });
    expect(big.status).toBe(413);
    const ok = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'ok' } });
    expect(ok.status).toBe(200);
    for (const route of ['/api/chat', '/api/chat/stream'])
      expect(
        (await server.request('POST', route, { token: KEYS.alice, body: { message: 'more' } })).status,
      ).toBe(429);
    expect(await server.app.herald.store.listSessionIds('alice')).toEqual([ok.body.sessionId]);
  });
});
