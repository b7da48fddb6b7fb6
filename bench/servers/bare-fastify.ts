/**
 * The floor for HTTP chat: a bare Fastify 5 route POST /api/chat that parses the same bodies
 * and answers a body of Herald's shape (success, response, timestamp, sessionId, messageId,
 * agent_messages), with no sanitizer, store, model or auth. Herald off / this is the cost of
 * everything Herald does per chat.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { serve } from './common.js';

interface ChatBody {
  message?: unknown;
  sessionId?: unknown;
  ack?: unknown;
}

const id = (prefix: string) => `${prefix}_${randomBytes(13).toString('base64url')}`;

await serve(async () => {
  const app = Fastify({ logger: false });
  app.post('/api/chat', async (request) => {
    const body = (request.body ?? {}) as ChatBody;
    const message = typeof body.message === 'string' ? body.message : '';
    const words = message.split(/\s+/).filter(Boolean).length;
    return {
      success: true,
      response: `I read your message (${words} words): "${message}".`,
      timestamp: new Date().toISOString(),
      sessionId: typeof body.sessionId === 'string' ? body.sessionId : id('sess'),
      messageId: id('m'),
      agent_messages: [],
    };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { port, close: () => app.close() };
});
