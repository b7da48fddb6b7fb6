/**
 * GET /api/sessions/:id/messages: the session timeline, as things happened; DELETE
 * /api/sessions/:id (its owner) and DELETE /api/admin/sessions/:id (admin, any session): the
 * session and all it holds are erased (docs/protocol.md, section 6).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { HeraldContext } from '../../context.js';
import { HeraldError } from '../../errors/catalogue.js';
import { SessionParams, TimelineResponse } from '../../protocol/http.js';

export async function sessionRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/sessions/:id/messages',
    { schema: { params: SessionParams, response: { 200: TimelineResponse } }, config: { scope: 'chat' } },
    async (request) => {
      const { sessions, store } = app.herald;
      const session = await sessions.get(request.principal, request.params.id);
      const timeline = await store.readTimeline(session.id);
      return {
        sessionId: session.id,
        messages: timeline.map((entry) =>
          entry.kind === 'agent_message'
            ? { kind: entry.kind, timestamp: entry.timestamp, message: entry.message }
            : entry,
        ),
      };
    },
  );

  app.delete(
    '/api/sessions/:id',
    { schema: { params: SessionParams }, config: { scope: 'chat' } },
    async (request, reply) => {
      const session = await app.herald.sessions.get(request.principal, request.params.id);
      await erase(app.herald, session.id);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/api/admin/sessions/:id',
    { schema: { params: SessionParams }, config: { scope: 'admin' } },
    async (request, reply) => {
      if (!(await erase(app.herald, request.params.id))) throw new HeraldError('session_not_found');
      request.log.info(
        { sessionId: request.params.id, by: request.principal.sub },
        'session deleted by an admin',
      );
      return reply.code(204).send();
    },
  );
}

/**
 * Deletes the session from the store, then closes this instance's live connections to it
 * (1008 `session_not_found`, as for any session that does not exist). Instances sharing Redis
 * find out on their connections' next write, or within seconds on their next lookup.
 */
async function erase(herald: HeraldContext, sessionId: string): Promise<boolean> {
  const deleted = (await herald.store.deleteSession(sessionId)) !== undefined;
  for (const connection of herald.connections)
    if (connection.sessionId === sessionId) void connection.close(1008, 'session_not_found');
  return deleted;
}
