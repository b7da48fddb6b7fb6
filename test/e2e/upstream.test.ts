/** The openai agent wired into Herald, against a fake OpenAI-compatible service on loopback. */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/observability/logger.js';
import { type FakeMode, type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';

let fake: FakeOpenAI;
let server: TestServer;
let logs: string[];

// Registered before the harness, so it runs after it: the fake closes after the client and server.
afterEach(async () => {
  await fake.close();
});
const h = useHarness();

beforeEach(async () => {
  fake = await startFakeOpenAI();
  logs = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  server = await h.start(
    {
      HERALD_AGENT: 'openai',
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'sk-test-upstream-key-0000000000',
      HERALD_MODEL: 'fake-model',
      HERALD_MODEL_TIMEOUT_MS: '300',
    },
    { logger: { ...loggerOptions('debug'), stream } },
  );
});

const FAILURES: FakeMode[] = ['http500', 'hang', 'cut'];

describe('openai agent through /api/chat', () => {
  it('streams the model reply and sends the session history as context', async () => {
    const first = await server.request('POST', '/api/chat', { body: { message: 'first question' } });
    expect(first.status).toBe(200);
    expect(first.body.response).toBe('You said: first question');
    const second = await server.request('POST', '/api/chat', {
      body: { message: 'second question', sessionId: first.body.sessionId },
    });
    expect(second.body.response).toBe('You said: second question');
    const sent = fake.requests[1]!.body as {
      model: string;
      messages: Array<{ role: string; content: string }>;
    };
    expect(sent.model).toBe('fake-model');
    const turns = sent.messages.filter((m) => m.role !== 'system');
    expect(turns).toEqual([
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'You said: first question' },
      { role: 'user', content: 'second question' },
    ]);
  });

  for (const mode of FAILURES) {
    it(`answers upstream_failed (502) on ${mode}, and the session works for the next message`, async () => {
      const ok = await server.request('POST', '/api/chat', { body: { message: 'hello' } });
      fake.setMode(mode, { once: true });
      const failed = await server.request('POST', '/api/chat', {
        body: { message: 'this one fails', sessionId: ok.body.sessionId },
      });
      expect(failed.status).toBe(502);
      expect(failed.body).toMatchObject({ success: false, code: 'upstream_failed' });
      expect(JSON.stringify(failed.body)).not.toContain('sk-test-upstream-key');
      // Nor do the logs carry what the upstream echoed: the prompt or the key.
      expect(logs.join('')).not.toContain('sk-test-upstream-key');
      expect(logs.join('')).not.toContain('this one fails');
      const next = await server.request('POST', '/api/chat', {
        body: { message: 'and now?', sessionId: ok.body.sessionId },
      });
      expect(next.status).toBe(200);
      expect(next.body.response).toBe('You said: and now?');
      // The error agent message tells the user what happened (exactly-once, so it is piggybacked).
      const errors = next.body.agent_messages.filter((m: { agentType: string }) => m.agentType === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0].content).toContain('model service failed');
    });
  }
});

describe('openai agent through /ws/chat', () => {
  for (const mode of FAILURES) {
    it(`sends an upstream_failed error frame on ${mode} and the socket stays usable`, async () => {
      const { client } = await h.connect(server.wsUrl);
      fake.setMode(mode, { once: true });
      client.send({ type: 'chat', id: 'm_fail', message: 'fail please' });
      const error = await client.next((f) => f.type === 'error');
      expect(error).toMatchObject({ code: 'upstream_failed', replyTo: 'm_fail' });
      const agentError = await client.next(
        (f) => f.type === 'agent_message' && f.message.agentType === 'error',
      );
      expect(agentError.message.correlationId).toBe('m_fail');
      client.send({ type: 'chat', id: 'm_next', message: 'next' });
      // Waiting for it is the check: the wait fails, naming the frames seen, if it never comes.
      await client.next((f) => f.type === 'complete' && f.replyTo === 'm_next');
      const reply = client.frames
        .filter((f) => f.type === 'chunk' && f.replyTo === 'm_next')
        .map((f) => f.content)
        .join('');
      expect(reply).toBe('You said: next');
      expect(client.closeCode).toBeUndefined();
    });
  }
});

describe('AI SDK regenerate', () => {
  it('answers the last user message again without a second copy of it, and the model sees the turn once', async () => {
    const { DefaultChatTransport, readUIMessageStream } = await import('ai');
    const transport = new DefaultChatTransport({ api: `${server.url}/api/chat/stream` });
    const user = (id: string, text: string) => ({
      id,
      role: 'user' as const,
      parts: [{ type: 'text' as const, text }],
    });
    const turn = async (
      messages: ReturnType<typeof user>[],
      trigger: 'submit-message' | 'regenerate-message',
    ) => {
      const stream = await transport.sendMessages({
        chatId: 'chat-regen',
        messages,
        trigger,
        messageId: undefined,
        abortSignal: undefined,
      });
      let last: any;
      for await (const m of readUIMessageStream({ stream })) last = m;
      return last;
    };
    await turn([user('u1', 'first')], 'submit-message');
    const second = await turn([user('u1', 'first'), user('u2', 'second')], 'submit-message');
    fake.setReply('a better answer');
    await turn([user('u1', 'first'), user('u2', 'second')], 'regenerate-message');
    fake.setReply((body: any) => `You said: ${body.messages.at(-1).content}`);
    await turn([user('u1', 'first'), user('u2', 'second'), user('u3', 'third')], 'submit-message');

    const turns = (i: number) =>
      (fake.requests[i]!.body as { messages: Array<{ role: string; content: string }> }).messages.filter(
        (m) => m.role !== 'system',
      );
    // The regenerate: the conversation up to the message, not the reply being replaced.
    expect(turns(2)).toEqual([
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'You said: first' },
      { role: 'user', content: 'second' },
    ]);
    // The next turn sees the regenerated reply only.
    expect(turns(3)).toEqual([
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'You said: first' },
      { role: 'user', content: 'second' },
      { role: 'assistant', content: 'a better answer' },
      { role: 'user', content: 'third' },
    ]);
    const sessionId = second.metadata.sessionId;
    const timeline = await server.request('GET', `/api/sessions/${sessionId}/messages`);
    const users = timeline.body.messages.filter((m: { kind: string }) => m.kind === 'user');
    expect(users.map((m: { id: string }) => m.id)).toEqual(['u1', 'u2', 'u3']);
  });
});
