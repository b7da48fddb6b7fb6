/** WebSocket frames of GET /ws/chat in both directions (docs/protocol.md, section 5). */
import { type Static, Type } from '@sinclair/typebox';
import { AckIds, AgentMessage } from './agent-message.js';
import { ErrorCode } from './errors.js';
import { MESSAGE_ID_MAX_CHARS, PROTOCOL_VERSION, SEQ_QUERY_PATTERN } from './limits.js';

/** A user message id: the client's own, or `m_…` made by the server. */
export const MessageId = Type.String({ minLength: 1, maxLength: MESSAGE_ID_MAX_CHARS });
/** The client's own bookkeeping; never sent to the model. */
export const Context = Type.Unsafe<Record<string, unknown>>(Type.Object({}, { additionalProperties: true }));

// Client → server. The property order is the order in which bad fields are reported.

export const ChatFrame = Type.Object({
  type: Type.Literal('chat'),
  message: Type.String(),
  id: Type.Optional(MessageId),
  context: Type.Optional(Context),
  /** With `id`: the reply goes on when the socket closes and a `resume_reply` gets the rest. */
  resumable: Type.Optional(Type.Boolean()),
});
export type ChatFrame = Static<typeof ChatFrame>;

/** The older form of a chat frame: no `type`. */
export const LegacyChatFrame = Type.Object({
  message: Type.String(),
  id: Type.Optional(MessageId),
  context: Type.Optional(Context),
});

export const AckFrame = Type.Object({ type: Type.Literal('ack'), ids: AckIds });
export type AckFrame = Static<typeof AckFrame>;

export const ResumeFrame = Type.Object({ type: Type.Literal('resume'), after: Type.Integer({ minimum: 0 }) });
export type ResumeFrame = Static<typeof ResumeFrame>;

export const PingFrame = Type.Object({ type: Type.Literal('ping') });
export type PingFrame = Static<typeof PingFrame>;

/** The rest of a resumable reply, from `offset` (UTF-16 code units of its text already had). */
export const ResumeReplyFrame = Type.Object({
  type: Type.Literal('resume_reply'),
  replyTo: MessageId,
  offset: Type.Integer({ minimum: 0 }),
});
export type ResumeReplyFrame = Static<typeof ResumeReplyFrame>;

/** Stops the reply to `replyTo` (the model is cancelled; the partial reply is recorded). */
export const StopFrame = Type.Object({ type: Type.Literal('stop'), replyTo: MessageId });
export type StopFrame = Static<typeof StopFrame>;

export const ClientFrame = Type.Union([
  ChatFrame,
  AckFrame,
  ResumeFrame,
  PingFrame,
  ResumeReplyFrame,
  StopFrame,
]);
export type ClientFrame = Static<typeof ClientFrame>;

/** What a client may send: the frames above, or a chat in the older form. */
export const ClientFrameOnWire = Type.Union([ClientFrame, LegacyChatFrame]);

/**
 * GET /ws/chat's query, checked by the socket itself (its faults are frames, not HTTP answers):
 * a `sessionId` Herald could not have made is session_not_found, a bad `after` is told in an
 * error frame after `ready` and the replay starts from 0.
 */
export const WsQuery = Type.Object({
  sessionId: Type.Optional(Type.String()),
  after: Type.Optional(Type.String({ pattern: SEQ_QUERY_PATTERN })),
  ticket: Type.Optional(Type.String()),
});
export type WsQuery = Static<typeof WsQuery>;

// Server → client.

export const ReadyFrame = Type.Object({
  type: Type.Literal('ready'),
  sessionId: Type.String(),
  protocol: Type.Literal(PROTOCOL_VERSION),
});
export type ReadyFrame = Static<typeof ReadyFrame>;

export const AgentMessageFrame = Type.Object({
  type: Type.Literal('agent_message'),
  message: AgentMessage,
  /** Sends of this message on this connection. */
  attempt: Type.Integer({ minimum: 1 }),
});
export type AgentMessageFrame = Static<typeof AgentMessageFrame>;

export const TypingFrame = Type.Object({ type: Type.Literal('typing'), status: Type.Boolean() });
export type TypingFrame = Static<typeof TypingFrame>;

export const ChunkFrame = Type.Object({
  type: Type.Literal('chunk'),
  content: Type.String(),
  replyTo: Type.String(),
});
export type ChunkFrame = Static<typeof ChunkFrame>;

export const CompleteFrame = Type.Object({ type: Type.Literal('complete'), replyTo: Type.String() });
export type CompleteFrame = Static<typeof CompleteFrame>;

export const ErrorFrame = Type.Object({
  type: Type.Literal('error'),
  error: Type.String(),
  code: ErrorCode,
  fields: Type.Optional(Type.Array(Type.String())),
  retryAfter: Type.Optional(Type.Integer()),
  /** The chat message id the error answers. */
  replyTo: Type.Optional(Type.String()),
});
export type ErrorFrame = Static<typeof ErrorFrame>;

export const PongFrame = Type.Object({ type: Type.Literal('pong') });
export type PongFrame = Static<typeof PongFrame>;

export const ServerFrame = Type.Union([
  ReadyFrame,
  AgentMessageFrame,
  TypingFrame,
  ChunkFrame,
  CompleteFrame,
  ErrorFrame,
  PongFrame,
]);
export type ServerFrame = Static<typeof ServerFrame>;
