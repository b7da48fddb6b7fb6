/** GET /api/agent-messages/stream: events with id = seq, Last-Event-ID resume, heartbeats. */
import { afterEach, describe, expect, it } from 'vitest';
import { publish } from '../support/agent-messages.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { advance, fakeTimers } from '../support/fake-clock.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';
import { SseReader } from '../support/sse.js';

const h = useHarness();
// Registered after the harness, so it runs before it: readers close before the server.
const readers: SseReader[] = [];
afterEach(() => {
  for (const r of readers.splice(0)) r.close();
});

async function stream(s: TestServer, sessionId: string, headers: Record<string, string> = {}) {
  const reader = await SseReader.open(`${s.url}/api/agent-messages/stream?sessionId=${sessionId}`, {
    authorization: `Bearer ${KEYS.alice}`,
    ...headers,
  });
  readers.push(reader);
  return reader;
}

const publishTo = (s: TestServer, sessionId: string, content: string) =>
  publish(s, { target: { sessionId }, content, deliveryGuarantee: 'at-least-once' });

describe('agent message SSE stream', () => {
  it('sends stored and new messages as agent_message events with id = seq, and resumes after Last-Event-ID', async () => {
    const server = await h.start(AUTH_ENV);
    const chat = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'hi' } });
    const sessionId = chat.body.sessionId;
    await publishTo(server, sessionId, 'one');

    // The heartbeat's interval, armed by the stream, on fake timers: only the test moves it.
    fakeTimers();
    const first = await stream(server, sessionId);
    expect(first.status).toBe(200);
    const e1 = await first.next((e) => JSON.parse(e.data).content === 'one');
    expect(e1).toMatchObject({ id: '1', event: 'agent_message' });
    await publishTo(server, sessionId, 'two');
    const e2 = await first.next((e) => JSON.parse(e.data).content === 'two');
    expect(e2.id).toBe('2');
    expect(JSON.parse(e2.data)).toMatchObject({ seq: 2, sessionId, role: 'assistant' });
    // Heartbeat comments keep the stream open: one each HERALD_SSE_HEARTBEAT_MS (15 s).
    const seen = first.comments;
    await advance(15_000);
    await first.waitForComments(seen + 1);
    await advance(15_000);
    await first.waitForComments(seen + 2);
    expect(first.comments).toBe(seen + 2);
    first.close();

    await publishTo(server, sessionId, 'three');
    const resumed = await stream(server, sessionId, { 'last-event-id': '2' });
    await resumed.next((e) => JSON.parse(e.data).content === 'three');
    expect(resumed.events.map((e) => e.id)).toEqual(['3']);
  });

  it('does not send acked messages', async () => {
    const server = await h.start(AUTH_ENV);
    const chat = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'hi' } });
    const sessionId = chat.body.sessionId;
    const a = await publishTo(server, sessionId, 'acked');
    await publishTo(server, sessionId, 'kept');
    const ack = await server.request('POST', '/api/agent-messages/ack', {
      token: KEYS.alice,
      body: { sessionId, ids: [a.body.id] },
    });
    expect(ack.body).toEqual({ acked: 1 });
    const reader = await stream(server, sessionId);
    await reader.next((e) => JSON.parse(e.data).content === 'kept');
    expect(reader.events.map((e) => JSON.parse(e.data).content)).toEqual(['kept']);
  });

  it('refuses a Last-Event-ID that is not a seq', async () => {
    const server = await h.start(AUTH_ENV);
    const chat = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'hi' } });
    const res = await server.request('GET', `/api/agent-messages/stream?sessionId=${chat.body.sessionId}`, {
      token: KEYS.alice,
      headers: { 'last-event-id': 'abc' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_request', fields: ['Last-Event-ID'] });
  });
});
