/**
 * POST /api/chat/stream: the reply as a Vercel AI SDK UI message stream (protocol v1).
 * Takes the /api/chat body or the body of the AI SDK's DefaultChatTransport; without a
 * sessionId, one session per (principal, chat id) keeps a useChat conversation together.
 * Agent messages travel as `data-agent-message` parts whose id is the agent message id,
 * so a repeat replaces the earlier part instead of adding one.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AgentMessage } from '../../agent-messages/types.js';
import { ChatFailure } from '../../chat/chat-service.js';
import { HeraldError, invalidRequest, toHeraldError } from '../../errors/catalogue.js';
import { isPlainObject } from '../../json-guards.js';
import { ChatBody, ChatStreamBody, UiChatBody, UiTextPart, UiUserMessage } from '../../protocol/http.js';
import { ACK_MAX_IDS, MESSAGE_ID_MAX_CHARS, SESSION_ID_MAX_CHARS } from '../../protocol/limits.js';
import type { Session } from '../../store/store.js';
import { collect } from '../http/collector.js';
import { type KeptReader, KeptReplies, type KeptReply, keptLimits } from '../kept-replies.js';
import { SseWriter } from './sse-writer.js';

interface StreamInput {
  message: string;
  messageId?: string;
  /** DefaultChatTransport's `trigger: "regenerate-message"`: answer the last user message again. */
  regenerate?: boolean;
  sessionId?: string;
  chatKey?: string;
  ack?: string[];
}

// The protocol's body schemas (src/protocol/http.ts), compiled once; each fault names its field.
const UI = UiChatBody.properties;
const isSessionId = TypeCompiler.Compile(UI.sessionId);
const isAckIds = TypeCompiler.Compile(UI.ack);
const isMessages = TypeCompiler.Compile(UI.messages);
const isChatId = TypeCompiler.Compile(UI.id);
const isTrigger = TypeCompiler.Compile(UI.trigger);
const isParts = TypeCompiler.Compile(UiUserMessage.properties.parts);
const isMessageId = TypeCompiler.Compile(UiUserMessage.properties.id);
const isTextPart = TypeCompiler.Compile(UiTextPart);
const isMessage = TypeCompiler.Compile(ChatBody.properties.message);
const USER = UiUserMessage.properties.role.const;
const idWhy = (max: number) => `must be a string of 1 to ${max} characters`;

function optional(
  body: Record<string, unknown>,
  field: string,
  check: { Check(v: unknown): boolean },
  max: number,
): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (!check.Check(v)) throw invalidRequest(field, idWhy(max));
  return v as string;
}

/** Reads either body shape, naming the field at fault. */
export function parseStreamBody(body: unknown): StreamInput {
  if (!isPlainObject(body)) throw invalidRequest('body', 'must be a JSON object');
  const b = body;
  const sessionId = optional(b, 'sessionId', isSessionId, SESSION_ID_MAX_CHARS);
  let ack: string[] | undefined;
  if (b.ack !== undefined) {
    if (!isAckIds.Check(b.ack))
      throw invalidRequest('ack', `must be an array of at most ${ACK_MAX_IDS} agent message ids`);
    ack = b.ack as string[];
  }
  if (b.messages !== undefined) {
    // The body of the AI SDK's DefaultChatTransport.
    if (!isMessages.Check(b.messages)) throw invalidRequest('messages', 'must be an array of UI messages');
    const chatKey = optional(b, 'id', isChatId, MESSAGE_ID_MAX_CHARS);
    if (b.trigger !== undefined && !isTrigger.Check(b.trigger))
      throw invalidRequest('trigger', 'must be "submit-message" or "regenerate-message"');
    const last = [...(b.messages as unknown[])]
      .reverse()
      .find((m) => (m as { role?: unknown } | null)?.role === USER) as
      | { id?: unknown; parts?: unknown }
      | undefined;
    if (!last) throw invalidRequest('messages', 'must contain a user message');
    if (!isParts.Check(last.parts)) throw invalidRequest('messages.parts', 'must be an array');
    const texts: string[] = [];
    for (const p of last.parts as Array<{ type?: unknown } | null>) {
      if (p?.type !== 'text') continue;
      if (!isTextPart.Check(p)) throw invalidRequest('messages.parts.text', 'must be a string');
      texts.push((p as { text: string }).text);
    }
    if (last.id !== undefined && !isMessageId.Check(last.id))
      throw invalidRequest('messages.id', idWhy(MESSAGE_ID_MAX_CHARS));
    return {
      message: texts.join(''),
      messageId: last.id as string | undefined,
      sessionId,
      chatKey,
      ack,
      regenerate: b.trigger === 'regenerate-message',
    };
  }
  if (!isMessage.Check(b.message)) throw invalidRequest('message', 'must be a string');
  return {
    message: b.message as string,
    messageId: optional(b, 'id', isChatId, MESSAGE_ID_MAX_CHARS),
    sessionId,
    ack,
  };
}

/** The answers as the API documents show them (the parts: /docs/asyncapi.json). */
const UI_MESSAGE_STREAM = {
  description:
    'A Vercel AI SDK UI message stream (v1): one `data: <part>` event per part, then `data: [DONE]`',
  content: { 'text/event-stream': { schema: { type: 'string' } } },
};
const NO_STREAM = { description: 'The chat has no reply in flight on this instance', type: 'null' };
const STOPPED = { description: 'The reply was stopped', type: 'null' };
const STREAM_HEADERS = { 'x-vercel-ai-ui-message-stream': 'v1' };
const DONE = 'data: [DONE]\n\n';

/** A kept reply's key: the principal and the AI SDK chat id. */
const keyOf = (sub: string, chatId: string) => `${sub}\u0000${chatId}`;

/** An SSE response reading a kept reply: its parts are SSE frames, the last one `[DONE]`. */
function sseReader(sse: SseWriter): KeptReader {
  return {
    part: (frame) => sse.write(frame),
    end(last) {
      sse.write(last);
      sse.end();
    },
  };
}

/** The name of an AI SDK chat's reply among its session's kept replies on Redis (src/engine/redis-replies.ts). */
const nameOf = (chatId: string) => `c:${chatId}`;

/** The response reads the kept reply until it ends or the client goes. */
function follow(reply: KeptReply, sse: SseWriter): void {
  const reader = sseReader(sse);
  if (reply.attach(reader)) sse.onClose(() => reply.detach(reader));
}

export async function chatStreamRoutes(app: FastifyInstance): Promise<void> {
  // Replies in flight, kept so a client that lost its connection gets the rest (in memory, and
  // on Redis for other instances: docs/decisions.md, "Clients"); a finished one is forgotten at once.
  const streams = new KeptReplies(keptLimits(app.herald.config), false);
  app.addHook('onClose', async () => streams.close());
  const { replies } = app.herald;

  /** The chat's reply made on another instance, read from Redis; false when there is none. */
  async function followElsewhere(
    request: FastifyRequest<{ Params: { chatId: string } }>,
    reply: FastifyReply,
  ) {
    if (!replies) return false;
    const session = await app.herald.sessions.findForChat(request.principal, request.params.chatId);
    if (!session) return false;
    let sse: SseWriter | undefined;
    const open = () => {
      sse ??= new SseWriter(reply, STREAM_HEADERS);
      return sse;
    };
    const reading = await replies.read(session.id, nameOf(request.params.chatId), 0, {
      part: (frame) => open().write(frame),
      end(last) {
        open().write(last);
        open().end();
      },
      // No longer kept, or its maker went away: the stream ends without a finish, as a cut.
      gone: () => open().end(),
    });
    if (!reading) return false;
    open().onClose(() => reading.close());
    return true;
  }

  // useChat({ resume: true }) asks for the chat's active stream on load: the reply in flight
  // for this principal and chat id, from its start and then live, or 204 when there is none.
  app.get<{ Params: { chatId: string } }>(
    '/api/chat/stream/:chatId/stream',
    { config: { scope: 'chat', docs: { response: { 200: UI_MESSAGE_STREAM, 204: NO_STREAM } } } },
    async (request, reply) => {
      const stream = streams.get(keyOf(request.principal.sub, request.params.chatId));
      if (stream) follow(stream, new SseWriter(reply, STREAM_HEADERS));
      else if (!(await followElsewhere(request, reply))) return reply.code(204).send();
      return reply;
    },
  );

  // An explicit stop for a resumable reply (its connection dropping no longer stops it): the
  // model is cancelled, the partial reply recorded, and its readers get the error part and the end.
  app.post<{ Params: { chatId: string } }>(
    '/api/chat/stream/:chatId/stop',
    { config: { scope: 'chat', docs: { response: { 204: STOPPED } } } },
    async (request, reply) => {
      const { principal, params } = request;
      const stream = streams.get(keyOf(principal.sub, params.chatId));
      if (stream) stream.stop();
      else {
        // Made on another instance: it hears the stop over Redis.
        const session = replies && (await app.herald.sessions.findForChat(principal, params.chatId));
        if (!session || !(await replies!.stop(session.id, nameOf(params.chatId))))
          throw new HeraldError('not_found', 'No reply in flight for this chat.');
      }
      return reply.code(204).send();
    },
  );

  // The body is read by parseStreamBody (either shape, each fault naming its field), not by the
  // route's validator; the API documents show its schema and the stream (`config.docs`).
  const docs = { body: ChatStreamBody, response: { 200: UI_MESSAGE_STREAM } };
  app.post('/api/chat/stream', { config: { scope: 'chat', docs } }, async (request, reply) => {
    const { sessions, chat, router } = app.herald;
    const input = parseStreamBody(request.body);
    // The session named, or the one this AI SDK chat already has (acks need it before the reply).
    let known: Session | undefined;
    if (input.sessionId !== undefined) known = await sessions.get(request.principal, input.sessionId);
    else if (input.chatKey !== undefined)
      known = await sessions.findForChat(request.principal, input.chatKey);
    if (known && input.ack && input.ack.length > 0 && router) await router.ack(known.id, input.ack);

    let sse: SseWriter | undefined;
    // With an AI SDK chat id the reply is resumable: its parts go through the kept stream.
    let kept: KeptReply | undefined;
    const part = (value: Record<string, unknown>) => {
      if (kept) kept.append(`data: ${JSON.stringify(value)}\n\n`);
      else sse?.event(JSON.stringify(value));
    };
    // A message may reach the call twice (replay and dispatch): one part per id.
    const sent = new Set<string>();
    const agentPart = (m: AgentMessage) => {
      if (sent.has(m.id)) return;
      sent.add(m.id);
      part({ type: 'data-agent-message', id: m.id, data: m });
    };
    const abort = new AbortController();
    let detach = () => {};
    let textId: string | undefined;

    try {
      await chat.handle(
        {
          principal: request.principal,
          session: known,
          sessionId: input.sessionId,
          chatKey: input.chatKey,
          transport: 'stream',
          message: input.message,
          messageId: input.messageId,
          regenerate: input.regenerate,
          signal: abort.signal,
        },
        {
          // Only now is the message accepted: earlier errors still answer with an HTTP status.
          async begin(session, messageId) {
            sse = new SseWriter(reply, STREAM_HEADERS);
            const chatKey = input.chatKey;
            kept =
              chatKey === undefined
                ? undefined
                : streams.start(
                    keyOf(request.principal.sub, chatKey),
                    () => abort.abort(),
                    () =>
                      replies?.open(
                        session.id,
                        nameOf(chatKey),
                        { stop: () => abort.abort(), touch: () => kept?.touch() },
                        { keepEnded: false },
                      ),
                  );
            // A resumable reply goes on when its connection drops (until nobody reads it for
            // the keep time); any other reply ends with its connection.
            if (kept) follow(kept, sse);
            else sse.onClose(() => abort.abort());
            part({ type: 'start', messageMetadata: { sessionId: session.id, messageId } });
            // Stored unacked messages first (seq order), then whatever the session gets meanwhile.
            detach = await collect(
              app,
              session.id,
              (m) => {
                agentPart(m);
                return 'sent';
              },
              { transport: 'stream', afterSeq: 0 },
            );
          },
          chunk(text, replyTo) {
            if (!textId) {
              textId = `txt_${replyTo}`;
              part({ type: 'text-start', id: textId });
            }
            part({ type: 'text-delta', id: textId, delta: text });
          },
        },
      );
      if (textId) part({ type: 'text-end', id: textId });
      part({ type: 'finish', finishReason: 'stop' });
    } catch (err) {
      const error = err instanceof ChatFailure ? err.error : toHeraldError(err);
      if (!sse) throw error;
      if (error.code === 'internal') request.log.error({ err }, 'chat stream failed');
      if (textId) part({ type: 'text-end', id: textId });
      part({ type: 'error', errorText: `${error.code}: ${error.message}` });
      part({ type: 'finish', finishReason: 'error' });
    } finally {
      detach();
    }
    if (kept) kept.finish(DONE);
    else {
      sse?.write(DONE);
      sse?.end();
    }
    return reply;
  });
}
