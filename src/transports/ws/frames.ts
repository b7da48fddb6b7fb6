/**
 * WebSocket frames (docs/protocol.md, section 5): the parser of client frames, which checks
 * them with the protocol's schemas (src/protocol/frames.ts, compiled once), and the writers of
 * server frames. Parsing never throws anything but a HeraldError naming what is wrong, so a bad
 * frame gets an error frame and the connection stays open.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { HeraldError, invalidRequest } from '../../errors/catalogue.js';
import { isPlainObject } from '../../json-guards.js';
import {
  AckFrame,
  ChatFrame,
  type ClientFrame,
  LegacyChatFrame,
  ResumeFrame,
  ResumeReplyFrame,
  type ServerFrame,
} from '../../protocol/frames.js';
import { ACK_MAX_IDS, MESSAGE_ID_MAX_CHARS } from '../../protocol/limits.js';

export type { ClientFrame, ServerFrame };

// The protocol's frame schemas, compiled once. A frame is told apart by its `type` first, so
// a fault is named by the one field of that frame that is wrong.
const chatFields = LegacyChatFrame.properties;
const isMessage = TypeCompiler.Compile(chatFields.message);
const isMessageId = TypeCompiler.Compile(chatFields.id);
const isContext = TypeCompiler.Compile(chatFields.context);
const isAckIds = TypeCompiler.Compile(AckFrame.properties.ids);
const isAfter = TypeCompiler.Compile(ResumeFrame.properties.after);
const isReplyTo = TypeCompiler.Compile(ResumeReplyFrame.properties.replyTo);
const isOffset = TypeCompiler.Compile(ResumeReplyFrame.properties.offset);
const CHAT_TYPE = ChatFrame.properties.type.const;

export function parseClientFrame(text: string): ClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HeraldError('bad_json', 'The frame is not valid JSON.');
  }
  if (!isPlainObject(value)) throw invalidRequest('frame', 'must be a JSON object');
  // The older protocol: a chat message without `type`.
  const type = value.type ?? ('message' in value ? CHAT_TYPE : undefined);
  switch (type) {
    case 'chat': {
      // Errors about a chat frame name its id (when it has a usable one) as replyTo.
      const replyTo = isMessageId.Check(value.id) ? (value.id as string) : undefined;
      const bad = (field: string, why: string) =>
        new HeraldError('invalid_request', `${field}: ${why}`, { fields: [field], replyTo });
      if (!isMessage.Check(value.message)) throw bad('message', 'must be a string');
      if (value.id !== undefined && replyTo === undefined)
        throw bad('id', `must be a string of 1 to ${MESSAGE_ID_MAX_CHARS} characters`);
      if (value.context !== undefined && !isContext.Check(value.context))
        throw bad('context', 'must be an object');
      if (value.resumable !== undefined && typeof value.resumable !== 'boolean')
        throw bad('resumable', 'must be true or false');
      return {
        type: 'chat',
        message: value.message as string,
        ...(replyTo !== undefined && { id: replyTo }),
        ...(value.context !== undefined && { context: value.context as Record<string, unknown> }),
        ...(value.resumable === true && { resumable: true }),
      };
    }
    case 'ack':
      if (!isAckIds.Check(value.ids))
        throw invalidRequest('ids', `must be an array of at most ${ACK_MAX_IDS} agent message ids`);
      return { type: 'ack', ids: value.ids as string[] };
    case 'resume':
      if (!isAfter.Check(value.after)) throw invalidRequest('after', 'must be an integer >= 0');
      return { type: 'resume', after: value.after as number };
    case 'ping':
      return { type: 'ping' };
    case 'resume_reply':
    case 'stop': {
      if (!isReplyTo.Check(value.replyTo))
        throw invalidRequest('replyTo', `must be a string of 1 to ${MESSAGE_ID_MAX_CHARS} characters`);
      const replyTo = value.replyTo as string;
      if (type === 'stop') return { type: 'stop', replyTo };
      if (!isOffset.Check(value.offset))
        throw new HeraldError('invalid_request', 'offset: must be an integer >= 0', {
          fields: ['offset'],
          replyTo,
        });
      return { type: 'resume_reply', replyTo, offset: value.offset as number };
    }
    default:
      throw invalidRequest('type', 'must be one of chat, ack, resume, ping, resume_reply, stop');
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
