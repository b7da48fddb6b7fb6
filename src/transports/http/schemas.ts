/** TypeBox schemas of the HTTP bodies and queries (docs/protocol.md, section 6), used for validation and types. */
import { type Static, Type } from '@sinclair/typebox';

export const MessageId = Type.String({ minLength: 1, maxLength: 128 });
// Generous: an id Herald could not have made answers session_not_found, like any unknown one.
export const SessionId = Type.String({ minLength: 1, maxLength: 256 });
export const AckIds = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 });
/** Query numbers arrive as strings: checked by pattern, parsed by the route. */
export const SeqQuery = Type.String({ pattern: '^[0-9]{1,15}$' });

export const ChatBody = Type.Object({
  message: Type.String(),
  context: Type.Optional(Type.Object({}, { additionalProperties: true })),
  sessionId: Type.Optional(SessionId),
  id: Type.Optional(MessageId),
  ack: Type.Optional(AckIds),
});
export type ChatBody = Static<typeof ChatBody>;

export const SessionParams = Type.Object({ id: SessionId });

export const ListQuery = Type.Object({
  sessionId: SessionId,
  after: Type.Optional(SeqQuery),
  limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
});

export const StreamQuery = Type.Object({
  sessionId: SessionId,
  after: Type.Optional(SeqQuery),
});

export const AckBody = Type.Object({ sessionId: SessionId, ids: AckIds });
export type AckBody = Static<typeof AckBody>;

export const DeadLetterQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
});
