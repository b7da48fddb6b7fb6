/** POST /api/agent-messages: validation, scopes, idempotency, rate limit, TTL, user targets. */
import { describe, expect, it } from 'vitest';
import { publish } from '../support/agent-messages.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';

const h = useHarness();

let clock = Date.now();
const now = () => clock;

async function newSession(s: TestServer, token = KEYS.alice): Promise<string> {
  const res = await s.request('POST', '/api/chat', { token, body: { message: 'hi' } });
  expect(res.status).toBe(200);
  return res.body.sessionId;
}

const poll = (s: TestServer, sessionId: string, after = 0) =>
  s.request('GET', `/api/agent-messages?sessionId=${sessionId}&after=${after}`, { token: KEYS.alice });

describe('publishing agent messages', () => {
  it('answers 202 with id, seq and sessions, and the message reaches poll and the timeline', async () => {
    const server = await h.start(AUTH_ENV);
    const sessionId = await newSession(server);
    const res = await publish(server, {
      target: { sessionId },
      deliveryGuarantee: 'at-least-once',
      correlationId: 'm_1',
      data: { build: 7 },
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^am_/),
      seq: 1,
      sessionIds: [sessionId],
      messages: [{ sessionId, id: res.body.id, seq: 1 }],
    });
    const listed = await poll(server, sessionId);
    expect(listed.body.next).toBe(1);
    expect(listed.body.messages[0]).toMatchObject({
      id: res.body.id,
      role: 'assistant',
      agentType: 'status',
      priority: 'low',
      deliveryGuarantee: 'at-least-once',
      source: 'test',
      sessionId,
      seq: 1,
      correlationId: 'm_1',
      data: { build: 7 },
    });
    const zero = await server.request('GET', `/api/agent-messages?sessionId=${sessionId}&limit=0`, {
      token: KEYS.alice,
    });
    expect(zero.status).toBe(400);
    expect(zero.body.fields).toEqual(['limit']);
    const after = await poll(server, sessionId, 1);
    expect(after.body).toEqual({ messages: [], next: 1 });
  });

  it('refuses an invalid message with invalid_agent_message naming the fields, and admits nothing', async () => {
    const server = await h.start(AUTH_ENV);
    const sessionId = await newSession(server);
    const res = await publish(server, { target: { sessionId }, agentType: 'gossip', ttl: 5 });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      success: false,
      code: 'invalid_agent_message',
      fields: ['agentType', 'ttl'],
    });
    const noTarget = await publish(server, {});
    expect(noTarget.body).toMatchObject({ code: 'invalid_agent_message', fields: ['target'] });
    // A bad target does not hide the other faults.
    const both = await publish(server, { target: {}, agentType: 'nope' });
    expect(both.body.fields).toEqual(['target', 'agentType']);
    // Nesting is refused with a 400, however deep.
    const depth = 50_000;
    const nested = await server.request('POST', '/api/agent-messages', {
      token: KEYS.publisher,
      body: `{"target":{"sessionId":"${sessionId}"},"agentType":"status","content":"x","source":"test","data":${'{"d":'.repeat(depth)}{}${'}'.repeat(depth)}}`,
    });
    expect(nested.status).toBe(400);
    expect(nested.body).toMatchObject({ code: 'invalid_agent_message', fields: ['data'] });
    // The length holds for the content as delivered, after PII is replaced.
    const grows = await publish(server, { target: { sessionId }, content: `${'a@b.co '.repeat(2340)}xxxx` });
    expect(grows.status).toBe(400);
    expect(grows.body.fields).toEqual(['content']);
    // Characters are code points: 16,384 emoji fit.
    const emoji = await publish(server, {
      target: { sessionId },
      content: '😀'.repeat(16_384),
      deliveryGuarantee: 'at-least-once',
    });
    expect(emoji.status).toBe(202);
    await server.request('POST', '/api/agent-messages/ack', {
      token: KEYS.alice,
      body: { sessionId, ids: [emoji.body.id] },
    });
    const badJson = await server.request('POST', '/api/agent-messages', { token: KEYS.publisher, body: '{' });
    expect(badJson.body.code).toBe('bad_json');
    expect((await poll(server, sessionId)).body.messages).toEqual([]);
  });

  it('needs the agent:publish scope, and answers 404 for an unknown session', async () => {
    const server = await h.start(AUTH_ENV);
    const sessionId = await newSession(server);
    expect((await publish(server, { target: { sessionId } }, KEYS.alice)).status).toBe(403);
    expect((await publish(server, { target: { sessionId } }, 'wrong-key-0000000')).status).toBe(401);
    const missing = await publish(server, { target: { sessionId: 'sess_01UNKNOWN' } });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('session_not_found');
  });

  it('scrubs PII and secrets from content and data', async () => {
    const server = await h.start(AUTH_ENV);
    const sessionId = await newSession(server);
    await publish(server, {
      target: { sessionId },
      deliveryGuarantee: 'at-least-once',
      content: 'Contact ops@example.com',
      data: {
        token: 'ghp_0123456789abcdefghijABCDEFGHIJ012345',
        nested: ['bob@example.com'],
        'key carol@example.com': 1,
      },
    });
    const [message] = (await poll(server, sessionId)).body.messages;
    expect(message.content).toBe('Contact [EMAIL]');
    expect(JSON.stringify(message.data)).not.toContain('ghp_');
    expect(JSON.stringify(message.data)).not.toContain('bob@example.com');
    expect(JSON.stringify(message.data)).not.toContain('carol@example.com');
    // Terminal escapes go whole, in content as in data: no `[31m` debris.
    await publish(server, {
      target: { sessionId },
      deliveryGuarantee: 'at-least-once',
      content: '\u001b[31mALERT\u001b[0m disk full',
      data: { line: '\u001b[31mALERT\u001b[0m disk full' },
    });
    const [, escaped] = (await poll(server, sessionId)).body.messages;
    expect(escaped.content).toBe('ALERT disk full');
    expect(escaped.data.line).toBe('ALERT disk full');
  });

  it('makes nothing new for a repeated idempotencyKey and answers with the original id and seq', async () => {
    const server = await h.start(AUTH_ENV);
    const sessionId = await newSession(server);
    const body = { target: { sessionId }, idempotencyKey: 'deploy-7', deliveryGuarantee: 'at-least-once' };
    const first = await publish(server, body);
    const again = await publish(server, { ...body, content: 'different text' });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.seq).toBe(first.body.seq);
    expect((await poll(server, sessionId)).body.messages).toHaveLength(1);
    // Another session may use the same key.
    const other = await newSession(server);
    const elsewhere = await publish(server, { ...body, target: { sessionId: other } });
    expect(elsewhere.body.id).not.toBe(first.body.id);
  });

  it('keeps an idempotencyKey only for the message ttl', async () => {
    clock = Date.now();
    const server = await h.start(AUTH_ENV, { now });
    const sessionId = await newSession(server);
    const body = {
      target: { sessionId },
      idempotencyKey: 'k',
      ttl: 1000,
      deliveryGuarantee: 'at-least-once',
    };
    const first = await publish(server, body);
    clock += 1001;
    const later = await publish(server, body);
    expect(later.body.id).not.toBe(first.body.id);
  });

  it('rate-limits per session and type, lets high and critical through, and reports suppressed', async () => {
    clock = Date.now();
    const server = await h.start({ ...AUTH_ENV, HERALD_AGENT_RATE_LIMITS: '{"status":2}' }, { now });
    const sessionId = await newSession(server);
    const target = { sessionId };
    expect((await publish(server, { target })).status).toBe(202);
    expect((await publish(server, { target })).status).toBe(202);
    const limited = await publish(server, { target });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await publish(server, { target })).status).toBe(429);
    // High priority bypasses the limit, does not count, and carries what was refused before it.
    const high = await publish(server, {
      target,
      priority: 'high',
      deliveryGuarantee: 'at-least-once',
      ttl: 300_000,
    });
    expect(high.status).toBe(202);
    // Another type is not limited.
    expect((await publish(server, { target, agentType: 'sanitization' })).status).toBe(202);
    expect((await publish(server, { target })).status).toBe(429);
    clock += 60_001;
    const next = await publish(server, { target, deliveryGuarantee: 'at-least-once' });
    expect(next.status).toBe(202);
    const listed = (await poll(server, sessionId)).body.messages;
    expect(listed.find((m: { id: string }) => m.id === high.body.id).data).toEqual({ suppressed: 2 });
    expect(listed.find((m: { id: string }) => m.id === next.body.id).data).toEqual({ suppressed: 1 });
  });

  it('never sends or lists an expired message, purges it, and keeps it in the timeline', async () => {
    clock = Date.now();
    const server = await h.start(AUTH_ENV, { now });
    const sessionId = await newSession(server);
    const res = await publish(server, {
      target: { sessionId },
      ttl: 1000,
      deliveryGuarantee: 'exactly-once',
    });
    expect((await poll(server, sessionId)).body.messages).toHaveLength(1);
    clock += 1000;
    expect((await poll(server, sessionId)).body.messages).toEqual([]);
    const chat = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'x', sessionId },
    });
    expect(chat.body.agent_messages).toEqual([]);
    expect(await server.app.herald.router!.purgeExpired()).toBe(1);
    const metrics = await server.request('GET', '/metrics', { token: KEYS.admin });
    expect(metrics.body).toMatch(/herald_agent_messages_expired_total\{agentType="status"\} 1/);
    const timeline = await server.request('GET', `/api/sessions/${sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(
      timeline.body.messages.some((m: { message?: { id: string } }) => m.message?.id === res.body.id),
    ).toBe(true);
  });

  it('publishes into every session of a user, and to nobody for a user without sessions', async () => {
    const server = await h.start(AUTH_ENV);
    const a = await newSession(server);
    const b = await newSession(server);
    await newSession(server, KEYS.bob);
    const res = await publish(server, { target: { userId: 'alice' }, deliveryGuarantee: 'at-least-once' });
    expect(res.status).toBe(202);
    expect(res.body.sessionIds).toEqual([a, b]);
    expect(res.body.messages).toHaveLength(2);
    expect(res.body).toMatchObject({ count: 2, rateLimited: [], rateLimitedCount: 0 });
    expect(res.body.id).toBe(res.body.messages[0].id);
    expect((await poll(server, a)).body.messages).toHaveLength(1);
    expect((await poll(server, b)).body.messages).toHaveLength(1);
    const nobody = await publish(server, { target: { userId: 'zed' } });
    expect(nobody.status).toBe(202);
    expect(nobody.body).toEqual({
      id: null,
      seq: null,
      sessionIds: [],
      messages: [],
      count: 0,
      rateLimited: [],
      rateLimitedCount: 0,
    });
  });

  it('names the sessions of a user target that the rate limit refused', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_AGENT_RATE_LIMITS: '{"status":1}' });
    const a = await newSession(server);
    const b = await newSession(server);
    expect((await publish(server, { target: { sessionId: a } })).status).toBe(202);
    const res = await publish(server, { target: { userId: 'alice' } });
    expect(res.status).toBe(202);
    expect(res.body.sessionIds).toEqual([b]);
    expect(res.body.rateLimited).toEqual([a]);
    expect(res.body).toMatchObject({ count: 1, rateLimitedCount: 1 });
    const all = await publish(server, { target: { userId: 'alice' } });
    expect(all.status).toBe(429);
  });

  it('piggybacks pending messages on /api/chat in seq order and takes acks in its body', async () => {
    const server = await h.start(AUTH_ENV);
    const sessionId = await newSession(server);
    const p1 = await publish(server, {
      target: { sessionId },
      deliveryGuarantee: 'at-least-once',
      content: 'one',
    });
    const p2 = await publish(server, {
      target: { sessionId },
      deliveryGuarantee: 'exactly-once',
      content: 'two',
    });
    const chat = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { sessionId, message: 'write to me at someone@example.com' },
    });
    const seqs = chat.body.agent_messages.map((m: { seq: number }) => m.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(chat.body.agent_messages.map((m: { id: string }) => m.id).slice(0, 2)).toEqual([
      p1.body.id,
      p2.body.id,
    ]);
    expect(chat.body.agent_messages.at(-1).agentType).toBe('sanitization');
    const ids = chat.body.agent_messages.map((m: { id: string }) => m.id);
    const next = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { sessionId, message: 'thanks', ack: ids },
    });
    expect(next.body.agent_messages).toEqual([]);
  });

  it('includes a best-effort message only in the call that made it', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_SLOW_REPLY_MS: '1', HERALD_LOCAL_THINK_MS: '200' });
    const sessionId = await newSession(server);
    const slow = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { sessionId, message: 'slow one' },
    });
    const status = slow.body.agent_messages.filter((m: { agentType: string }) => m.agentType === 'status');
    expect(status).toHaveLength(1);
    expect(status[0].deliveryGuarantee).toBe('best-effort');
    const listed = await poll(server, sessionId);
    expect(listed.body.messages).toEqual([]);
  });
});
