/** GET /api/sessions/:id/messages: the session timeline, as things happened (docs/protocol.md, section 6). */
import type { FastifyInstance } from 'fastify';
import { SessionParams } from './schemas.js';

export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { id: string } }>(
    '/api/sessions/:id/messages',
    { schema: { params: SessionParams }, config: { scope: 'chat' } },
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
