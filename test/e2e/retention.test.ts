/**
 * Retention through a running Herald: a session idle past HERALD_SESSION_RETENTION_MS is gone
 * from every endpoint and from the store, one with a live client stays, and a timeline keeps
 * only its newest HERALD_TIMELINE_MAX_ENTRIES entries.
 */
import { describe, expect, it } from 'vitest';
import { publish } from '../support/agent-messages.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();
const HOUR = 60 * 60 * 1000;

describe('retention', () => {
  it('deletes idle sessions with all they hold, everywhere, and keeps the one with a live client', async () => {
    // The agent message clock (and the sweeper's) runs two hours ahead once `later` is set.
    let offset = 0;
    const server = await h.start(
      { ...AUTH_ENV, HERALD_SESSION_RETENTION_MS: String(HOUR) },
      { now: () => Date.now() + offset },
    );
    const idle = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'mail me at jane@example.com' },
    });
    const idleId: string = idle.body.sessionId;
    expect(idle.body.agent_messages).toHaveLength(1);
    const { client, ready } = await h.connect(server.wsUrl, { token: KEYS.bob });
    const liveId: string = ready.sessionId;
    expect(
      (await publish(server, { target: { sessionId: liveId }, deliveryGuarantee: 'at-least-once' })).status,
    ).toBe(202);

    offset = 2 * HOUR;
    const swept = await server.app.herald.retention.run();
    expect(swept.sessions).toBe(1);
    expect(swept.entries).toBe(3); // the user message, its summary and the reply

    const asAlice = { token: KEYS.alice };
    expect((await server.request('GET', `/api/sessions/${idleId}/messages`, asAlice)).status).toBe(404);
    expect((await server.request('GET', `/api/agent-messages?sessionId=${idleId}`, asAlice)).status).toBe(
      404,
    );
    const chat = await server.request('POST', '/api/chat', {
      ...asAlice,
      body: { message: 'hi', sessionId: idleId },
    });
    expect(chat).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
    expect(await server.app.herald.store.getSession(idleId)).toBeUndefined();
    expect(await server.app.herald.store.listSessionIds('alice')).toEqual([]);

    const kept = await server.request('GET', `/api/sessions/${liveId}/messages`, { token: KEYS.bob });
    expect(kept.status).toBe(200);
    expect(kept.body.messages.map((e: { kind: string }) => e.kind)).toEqual(['agent_message']);
    client.send({ type: 'ping' });
    await client.type('pong');

    const metrics = await server.request('GET', '/metrics', { token: KEYS.admin });
    expect(metrics.body).toMatch(/^herald_retention_sessions_removed_total 1$/m);
    expect(metrics.body).toMatch(/^herald_retention_entries_removed_total\{reason="session_expired"\} 3$/m);
  });

  it('keeps the newest timeline entries of a session, and counts what it drops', async () => {
    const server = await h.start({
      ...AUTH_ENV,
      HERALD_TIMELINE_MAX_ENTRIES: '4',
      HERALD_AGENT_MESSAGES: 'off',
    });
    let sessionId: string | undefined;
    for (const word of ['one', 'two', 'three', 'four']) {
      const res = await server.request('POST', '/api/chat', {
        token: KEYS.alice,
        body: { message: word, ...(sessionId && { sessionId }) },
      });
      sessionId = res.body.sessionId;
    }
    const timeline = await server.request('GET', `/api/sessions/${sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(timeline.body.messages.map((e: { kind: string; text: string }) => `${e.kind}:${e.text}`)).toEqual([
      'user:three',
      expect.stringMatching(/^reply:/),
      'user:four',
      expect.stringMatching(/^reply:/),
    ]);
    const metrics = await server.request('GET', '/metrics', { token: KEYS.admin });
    expect(metrics.body).toMatch(
      /^herald_retention_entries_removed_total\{reason="timeline_limit"\} [1-9]\d*$/m,
    );
  });
});
