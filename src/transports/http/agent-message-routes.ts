/**
 * The agent message endpoints (docs/protocol.md, section 6): publish (agent:publish), poll with a cursor,
 * ack, and the admin dead-letter list. Session ownership is checked on every call; the
 * publish scope may reach any session.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { PublishResult } from '../../agent-messages/router.js';
import { validatePublishBody } from '../../agent-messages/schema.js';
import { HeraldError } from '../../errors/catalogue.js';
import { PublishBody, PublishResponse } from '../../protocol/agent-message.js';
import {
  AckBody,
  AckResponse,
  DeadLetterQuery,
  DeadLetterResponse,
  ListQuery,
  ListResponse,
} from '../../protocol/http.js';
import { LIST_DEFAULT, LIST_MAX, PUBLISH_ANSWER_LIST_MAX } from '../../protocol/limits.js';

const summary = (r: PublishResult) =>
  r.duplicate
    ? { sessionId: r.sessionId, id: r.id, seq: r.seq }
    : { sessionId: r.message.sessionId, id: r.message.id, seq: r.message.seq };

export async function agentMessageRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const router = app.herald.router!;

  // The body is checked by validatePublishBody (the protocol's PublishBody, field by field), not
  // by the route's validator: a bad publish is invalid_agent_message naming every bad field. The
  // API documents show the schema (`config.docs`).
  app.post(
    '/api/agent-messages',
    {
      schema: { response: { 202: PublishResponse } },
      config: { scope: 'agent:publish', docs: { body: PublishBody } },
    },
    async (request, reply) => {
      const { target, input } = validatePublishBody(request.body, app.herald.scrub);
      if ('sessionId' in target) {
        // The publish scope reaches any session, but the session must exist.
        const session = await app.herald.store.getSession(target.sessionId);
        if (!session) throw new HeraldError('session_not_found');
        const message = summary(await router.publish(session.id, input));
        return reply
          .code(202)
          .send({ id: message.id, seq: message.seq, sessionIds: [message.sessionId], messages: [message] });
      }
      // A user target: however many sessions the user has, the answer lists the first
      // PUBLISH_ANSWER_LIST_MAX of each list and counts them all, so it stays small.
      const { results, rateLimited } = await router.publishToUser(target.userId, input);
      const messages = results.slice(0, PUBLISH_ANSWER_LIST_MAX).map(summary);
      return reply.code(202).send({
        id: messages[0]?.id ?? null,
        seq: messages[0]?.seq ?? null,
        sessionIds: messages.map((m) => m.sessionId),
        messages,
        count: results.length,
        // The sessions whose rate limit refused the message.
        rateLimited: rateLimited.slice(0, PUBLISH_ANSWER_LIST_MAX),
        rateLimitedCount: rateLimited.length,
      });
    },
  );

  app.get(
    '/api/agent-messages',
    { schema: { querystring: ListQuery, response: { 200: ListResponse } }, config: { scope: 'chat' } },
    async (request) => {
      const session = await app.herald.sessions.get(request.principal, request.query.sessionId);
      const after = Number(request.query.after ?? 0);
      const limit = Math.min(Math.max(Number(request.query.limit ?? LIST_DEFAULT), 1), LIST_MAX);
      const messages = await router.listPending(session.id, after, limit);
      router.countDelivered(messages, 'poll');
      return { messages, next: messages.length > 0 ? messages[messages.length - 1]!.seq : after };
    },
  );

  app.post(
    '/api/agent-messages/ack',
    { schema: { body: AckBody, response: { 200: AckResponse } }, config: { scope: 'chat' } },
    async (request) => {
      const session = await app.herald.sessions.get(request.principal, request.body.sessionId);
      return { acked: await router.ack(session.id, request.body.ids) };
    },
  );

  app.get(
    '/api/admin/dead-letters',
    {
      schema: { querystring: DeadLetterQuery, response: { 200: DeadLetterResponse } },
      config: { scope: 'admin' },
    },
    async (request) => {
      const limit = Math.min(Math.max(Number(request.query.limit ?? LIST_DEFAULT), 1), LIST_MAX);
      return { deadLetters: await app.herald.store.listDeadLetters(limit) };
    },
  );
}
