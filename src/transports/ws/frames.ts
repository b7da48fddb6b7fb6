/**
 * WebSocket frames (docs/protocol.md, section 5) as discriminated unions, and the parser of client
 * frames. Parsing never throws anything but a HeraldError naming what is wrong, so a bad
 * frame gets an error frame and the connection stays open.
 */
import { HeraldError, invalidRequest } from '../../errors/catalogue.js';
import { isPlainObject } from '../../json-guards.js';

export type ClientFrame =
  | { type: 'chat'; id?: string; message: string; context?: Record<string, unknown> }
  | { type: 'ack'; ids: string[] }
  | { type: 'resume'; after: number }
  | { type: 'ping' };

export type ServerFrame =
  | { type: 'ready'; sessionId: string; protocol: 1 }
  | { type: 'typing'; status: boolean }
  | { type: 'chunk'; content: string; replyTo: string }
  | { type: 'complete'; replyTo: string }
  | { type: 'error'; error: string; code: string; fields?: string[]; retryAfter?: number; replyTo?: string }
  | { type: 'pong' };

export function parseClientFrame(text: string): ClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HeraldError('bad_json', 'The frame is not valid JSON.');
  }
  if (!isPlainObject(value)) throw invalidRequest('frame', 'must be a JSON object');
  // The older protocol: a chat message without `type`.
  const type = value.type ?? ('message' in value ? 'chat' : undefined);
  switch (type) {
    case 'chat': {
      // Errors about a chat frame name its id (when it has a usable one) as replyTo.
      const replyTo =
        typeof value.id === 'string' && value.id.length >= 1 && value.id.length <= 128 ? value.id : undefined;
      const bad = (field: string, why: string) =>
        new HeraldError('invalid_request', `${field}: ${why}`, { fields: [field], replyTo });
      if (typeof value.message !== 'string') throw bad('message', 'must be a string');
      if (value.id !== undefined && replyTo === undefined)
        throw bad('id', 'must be a string of 1 to 128 characters');
      if (value.context !== undefined && !isPlainObject(value.context))
        throw bad('context', 'must be an object');
      return {
        type: 'chat',
        message: value.message,
        ...(replyTo !== undefined && { id: replyTo }),
        ...(value.context !== undefined && { context: value.context as Record<string, unknown> }),
      };
    }
    case 'ack':
      if (
        !Array.isArray(value.ids) ||
        value.ids.length > 1000 ||
        !value.ids.every((id) => typeof id === 'string' && id.length <= 64)
      )
        throw invalidRequest('ids', 'must be an array of at most 1000 agent message ids');
      return { type: 'ack', ids: value.ids as string[] };
    case 'resume':
      if (typeof value.after !== 'number' || !Number.isInteger(value.after) || value.after < 0)
        throw invalidRequest('after', 'must be an integer >= 0');
      return { type: 'resume', after: value.after };
    case 'ping':
      return { type: 'ping' };
    default:
      throw invalidRequest('type', 'must be one of chat, ack, resume, ping');
  }
}

export const frame = (f: ServerFrame): string => JSON.stringify(f);

/** The agent_message frame, built around the message JSON made once per message. */
export const agentMessageFrame = (json: string, attempt: number): string =>
  `{"type":"agent_message","message":${json},"attempt":${attempt}}`;

/**
 * The agent_message frame as bytes to hand to ws. The router sends a new message to every
 * channel of its session one after the other with the same message object, so the first
 * sends (attempt 1) share one encoded frame: one string built and one UTF-8 encoding per
 * message, not per socket. One slot is enough for that and keeps nothing alive once the next
 * message comes (a WeakMap would keep each frame as long as the router tracks its message).
 * Redeliveries (attempt > 1) are per socket and rare: built on their own.
 */
export function agentMessageBytes(message: object, json: string, attempt: number): Buffer {
  if (attempt !== 1) return Buffer.from(agentMessageFrame(json, attempt));
  if (lastMessage !== message || lastJson !== json) {
    lastBytes = Buffer.from(agentMessageFrame(json, 1));
    lastMessage = message;
    lastJson = json;
  }
  return lastBytes;
}
let lastMessage: object | undefined;
let lastJson = '';
let lastBytes = Buffer.alloc(0);
