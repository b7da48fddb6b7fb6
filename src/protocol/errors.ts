/** Error codes and the error body and frame (docs/protocol.md, section 8). */
import { type Static, Type } from '@sinclair/typebox';

export const ERROR_CODES = [
  'bad_json',
  'invalid_request',
  'invalid_agent_message',
  'too_large',
  'unauthorized',
  'forbidden',
  'session_not_found',
  'not_found',
  'rate_limited',
  'unavailable',
  'upstream_failed',
  'internal',
] as const;

export const ErrorCode = Type.Union(ERROR_CODES.map((c) => Type.Literal(c)));
export type ErrorCode = Static<typeof ErrorCode>;

/** Every HTTP error. `/api/chat` adds `sessionId` and `agent_messages` once a session exists. */
export const ErrorBody = Type.Object({
  success: Type.Literal(false),
  error: Type.String(),
  code: ErrorCode,
  /** The fields at fault (invalid_request, invalid_agent_message). */
  fields: Type.Optional(Type.Array(Type.String())),
  /** Seconds until a retry may succeed (rate_limited, unavailable). */
  retryAfter: Type.Optional(Type.Integer()),
});
export type ErrorBody = Static<typeof ErrorBody>;
