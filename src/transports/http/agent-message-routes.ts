/**
 * The agent message endpoints of contract 5: publish (agent:publish), poll with a cursor,
 * ack, and the admin dead-letter list. Session ownership is checked on every call; the
 * publish scope may reach any session.
 */
import type { FastifyInstance } from 'fastify';
import type { PublishResult } from '../../agent-messages/router.js';
import { validateAgentMessageInput } from '../../agent-messages/schema.js';
import { HeraldError } from '../../errors/catalogue.js';
import { AckBody, DeadLetterQuery, ListQuery } from './schemas.js';

function parseTarget(body: unknown): { sessionId: string } | { userId: string } {
  const target = (body as { target?: unknown } | null)?.target as Record<string, unknown> | undefined;
  if (typeof target === 'object' && target !== null) {
    const keys = Object.keys(target);
    if (keys.length === 1 && typeof target.sessionId === 'string' && target.sessionId !== '')
      return { sessionId: target.sessionId };
    if (keys.length === 1 && typeof target.userId === 'string' && target.userId !== '')
      return { userId: target.userId };
  }
  throw new HeraldError('invalid_agent_message', 'target must be {"sessionId":"…"} or {"userId":"…"}', {
    fields: ['target'],
  });
}

const summary = (r: PublishResult) =>
  r.duplicate
    ? { sessionId: r.sessionId, id: r.id, seq: r.seq }
    : { sessionId: r.message.sessionId, id: r.message.id, seq: r.message.seq };

export async function agentMessageRoutes(app: FastifyInstance): Promise<void> {
  const router = app.herald.router!;

  app.post('/api/agent-messages', { config: { scope: 'agent:publish' } }, async (request, reply) => {
    const target = parseTarget(request.body);
    const { target: _t, ...rest } = request.body as Record<string, unknown>;
    const input = validateAgentMessageInput(rest, app.herald.scrub);
    let results: PublishResult[];
    if ('sessionId' in target) {
      // The publish scope reaches any session, but the session must exist.
      const session = await app.herald.store.getSession(target.sessionId);
      if (!session) throw new HeraldError('session_not_found');
      results = [await router.publish(session.id, input)];
    } else {
      results = await router.publishToUser(target.userId, input);
    }
    const messages = results.map(summary);
    return reply.code(202).send({
      id: messages[0]?.id ?? null,
      seq: messages[0]?.seq ?? null,
      sessionIds: messages.map((m) => m.sessionId),
      messages,
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
