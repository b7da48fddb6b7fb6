/**
 * POST /api/chat: one user message in, the whole reply out, with the agent messages made
 * during the call and the session's stored unacked ones piggybacked in seq order.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { jsonWithMessages } from '../../agent-messages/message-json.js';
import { type AgentMessage, isStored } from '../../agent-messages/types.js';
import { ChatFailure } from '../../chat/chat-service.js';
import { ChatBody, ChatResponse } from '../../protocol/http.js';
import type { Session } from '../../store/store.js';
import { collect } from './collector.js';

/** What Fastify sends for an object; the answer here is made as text (message-json.ts). */
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Agent messages for an HTTP answer: the session's stored unacked ones now, plus the
 * best-effort ones dispatched while the call ran; in seq order, once each.
 */
export async function piggyback(
  app: FastifyInstance,
  sessionId: string,
  bestEffort: ReadonlyMap<string, AgentMessage>,
): Promise<AgentMessage[]> {
  const { router } = app.herald;
  if (!router) return [];
  const pending = await router.listPending(sessionId, 0, 1000);
  router.countDelivered(pending, 'http');
  if (bestEffort.size === 0) return pending;
  return [...pending, ...bestEffort.values()].sort((a, b) => a.seq - b.seq);
}

export async function chatRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  // The answer (the protocol's ChatResponse) is written as text around each agent message's one
  // JSON (message-json.ts), so it has no response schema here (Fastify would not use it): the
  // API documents show it (`config.docs`).
  const config = { scope: 'chat', docs: { response: { 200: ChatResponse } } } as const;
  app.post('/api/chat', { schema: { body: ChatBody }, config }, async (request, reply) => {
    const { sessions, chat, router } = app.herald;
    const body = request.body;
    let known: Session | undefined;
    // The ack is not waited for before the chat starts: it joins the commit of the chat's first
    // writes, and only the answer's list of pending messages, made after it, depends on it.
    // Should it fail (the store unreachable), the messages stay pending and come again in the
    // answer, which an at-least-once client dedupes by id: nothing is lost or shown twice.
    let acking: Promise<unknown> | undefined;
    if (body.sessionId !== undefined) {
      known = await sessions.get(request.principal, body.sessionId);
      if (body.ack && body.ack.length > 0 && router)
        acking = router.ack(known.id, body.ack).catch((err: unknown) => {
          request.log.warn({ err, sessionId: body.sessionId }, 'ack with a chat message not recorded');
        });
    }

    const bestEffort = new Map<string, AgentMessage>();
    let detach = () => {};
    const abort = new AbortController();
    // The client went away before its answer: stop the model.
    const onClose = () => {
      if (!reply.sent) abort.abort();
    };
    request.raw.socket.once('close', onClose);
    try {
      const result = await chat.handle(
        {
          principal: request.principal,
          session: known,
          transport: 'http',
          message: body.message,
          messageId: body.id,
          signal: abort.signal,
        },
        {
          async begin(session) {
            // Stored messages come from the pending list when the answer is written.
            detach = await collect(
              app,
              session.id,
              (m) => {
                if (isStored(m.deliveryGuarantee)) return 'deferred';
                bestEffort.set(m.id, m);
                return 'sent';
              },
              { transport: 'http' },
            );
          },
          chunk: () => {},
        },
      );
      await acking;
      const messages = await piggyback(app, result.session.id, bestEffort);
      return reply.type(JSON_TYPE).send(
        jsonWithMessages(
          {
            success: true,
            response: result.reply,
            timestamp: new Date().toISOString(),
            sessionId: result.session.id,
            messageId: result.messageId,
          },
          'agent_messages',
          messages,
        ),
      );
    } catch (err) {
      if (!(err instanceof ChatFailure)) throw err;
      // The session lives on: the error body names it and carries what the client should show.
      if (err.error.code === 'internal') request.log.error({ err: err.error.cause }, 'chat failed');
      if (err.error.retryAfter !== undefined) void reply.header('retry-after', String(err.error.retryAfter));
      await acking;
      const messages = await piggyback(app, err.session.id, bestEffort);
      return reply
        .code(err.error.status)
        .type(JSON_TYPE)
        .send(
          jsonWithMessages({ ...err.error.toBody(), sessionId: err.session.id }, 'agent_messages', messages),
        );
    } finally {
      detach();
      request.raw.socket.off('close', onClose);
    }
  });
}
