import { describe, expect, it } from 'vitest';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();

describe('POST /api/chat', () => {
  it('answers with the reply and a new session, then continues that session', async () => {
    const server = await h.start(AUTH_ENV);
    const first = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'Hello there' },
    });
    expect(first.status).toBe(200);
    expect(first.body.success).toBe(true);
    expect(first.body.response).toContain('Hello there');
    expect(first.body.sessionId).toMatch(/^sess_/);
    expect(Date.parse(first.body.timestamp)).not.toBeNaN();
    expect(first.body.agent_messages).toEqual([]);

    const second = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'Again', sessionId: first.body.sessionId, id: 'm_2', context: { page: 'x' } },
    });
    expect(second.status).toBe(200);
    expect(second.body.sessionId).toBe(first.body.sessionId);

    const timeline = await server.request('GET', `/api/sessions/${first.body.sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(timeline.status).toBe(200);
    expect(timeline.body.messages.map((m: { kind: string }) => m.kind)).toEqual([
      'user',
      'reply',
      'user',
      'reply',
    ]);
    expect(timeline.body.messages[2]).toMatchObject({ kind: 'user', id: 'm_2', text: 'Again' });
    expect(timeline.body.messages[3]).toMatchObject({ kind: 'reply', replyTo: 'm_2' });
  });

  it('keeps only the sanitized text in the timeline', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'mail me at jane.doe@example.com <script>alert(1)</script>' },
    });
    expect(res.status).toBe(200);
    expect(res.body.response).not.toContain('jane.doe@example.com');
    const timeline = await server.request('GET', `/api/sessions/${res.body.sessionId}/messages`, {
      token: KEYS.alice,
    });
    const user = timeline.body.messages.find((m: { kind: string }) => m.kind === 'user');
    expect(user.text).toContain('[EMAIL]');
    expect(user.text).not.toContain('jane.doe@example.com');
    expect(user.text).not.toContain('<script');
  });

  // The user message, its summary and its alert are written together (one commit), and the ack
  // sent with the next message is not waited for before that chat starts: neither may change
  // what the timeline says happened, nor let an acked message come back in the next answer.
  it('records the message before what Herald says about it, and the ack sent with a chat holds', async () => {
    const server = await h.start(AUTH_ENV);
    const first = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { id: 'm_1', message: 'Mail me at ann@example.com, key AKIAIOSFODNN7EXAMPLE <b>now</b>' },
    });
    expect(first.status).toBe(200);
    const said = first.body.agent_messages as Array<{ id: string; agentType: string; correlationId: string }>;
    expect(said.map((m) => m.agentType)).toEqual(['sanitization', 'security']);
    expect(said.every((m) => m.correlationId === 'm_1')).toBe(true);

    const second = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { id: 'm_2', message: 'thanks', sessionId: first.body.sessionId, ack: said.map((m) => m.id) },
    });
    expect(second.status).toBe(200);
    expect(second.body.agent_messages).toEqual([]);

    const timeline = await server.request('GET', `/api/sessions/${first.body.sessionId}/messages`, {
      token: KEYS.alice,
    });
    const shown = timeline.body.messages.map((m: { kind: string; message?: { agentType: string } }) =>
      m.kind === 'agent_message' ? `agent:${m.message!.agentType}` : m.kind,
    );
    expect(shown).toEqual(['user', 'agent:sanitization', 'agent:security', 'reply', 'user', 'reply']);
    const polled = await server.request('GET', `/api/agent-messages?sessionId=${first.body.sessionId}`, {
      token: KEYS.alice,
    });
    expect(polled.body.messages).toEqual([]);
  });

  it('refuses bad JSON with bad_json', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await server.request('POST', '/api/chat', { token: KEYS.alice, body: '{"message": "x"' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, code: 'bad_json' });
  });

  it('names the missing or mistyped field with invalid_request', async () => {
    const server = await h.start(AUTH_ENV);
    const missing = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { text: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ success: false, code: 'invalid_request', fields: ['message'] });
    expect(missing.body.error).toContain('message');

    const wrongType = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 42 } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({ code: 'invalid_request', fields: ['message'] });

    const badAck = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'x', ack: 'am_1' },
    });
    expect(badAck.body).toMatchObject({ code: 'invalid_request', fields: ['ack'] });
  });

  it('refuses a message over the limit with too_large, counted on the raw message', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_MAX_MESSAGE_CHARS: '50' });
    const ok = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'a'.repeat(50) },
    });
    expect(ok.status).toBe(200);
    // 51 characters of markup that would sanitize to nothing still count as 51.
    const res = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: '<b>'.repeat(17) },
    });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ success: false, code: 'too_large' });
  });

  it('answers unauthorized without credentials and with a wrong key', async () => {
    const server = await h.start(AUTH_ENV);
    const none = await server.request('POST', '/api/chat', { body: { message: 'x' } });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ success: false, code: 'unauthorized' });
    const wrong = await server.request('POST', '/api/chat', {
      token: 'not-a-key-at-all',
      body: { message: 'x' },
    });
    expect(wrong.status).toBe(401);
  });

  it('answers forbidden when the chat scope is missing', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await server.request('POST', '/api/chat', { token: KEYS.publisher, body: { message: 'x' } });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ success: false, code: 'forbidden' });
  });

  it("answers session_not_found for another user's session, exactly as for an unknown one", async () => {
    const server = await h.start(AUTH_ENV);
    const alice = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'mine' } });
    const foreign = await server.request('POST', '/api/chat', {
      token: KEYS.bob,
      body: { message: 'let me in', sessionId: alice.body.sessionId },
    });
    const unknown = await server.request('POST', '/api/chat', {
      token: KEYS.bob,
      body: { message: 'let me in', sessionId: 'sess_01NOPE' },
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(unknown.body);
    expect(foreign.body.code).toBe('session_not_found');
    const timeline = await server.request('GET', `/api/sessions/${alice.body.sessionId}/messages`, {
      token: KEYS.bob,
    });
    expect(timeline.status).toBe(404);
    // Alice's timeline did not change.
    const own = await server.request('GET', `/api/sessions/${alice.body.sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(own.body.messages).toHaveLength(2);
  });

  it('rate-limits chat per principal with Retry-After, without touching other users', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_CHAT_RATE_LIMIT: '2' });
    for (let i = 0; i < 2; i++)
      expect(
        (await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: `m${i}` } })).status,
      ).toBe(200);
    const limited = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'one more' },
    });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const bob = await server.request('POST', '/api/chat', { token: KEYS.bob, body: { message: 'hi' } });
    expect(bob.status).toBe(200);
  });

  it('answers unknown routes with a JSON not_found', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await server.request('GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, code: 'not_found' });
  });
});
