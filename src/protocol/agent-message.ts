/** The agent message (docs/protocol.md, section 3) and what a producer publishes, as TypeBox schemas. */
import { type Static, Type } from '@sinclair/typebox';
import {
  ACK_MAX_IDS,
  AGENT_MESSAGE_ID_MAX_CHARS,
  CONTENT_MAX_CHARS,
  CORRELATION_ID_MAX_CHARS,
  IDEMPOTENCY_KEY_MAX_CHARS,
  SESSION_ID_MAX_CHARS,
  SOURCE_PATTERN,
  TTL_MAX_MS,
  TTL_MIN_MS,
} from './limits.js';

export const AGENT_TYPES = ['sanitization', 'security', 'status', 'error'] as const;
export const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export const GUARANTEES = ['best-effort', 'at-least-once', 'exactly-once'] as const;

export const AgentType = Type.Union(AGENT_TYPES.map((t) => Type.Literal(t)));
export type AgentType = Static<typeof AgentType>;
export const Priority = Type.Union(PRIORITIES.map((p) => Type.Literal(p)));
export type Priority = Static<typeof Priority>;
export const DeliveryGuarantee = Type.Union(GUARANTEES.map((g) => Type.Literal(g)));
export type DeliveryGuarantee = Static<typeof DeliveryGuarantee>;

/** A session id as a client may send it; anything Herald could not have made is session_not_found. */
export const SessionId = Type.String({ minLength: 1, maxLength: SESSION_ID_MAX_CHARS });
/** One agent message id in an ack. */
export const AgentMessageId = Type.String({ maxLength: AGENT_MESSAGE_ID_MAX_CHARS });
/** The ids of one ack. */
export const AckIds = Type.Array(AgentMessageId, { maxItems: ACK_MAX_IDS });

export const Ttl = Type.Integer({ minimum: TTL_MIN_MS, maximum: TTL_MAX_MS });
export const Source = Type.String({ pattern: SOURCE_PATTERN });
export const CorrelationId = Type.String({ minLength: 1, maxLength: CORRELATION_ID_MAX_CHARS });
export const IdempotencyKey = Type.String({ minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX_CHARS });
/**
 * Any JSON object (its size and depth are checked after scrubbing). Written as an open object
 * rather than a Record so that the compiled check looks at the value, not at every key.
 */
export const Data = Type.Unsafe<Record<string, unknown>>(Type.Object({}, { additionalProperties: true }));
/** Content as delivered: control characters removed, PII and secrets replaced. */
export const Content = Type.String({ minLength: 1, maxLength: CONTENT_MAX_CHARS });

/** The agent message as stored and sent. */
export const AgentMessage = Type.Object({
  id: Type.String(),
  role: Type.Literal('assistant'),
  content: Type.String(),
  timestamp: Type.String(),
  agentType: AgentType,
  priority: Priority,
  ttl: Type.Integer(),
  expiresAt: Type.String(),
  deliveryGuarantee: DeliveryGuarantee,
  source: Type.String(),
  sessionId: Type.String(),
  seq: Type.Integer(),
  correlationId: Type.Optional(Type.String()),
  data: Type.Optional(Data),
});
export type AgentMessage = Static<typeof AgentMessage>;

/**
 * What a producer gives: the router fills in id, timestamps, seq and the type's defaults. The
 * property order is the order in which bad fields are reported.
 */
export const AgentMessageInput = Type.Object({
  agentType: AgentType,
  content: Content,
  source: Source,
  priority: Type.Optional(Priority),
  ttl: Type.Optional(Ttl),
  deliveryGuarantee: Type.Optional(DeliveryGuarantee),
  correlationId: Type.Optional(CorrelationId),
  idempotencyKey: Type.Optional(IdempotencyKey),
  data: Type.Optional(Data),
});
export type AgentMessageInput = Static<typeof AgentMessageInput>;

/** Where a publish goes: exactly one session, or every session of one user. */
export const PublishTarget = Type.Union([
  Type.Object({ sessionId: SessionId }, { additionalProperties: false }),
  Type.Object({ userId: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);
export type PublishTarget = Static<typeof PublishTarget>;

/** POST /api/agent-messages. */
export const PublishBody = Type.Composite([Type.Object({ target: PublishTarget }), AgentMessageInput]);
export type PublishBody = Static<typeof PublishBody>;

/** What one published message became. */
export const PublishedMessage = Type.Object({
  sessionId: Type.String(),
  id: Type.String(),
  seq: Type.Integer(),
});

/** 202 from POST /api/agent-messages. */
export const PublishResponse = Type.Object({
  id: Type.Union([Type.String(), Type.Null()]),
  seq: Type.Union([Type.Integer(), Type.Null()]),
  /** The sessions the message is in, in the order of `messages` (at most PUBLISH_ANSWER_LIST_MAX). */
  sessionIds: Type.Array(Type.String()),
  /** What the message became in each session (at most PUBLISH_ANSWER_LIST_MAX: the first ones). */
  messages: Type.Array(PublishedMessage),
  /** User targets only: how many sessions the message is in; more than `messages` lists when over the cap. */
  count: Type.Optional(Type.Integer({ minimum: 0 })),
  /** User targets only: the sessions whose rate limit refused the message (the first ones). */
  rateLimited: Type.Optional(Type.Array(Type.String())),
  /** User targets only: how many sessions' rate limit refused the message. */
  rateLimitedCount: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type PublishResponse = Static<typeof PublishResponse>;
