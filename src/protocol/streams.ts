/**
 * What Herald sends over Server-Sent Events (docs/protocol.md, section 6): the `agent_message`
 * events of GET /api/agent-messages/stream and the AI SDK UI message stream parts of
 * POST /api/chat/stream, each the JSON of one `data:` line.
 */
import { type Static, Type } from '@sinclair/typebox';
import { AgentMessage } from './agent-message.js';

/** GET /api/agent-messages/stream: `id: <seq>`, `event: agent_message`, `data: <this>`. */
export const AgentMessageEvent = AgentMessage;

// POST /api/chat/stream (AI SDK UI message stream v1). `data: [DONE]` ends the stream.

export const StartPart = Type.Object({
  type: Type.Literal('start'),
  messageMetadata: Type.Object({ sessionId: Type.String(), messageId: Type.String() }),
});
/** An agent message; the part id is the message id, so the AI SDK replaces a repeat. */
export const AgentMessagePart = Type.Object({
  type: Type.Literal('data-agent-message'),
  id: Type.String(),
  data: AgentMessage,
});
/** The reply's text part: `txt_` + the message id. */
export const TextStartPart = Type.Object({ type: Type.Literal('text-start'), id: Type.String() });
export const TextDeltaPart = Type.Object({
  type: Type.Literal('text-delta'),
  id: Type.String(),
  delta: Type.String(),
});
export const TextEndPart = Type.Object({ type: Type.Literal('text-end'), id: Type.String() });
/** A failure after the message was accepted: `<code>: <message>`, then finish with `error`. */
export const ErrorPart = Type.Object({ type: Type.Literal('error'), errorText: Type.String() });
export const FinishPart = Type.Object({
  type: Type.Literal('finish'),
  finishReason: Type.Union([Type.Literal('stop'), Type.Literal('error')]),
});

export const UiStreamPart = Type.Union([
  StartPart,
  AgentMessagePart,
  TextStartPart,
  TextDeltaPart,
  TextEndPart,
  ErrorPart,
  FinishPart,
]);
export type UiStreamPart = Static<typeof UiStreamPart>;
