/** GET /api/sessions/:id/messages: the session timeline, as things happened (docs/protocol.md, section 6). */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
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
}
