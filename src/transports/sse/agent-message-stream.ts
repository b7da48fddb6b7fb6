/**
 * GET /api/agent-messages/stream: the session's agent messages as Server-Sent Events, one
 * `agent_message` event per message with `id: <seq>`. A reconnect with Last-Event-ID (or
 * `?after=`) resumes after that seq; comment heartbeats keep idle streams open.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../../errors/catalogue.js';
import { StreamQuery } from '../../protocol/http.js';
import { SEQ_QUERY_PATTERN } from '../../protocol/limits.js';
import { SseChannel } from './sse-channel.js';
import { SseWriter } from './sse-writer.js';

const SEQ = new RegExp(SEQ_QUERY_PATTERN);

/** The answer as the API documents show it (the events: /docs/asyncapi.json). */
const EVENTS = {
  description: 'Server-Sent Events: `id: <seq>`, `event: agent_message`, `data: <the agent message>`',
  content: { 'text/event-stream': { schema: { type: 'string' } } },
};

export async function agentMessageStreamRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/agent-messages/stream',
    { schema: { querystring: StreamQuery }, config: { scope: 'chat', docs: { response: { 200: EVENTS } } } },
    async (request, reply) => {
      const { sessions, router, config, metrics, connections } = app.herald;
      const session = await sessions.get(request.principal, request.query.sessionId);
      const lastEventId = request.headers['last-event-id'];
      const cursor =
        typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : (request.query.after ?? '0');
      if (!SEQ.test(cursor))
        throw new HeraldError('invalid_request', 'Last-Event-ID must be a seq', {
          fields: ['Last-Event-ID'],
        });

      // A place among the principal's live connections, given back when the stream closes.
      const release = app.herald.liveConnections.take(request.principal.sub);
      const sse = new SseWriter(reply);
      const channel = new SseChannel(sse, session.id, config.wsMaxBufferedBytes);
      const connection = { sessionId: session.id, close: () => sse.end() };
      connections.add(connection);
      metrics.connections.inc({ transport: 'sse' });
      sse.write(': connected\n\n');
      sse.startHeartbeat(config.sseHeartbeatMs);
      const detach = await router!.attach(channel, Number(cursor));
      sse.onClose(() => {
        release();
        detach();
        connections.delete(connection);
        metrics.connections.dec({ transport: 'sse' });
      });
      return reply;
    },
  );
}
