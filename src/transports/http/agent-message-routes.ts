/**
 * The agent message endpoints (docs/protocol.md, section 6): publish (agent:publish), poll with a cursor,
 * ack, and the admin dead-letter list. Session ownership is checked on every call; the
 * publish scope may reach any session.
 */
import type { FastifyInstance } from 'fastify';
import type { PublishResult } from '../../agent-messages/router.js';
import { validatePublishBody } from '../../agent-messages/schema.js';
import { HeraldError } from '../../errors/catalogue.js';
import { AckBody, DeadLetterQuery, ListQuery } from './schemas.js';

const summary = (r: PublishResult) =>
  r.duplicate
    ? { sessionId: r.sessionId, id: r.id, seq: r.seq }
    : { sessionId: r.message.sessionId, id: r.message.id, seq: r.message.seq };

export async function agentMessageRoutes(app: FastifyInstance): Promise<void> {
  const router = app.herald.router!;

  app.post('/api/agent-messages', { config: { scope: 'agent:publish' } }, async (request, reply) => {
    const { target, input } = validatePublishBody(request.body, app.herald.scrub);
    let results: PublishResult[];
    let rateLimited: string[] | undefined;
    if ('sessionId' in target) {
      // The publish scope reaches any session, but the session must exist.
      const session = await app.herald.store.getSession(target.sessionId);
      if (!session) throw new HeraldError('session_not_found');
      results = [await router.publish(session.id, input)];
    } else {
      ({ results, rateLimited } = await router.publishToUser(target.userId, input));
    }
    const messages = results.map(summary);
    return reply.code(202).send({
      id: messages[0]?.id ?? null,
      seq: messages[0]?.seq ?? null,
      sessionIds: messages.map((m) => m.sessionId),
      messages,
      // A user target: the sessions whose rate limit refused the message.
      ...(rateLimited && { rateLimited }),
    });
  });

  app.get<{ Querystring: { sessionId: string; after?: string; limit?: string } }>(
    '/api/agent-messages',
    { schema: { querystring: ListQuery }, config: { scope: 'chat' } },
    async (request) => {
      const session = await app.herald.sessions.get(request.principal, request.query.sessionId);
      const after = Number(request.query.after ?? 0);
      const limit = Math.min(Math.max(Number(request.query.limit ?? 100), 1), 1000);
      const messages = await router.listPending(session.id, after, limit);
      router.countDelivered(messages, 'poll');
      return { messages, next: messages.length > 0 ? messages[messages.length - 1]!.seq : after };
    },
  );

  app.post<{ Body: AckBody }>(
    '/api/agent-messages/ack',
    { schema: { body: AckBody }, config: { scope: 'chat' } },
    async (request) => {
      const session = await app.herald.sessions.get(request.principal, request.body.sessionId);
      return { acked: await router.ack(session.id, request.body.ids) };
    },
  );

  app.get<{ Querystring: { limit?: string } }>(
    '/api/admin/dead-letters',
    { schema: { querystring: DeadLetterQuery }, config: { scope: 'admin' } },
    async (request) => {
      const limit = Math.min(Math.max(Number(request.query.limit ?? 100), 1), 1000);
      return { deadLetters: await app.herald.store.listDeadLetters(limit) };
    },
  );
}
