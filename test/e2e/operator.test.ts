/**
 * What operators rely on: liveness and readiness, erasing a session and all it holds (its
 * owner or an admin), and dead letters pruned after HERALD_DEAD_LETTER_RETENTION_MS.
 */
import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { publish } from '../support/agent-messages.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { advance, fakeTimers } from '../support/fake-clock.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();
/** HERALD_ACK_TIMEOUT_MS's default: the dead letters here come at it, on fake time. */
const ACK_TIMEOUT_MS = 10_000;
const DAY_MS = 24 * 60 * 60 * 1000;

describe('health', () => {
  it('answers live and ready, and not ready while shutting down, with the reason', async () => {
    const server = await h.start(AUTH_ENV);
    expect(await server.request('GET', '/health/live')).toMatchObject({
      status: 200,
      body: { status: 'ok' },
    });
    expect(await server.request('GET', '/health/ready')).toMatchObject({
      status: 200,
      body: { status: 'ready' },
    });

    server.app.herald.shuttingDown = true;
    const ready = await server.request('GET', '/health/ready');
    expect(ready).toMatchObject({ status: 503, body: { status: 'not_ready', reason: 'shutting_down' } });
    expect(ready.headers.get('retry-after')).toBe('5');
    expect(await server.request('GET', '/health/live')).toMatchObject({
      status: 200,
      body: { status: 'ok' },
    });
    // Everything else is refused meanwhile.
    expect(
      (await server.request('GET', '/api/agent-messages?sessionId=sess_1', { token: KEYS.alice })).status,
    ).toBe(503);
    server.app.herald.shuttingDown = false;
  });
});

describe('deleting a session', () => {
  it("erases the owner's session and all it holds, closes its sockets, and touches nothing else", async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_MAX_DELIVERY_ATTEMPTS: '1' });
    const { client, ready } = await h.connect(server.wsUrl, { token: KEYS.alice });
    const sessionId: string = ready.sessionId;
    const other = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'keep me' },
    });
    const dead = once(server.app.herald.router!.events, 'dead-letter');
    // Dead-lettered at its ack timeout, on fake time.
    fakeTimers();
    const published = await publish(server, { target: { sessionId }, deliveryGuarantee: 'at-least-once' });
    await client.type('agent_message');
    await advance(ACK_TIMEOUT_MS);
    await dead;
    vi.useRealTimers();
    const letters = () => server.request('GET', '/api/admin/dead-letters', { token: KEYS.admin });
    expect((await letters()).body.deadLetters.map((l: { message: { id: string } }) => l.message.id)).toEqual([
      published.body.id,
    ]);

    // Bob cannot, and cannot even tell the session exists.
    const foreign = await server.request('DELETE', `/api/sessions/${sessionId}`, { token: KEYS.bob });
    expect(foreign).toMatchObject({ status: 404, body: { code: 'session_not_found' } });

    const deleted = await server.request('DELETE', `/api/sessions/${sessionId}`, { token: KEYS.alice });
    expect(deleted.status).toBe(204);
    expect(await client.closed()).toBe(1008);
    expect(
      (await server.request('GET', `/api/sessions/${sessionId}/messages`, { token: KEYS.alice })).status,
    ).toBe(404);
    const chat = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'hi', sessionId },
    });
    expect(chat).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
    expect((await publish(server, { target: { sessionId } })).status).toBe(404);
    expect((await letters()).body.deadLetters).toEqual([]);
    expect((await server.request('DELETE', `/api/sessions/${sessionId}`, { token: KEYS.alice })).status).toBe(
      404,
    );

    const kept = await server.request('GET', `/api/sessions/${other.body.sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(kept.body.messages.map((e: { kind: string }) => e.kind)).toEqual(['user', 'reply']);
  });

  it('lets an admin delete any session, answering session_not_found for one that does not exist', async () => {
    const server = await h.start(AUTH_ENV);
    const chat = await server.request('POST', '/api/chat', { token: KEYS.bob, body: { message: 'hello' } });
    const sessionId: string = chat.body.sessionId;
    const route = `/api/admin/sessions/${sessionId}`;
    expect((await server.request('DELETE', route, { token: KEYS.alice })).status).toBe(403);
    expect((await server.request('DELETE', route, { token: KEYS.admin })).status).toBe(204);
    expect(
      (await server.request('GET', `/api/sessions/${sessionId}/messages`, { token: KEYS.bob })).status,
    ).toBe(404);
    expect(await server.request('DELETE', route, { token: KEYS.admin })).toMatchObject({
      status: 404,
      body: { code: 'session_not_found' },
    });
    const malformed = await server.request('DELETE', '/api/admin/sessions/not-a-session', {
      token: KEYS.admin,
    });
    expect(malformed.status).toBe(404);
  });
});

describe('dead letter retention', () => {
  it('prunes dead letters older than the retention with each purge, and counts them', async () => {
    let now = Date.parse('2026-11-01T00:00:00Z');
    const server = await h.start(
      {
        ...AUTH_ENV,
        HERALD_MAX_DELIVERY_ATTEMPTS: '1',
        HERALD_DEAD_LETTER_RETENTION_MS: String(2 * DAY_MS),
      },
      { now: () => now },
    );
    const { client, ready } = await h.connect(server.wsUrl, { token: KEYS.alice });
    const router = server.app.herald.router!;
    // Each message is dead-lettered at its ack timeout, on fake time.
    fakeTimers();
    const deadLetter = async (content: string) => {
      const dead = once(router.events, 'dead-letter');
      const res = await publish(server, {
        target: { sessionId: ready.sessionId },
        content,
        deliveryGuarantee: 'at-least-once',
      });
      expect(res.status).toBe(202);
      await client.next((f) => f.type === 'agent_message' && f.message.id === res.body.id);
      await advance(ACK_TIMEOUT_MS);
      await dead;
    };
    await deadLetter('old');
    now += DAY_MS;
    await deadLetter('newer');

    now += DAY_MS + 1; // the first is now older than two days, the second not
    await router.purgeExpired();
    const letters = await server.request('GET', '/api/admin/dead-letters', { token: KEYS.admin });
    expect(letters.body.deadLetters.map((l: { message: { content: string } }) => l.message.content)).toEqual([
      'newer',
    ]);
    const metrics = await server.request('GET', '/metrics', { token: KEYS.admin });
    expect(metrics.body).toMatch(/^herald_dead_letters_pruned_total 1$/m);
  });
});
