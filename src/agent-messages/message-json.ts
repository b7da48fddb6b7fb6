/**
 * Each agent message is serialized once. The store already makes its JSON text when it
 * admits or reads a message, and every channel, frame and HTTP answer that carries the message
 * splices that same text instead of calling JSON.stringify again (a fan-out to many sockets,
 * a piggybacked list). Messages are immutable once admitted, so the text never goes stale; a
 * WeakMap lets it go with the message.
 */
import type { AgentMessage } from './types.js';

const texts = new WeakMap<AgentMessage, string>();

/** `JSON.stringify(message)`, made at most once per message object. */
export function messageJson(message: AgentMessage): string {
  let json = texts.get(message);
  if (json === undefined) {
    json = JSON.stringify(message);
    texts.set(message, json);
  }
  return json;
}

/** Records the text a store made (or read) for `message`; it must be `JSON.stringify(message)`. */
export function rememberJson(message: AgentMessage, json: string): AgentMessage {
  texts.set(message, json);
  return message;
}

/** `JSON.stringify(messages)`, from each message's one text. */
export const messagesJson = (messages: readonly AgentMessage[]): string =>
  `[${messages.map(messageJson).join(',')}]`;

/**
 * `JSON.stringify({ ...body, [key]: messages })` for a non-empty `body`, splicing each
 * message's one text rather than serializing the messages again.
 */
export function jsonWithMessages(
  body: Record<string, unknown>,
  key: string,
  messages: readonly AgentMessage[],
): string {
  const head = JSON.stringify(body);
  return `${head.slice(0, -1)},${JSON.stringify(key)}:${messagesJson(messages)}}`;
}
