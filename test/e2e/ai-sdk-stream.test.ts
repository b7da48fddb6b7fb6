/** POST /api/chat/stream read by the real `ai` package (DefaultChatTransport, readUIMessageStream). */
import {
  DefaultChatTransport,
  parseJsonEventStream,
  readUIMessageStream,
  type UIMessage,
  uiMessageChunkSchema,
} from 'ai';
import { describe, expect, it } from 'vitest';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';

const h = useHarness();

function transport(s: TestServer, body: Record<string, unknown> = {}) {
  return new DefaultChatTransport({
    api: `${s.url}/api/chat/stream`,
    headers: { authorization: `Bearer ${KEYS.alice}` },
    body,
  });
}

const userMessage = (id: string, text: string): UIMessage => ({
  id,
  role: 'user',
  parts: [{ type: 'text', text }],
});

async function lastMessage(stream: ReadableStream<any>): Promise<UIMessage> {
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream })) last = message;
  if (!last) throw new Error('no message');
  return last;
}

describe('AI SDK UI message stream', () => {
  it('streams the reply with the sanitization summary as a data part before the text', async () => {
    const server = await h.start(AUTH_ENV);
    const stream = await transport(server).sendMessages({
      chatId: 'chat-1',
      messages: [userMessage('u1', 'Hi, I am sam@example.com')],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: undefined,
    });
    const message = await lastMessage(stream);
    const sessionId = (message.metadata as { sessionId: string }).sessionId;
    expect(sessionId).toMatch(/^sess_/);
    const kinds = message.parts.map((p) => p.type);
    const dataAt = kinds.indexOf('data-agent-message');
    const textAt = kinds.indexOf('text');
    expect(dataAt).toBeGreaterThan(-1);
    expect(dataAt).toBeLessThan(textAt);
    const data = message.parts[dataAt] as {
      id: string;
      data: { id: string; agentType: string; correlationId: string };
    };
    expect(data.id).toBe(data.data.id);
    expect(data.data).toMatchObject({ agentType: 'sanitization', correlationId: 'u1' });
    const text = message.parts.find((p) => p.type === 'text') as { text: string };
    expect(text.text).not.toContain('sam@example.com');
    expect(text.text.length).toBeGreaterThan(0);

    // The same chat id keeps the same session without the client sending it.
    const again = await lastMessage(
      await transport(server).sendMessages({
        chatId: 'chat-1',
        messages: [userMessage('u1', 'Hi'), userMessage('u2', 'more')],
        trigger: 'submit-message',
        messageId: undefined,
        abortSignal: undefined,
      }),
    );
    expect((again.metadata as { sessionId: string }).sessionId).toBe(sessionId);
    // The unacked summary is pending, so it comes again (same id: the client replaces it).
    const repeated = again.parts.filter((p) => p.type === 'data-agent-message') as Array<{ id: string }>;
    expect(repeated.map((p) => p.id)).toContain(data.id);

    // Acked through the body, it is not sent again.
    const third = await lastMessage(
      await transport(server, { ack: [data.id] }).sendMessages({
        chatId: 'chat-1',
        messages: [userMessage('u3', 'thanks')],
        trigger: 'submit-message',
        messageId: undefined,
        abortSignal: undefined,
      }),
    );
    expect(third.parts.filter((p) => p.type === 'data-agent-message')).toEqual([]);
  });

  it('answers with the v1 protocol headers and well-formed parts ending in [DONE]', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await fetch(`${server.url}/api/chat/stream`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'plain hello', id: 'm_1' }),
    });
    expect(res.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const raw = await res.clone().text();
    expect(raw.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const parts: Array<{ type: string }> = [];
    const reader = parseJsonEventStream({ stream: res.body!, schema: uiMessageChunkSchema }).getReader();
    for (;;) {
      const { done, value: result } = await reader.read();
      if (done) break;
      expect(result.success).toBe(true);
      if (result.success) parts.push(result.value as { type: string });
    }
    const types = parts.map((p) => p.type);
    expect(types[0]).toBe('start');
    expect(types).toContain('text-delta');
    expect(types.at(-1)).toBe('finish');
  });

  it('tells useChat({ resume: true }) that there is no stream to resume when no reply is in flight', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await fetch(`${server.url}/api/chat/stream/chat-1/stream`, {
      headers: { authorization: `Bearer ${KEYS.alice}` },
    });
    expect(res.status).toBe(204);
  });

  it('answers errors before the stream starts with an HTTP status and JSON body', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_MAX_MESSAGE_CHARS: '5' });
    const big = await server.request('POST', '/api/chat/stream', {
      token: KEYS.alice,
      body: { message: 'too long' },
    });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('too_large');
    const bad = await server.request('POST', '/api/chat/stream', {
      token: KEYS.alice,
      body: { messages: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid_request', fields: ['messages'] });
    // Wrong types inside the AI SDK body are named, not read as an empty message.
    const ui = (parts: unknown, id: unknown = 'u1', trigger = 'submit-message') => ({
      id: 'chat-x',
      trigger,
      messages: [{ id, role: 'user', parts }],
    });
    const cases: Array<[unknown, string]> = [
      [ui([{ type: 'text', text: 5 }]), 'messages.parts.text'],
      [ui([{ type: 'text', text: 'hi' }], 7), 'messages.id'],
      [ui([{ type: 'text', text: 'hi' }], 'u1', 'bogus'), 'trigger'],
    ];
    for (const [body, field] of cases) {
      const res = await server.request('POST', '/api/chat/stream', { token: KEYS.alice, body });
      expect(res.status, field).toBe(400);
      expect(res.body.fields, field).toEqual([field]);
    }
    expect(await server.app.herald.store.listSessionIds('alice')).toEqual([]);
  });
});
