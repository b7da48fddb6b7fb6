/**
 * The AI SDK side of the resumable-reply tests: the real `ai` package's transport on Herald's
 * chat stream (as alice), a user message in its UI shape, and the text of a UI message.
 */
import { DefaultChatTransport, type UIMessage } from 'ai';
import { KEYS } from './auth.js';
import type { TestServer } from './server.js';

export const transport = (s: TestServer) =>
  new DefaultChatTransport({
    api: `${s.url}/api/chat/stream`,
    headers: { authorization: `Bearer ${KEYS.alice}` },
  });

export const userMessage = (id: string, text: string): UIMessage => ({
  id,
  role: 'user',
  parts: [{ type: 'text', text }],
});

export const textOf = (m: UIMessage | undefined) =>
  (m?.parts ?? [])
    .filter((p) => p.type === 'text')
    .map((p) => (p as { text: string }).text)
    .join('');
