/** HTTP bodies, queries and answers (docs/protocol.md, section 6). */
import { type Static, Type } from '@sinclair/typebox';
import { AckIds, AgentMessage, SessionId } from './agent-message.js';
import { Context, MessageId } from './frames.js';
import { LIMIT_QUERY_PATTERN, SEQ_QUERY_PATTERN } from './limits.js';

/** A seq in a query string (query values arrive as text): checked by pattern, parsed by the route. */
export const SeqQuery = Type.String({ pattern: SEQ_QUERY_PATTERN });
export const LimitQuery = Type.String({ pattern: LIMIT_QUERY_PATTERN });

/** POST /api/chat, and the same shape on POST /api/chat/stream. */
export const ChatBody = Type.Object({
  message: Type.String(),
  context: Type.Optional(Context),
  sessionId: Type.Optional(SessionId),
  id: Type.Optional(MessageId),
  ack: Type.Optional(AckIds),
});
export type ChatBody = Static<typeof ChatBody>;

/** 200 from POST /api/chat. */
export const ChatResponse = Type.Object({
  success: Type.Literal(true),
  response: Type.String(),
  timestamp: Type.String(),
  sessionId: Type.String(),
  messageId: Type.String(),
  agent_messages: Type.Array(AgentMessage),
});
export type ChatResponse = Static<typeof ChatResponse>;

/** One part of a UI message, as the AI SDK sends it; only text parts are read. */
export const UiTextPart = Type.Object({ type: Type.Literal('text'), text: Type.String() });
/** The user message Herald answers: the last one with `role: "user"`. */
export const UiUserMessage = Type.Object({
  role: Type.Literal('user'),
  parts: Type.Array(Type.Unknown()),
  id: Type.Optional(MessageId),
});
export const ChatTrigger = Type.Union([Type.Literal('submit-message'), Type.Literal('regenerate-message')]);

/**
 * POST /api/chat/stream with the body of the AI SDK's DefaultChatTransport. The property order
 * is the order in which bad fields are reported.
 */
export const UiChatBody = Type.Object({
  sessionId: Type.Optional(SessionId),
  ack: Type.Optional(AckIds),
  messages: Type.Array(Type.Unknown()),
  /** The AI SDK chat id. */
  id: Type.Optional(MessageId),
  trigger: Type.Optional(ChatTrigger),
});
export type UiChatBody = Static<typeof UiChatBody>;

/** POST /api/chat/stream: either body. */
export const ChatStreamBody = Type.Union([ChatBody, UiChatBody]);

export const SessionParams = Type.Object({ id: SessionId });
export type SessionParams = Static<typeof SessionParams>;

export const TimelineEntry = Type.Union([
  Type.Object({
    kind: Type.Literal('user'),
    id: Type.String(),
    text: Type.String(),
    timestamp: Type.String(),
  }),
  Type.Object({
    kind: Type.Literal('reply'),
    replyTo: Type.String(),
    text: Type.String(),
    timestamp: Type.String(),
    incomplete: Type.Optional(Type.Literal(true)),
  }),
  Type.Object({ kind: Type.Literal('agent_message'), timestamp: Type.String(), message: AgentMessage }),
]);
export type TimelineEntry = Static<typeof TimelineEntry>;

/** 200 from GET /api/sessions/:id/messages. */
export const TimelineResponse = Type.Object({
  sessionId: Type.String(),
  messages: Type.Array(TimelineEntry),
});
export type TimelineResponse = Static<typeof TimelineResponse>;

/** GET /api/agent-messages. */
export const ListQuery = Type.Object({
  sessionId: SessionId,
  after: Type.Optional(SeqQuery),
  limit: Type.Optional(LimitQuery),
});
export type ListQuery = Static<typeof ListQuery>;

export const ListResponse = Type.Object({
  messages: Type.Array(AgentMessage),
  /** The cursor for the next poll: the last seq returned, or `after` when none. */
  next: Type.Integer(),
});
export type ListResponse = Static<typeof ListResponse>;

/** GET /api/agent-messages/stream (`Last-Event-ID` wins over `after`). */
export const StreamQuery = Type.Object({ sessionId: SessionId, after: Type.Optional(SeqQuery) });
export type StreamQuery = Static<typeof StreamQuery>;

/** POST /api/agent-messages/ack. */
export const AckBody = Type.Object({ sessionId: SessionId, ids: AckIds });
export type AckBody = Static<typeof AckBody>;
export const AckResponse = Type.Object({ acked: Type.Integer({ minimum: 0 }) });
export type AckResponse = Static<typeof AckResponse>;

/** GET /api/admin/dead-letters. */
export const DeadLetterQuery = Type.Object({ limit: Type.Optional(LimitQuery) });
export type DeadLetterQuery = Static<typeof DeadLetterQuery>;
export const DeadLetter = Type.Object({
  message: AgentMessage,
  /** Sends on the connection that gave up. */
  attempts: Type.Integer(),
  reason: Type.String(),
  at: Type.String(),
});
export type DeadLetter = Static<typeof DeadLetter>;
export const DeadLetterResponse = Type.Object({ deadLetters: Type.Array(DeadLetter) });

/** 200 from POST /api/ws-ticket. */
export const TicketResponse = Type.Object({ ticket: Type.String(), expiresAt: Type.String() });
export type TicketResponse = Static<typeof TicketResponse>;

/** GET /health: 200 when `ok`, 503 otherwise. */
export const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('shutting_down')]),
  store: Type.String(),
  agent: Type.String(),
  agentMessages: Type.Union([Type.Literal('on'), Type.Literal('off')]),
});
export type HealthResponse = Static<typeof HealthResponse>;

/** GET /health/live: 200 while the process serves requests at all (restart it otherwise). */
export const LivenessResponse = Type.Object({ status: Type.Literal('ok') });
export type LivenessResponse = Static<typeof LivenessResponse>;

/**
 * GET /health/ready: 200 `ready` when this instance should get traffic; 503 `not_ready` with
 * the reason while it shuts down or its store (SQLite file, or Redis) cannot be reached.
 */
export const ReadinessResponse = Type.Union([
  Type.Object({ status: Type.Literal('ready') }),
  Type.Object({
    status: Type.Literal('not_ready'),
    reason: Type.Union([Type.Literal('shutting_down'), Type.Literal('store_unavailable')]),
  }),
]);
export type ReadinessResponse = Static<typeof ReadinessResponse>;
