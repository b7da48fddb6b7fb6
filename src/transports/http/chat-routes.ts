/**
 * POST /api/chat: one user message in, the whole reply out, with the agent messages made
 * during the call and the session's stored unacked ones piggybacked in seq order.
 */
import type { FastifyInstance } from 'fastify';
import type { AgentMessage } from '../../agent-messages/types.js';
import { ChatBody } from './schemas.js';

/** Agent messages for an HTTP answer: made in this call plus pending unacked, in seq order, once each. */
export async function piggyback(
  app: FastifyInstance,
  sessionId: string,
  made: readonly AgentMessage[],
): Promise<AgentMessage[]> {
  const { router } = app.herald;
  if (!router) return [];
  const pending = await router.listPending(sessionId, 0, 1000);
  const byId = new Map<string, AgentMessage>();
  for (const m of made) byId.set(m.id, m);
  for (const m of pending) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

export async function chatRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: ChatBody }>(
    '/api/chat',
    { schema: { body: ChatBody }, config: { scope: 'chat' } },
    async (request) => {
      const { sessions, chat, router } = app.herald;
      const body = request.body;
      const session = await sessions.resolve(request.principal, body.sessionId);
      if (body.ack && body.ack.length > 0 && router) await router.ack(session.id, body.ack);

      const abort = new AbortController();
      const onClose = () => {
        if (!request.raw.complete || request.raw.destroyed) abort.abort();
      };
      request.raw.socket.once('close', onClose);
      try {
        const result = await chat.handle(
          {
            principal: request.principal,
            session,
            transport: 'http',
            message: body.message,
            messageId: body.id,
            signal: abort.signal,
          },
          { chunk: () => {} },
        );
        return {
          success: true,
          response: result.reply,
          timestamp: new Date().toISOString(),
          sessionId: session.id,
          messageId: result.messageId,
          agent_messages: await piggyback(app, session.id, result.agentMessages),
        };
      } finally {
        request.raw.socket.off('close', onClose);
      }
    },
  );
}
