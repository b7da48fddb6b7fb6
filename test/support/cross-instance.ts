/**
 * Checks that two Heralds sharing one Redis (a single server or a Cluster) act as one, shared by
 * the multi-instance tests of both topologies: what is published on one reaches a socket on
 * the other in seq order, and a chat's summary made on one is on the other's socket and acked
 * there for both.
 */
import { expect } from 'vitest';
import { KEYS } from './auth.js';
import type { Harness } from './harness.js';
import type { TestServer } from './server.js';
import { WsClient } from './ws-client.js';

/** A status message of the given guarantee, published on `server` into the session. */
export const publishStatus = (
  server: TestServer,
  sessionId: string,
  content: string,
  deliveryGuarantee: string,
) =>
  server.request('POST', '/api/agent-messages', {
    body: { target: { sessionId }, agentType: 'status', content, source: 'ci', deliveryGuarantee },
  });

/**
 * Publishes one message of each guarantee on `on` into the session `client` (a socket on
 * another instance) is in, and expects all three on the socket with seqs 1, 2 and 3.
 */
export async function expectEveryGuaranteeAcross(
  on: TestServer,
  client: WsClient,
  sessionId: string,
): Promise<void> {
  const ids: string[] = [];
  for (const guarantee of ['at-least-once', 'best-effort', 'exactly-once']) {
    const res = await publishStatus(on, sessionId, `${guarantee} to ${sessionId}`, guarantee);
    expect(res.status).toBe(202);
    ids.push(res.body.id);
  }
  for (const id of ids) await client.next((f) => f.type === 'agent_message' && f.message.id === id);
  const seqs = client.frames.filter((f) => f.type === 'agent_message').map((f) => f.message.seq);
  expect(seqs).toEqual([1, 2, 3]);
}

/**
 * A chat on `on` whose message makes a summary, in the session of `client` (a socket on
 * another instance): the summary is seq 1 in the answer and reaches the socket; acked there,
 * it is gone from `on`'s next answer.
 */
export async function expectSummaryAcrossAndAckedThere(
  on: TestServer,
  client: WsClient,
  sessionId: string,
): Promise<void> {
  const chat = await on.request('POST', '/api/chat', {
    body: { message: 'reach me at jane@example.com', sessionId },
  });
  expect(chat.status).toBe(200);
  const summary = chat.body.agent_messages[0];
  expect(summary).toMatchObject({ agentType: 'sanitization', seq: 1 });
  const seen = await client.next((f) => f.type === 'agent_message' && f.message.id === summary.id);
  expect(seen.message.seq).toBe(1);
  client.send({ type: 'ack', ids: [summary.id] });
  client.send({ type: 'ping' });
  await client.type('pong');
  const next = await on.request('POST', '/api/chat', { body: { message: 'plain', sessionId } });
  expect(next.body.agent_messages).toEqual([]);
}

/**
 * A WebSocket ticket made on `maker` (both started with AUTH_ENV) opens a socket on `user`, and
 * only once: used there, it opens nothing on `maker`.
 */
export async function expectTicketAcrossOnce(h: Harness, maker: TestServer, user: TestServer): Promise<void> {
  const issued = await maker.request('POST', '/api/ws-ticket', { token: KEYS.alice });
  expect(issued.status).toBe(200);
  const { ready } = await h.connect(`${user.wsUrl}?ticket=${issued.body.ticket}`);
  expect(ready.sessionId).toMatch(/^sess_/);
  const again = h.track(new WsClient(`${maker.wsUrl}?ticket=${issued.body.ticket}`));
  expect(await again.closed()).toBe(1008);
  expect(again.frames).toMatchObject([{ type: 'error', code: 'unauthorized' }]);
}
