/**
 * Replies that resume after a cut: useChat({ resume: true })'s GET on the chat's stream, read
 * by the real `ai` package (DefaultChatTransport.reconnectToStream, readUIMessageStream),
 * against a Herald whose model drips its reply one chunk at a time on the test's word.
 */
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import type { ModelAgent } from '../../src/agents/model-agent.js';
import { ResumableStreams } from '../../src/transports/sse/resumable-streams.js';
import type { SseWriter } from '../../src/transports/sse/sse-writer.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';

const h = useHarness();

const CHUNKS = ['One, ', 'two, ', 'three, ', 'four, ', 'five, ', 'six.'];

/** A model that yields the next chunk each time the test calls `release()`; it stops when aborted. */
function dripAgent(chunks: string[]) {
  let permits = 0;
  let wake: (() => void) | undefined;
  const agent: ModelAgent = {
    name: 'drip',
    async *reply(request) {
      for (const chunk of chunks) {
        while (permits === 0) {
          if (request.signal.aborted) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
            request.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        }
        permits--;
        yield chunk;
      }
    },
  };
  return {
    agent,
    release(n = 1) {
      permits += n;
      wake?.();
      wake = undefined;
    },
  };
}

const transport = (s: TestServer) =>
  new DefaultChatTransport({
    api: `${s.url}/api/chat/stream`,
    headers: { authorization: `Bearer ${KEYS.alice}` },
  });

const userMessage = (id: string, text: string): UIMessage => ({
  id,
  role: 'user',
  parts: [{ type: 'text', text }],
});

const textOf = (m: UIMessage | undefined) =>
  (m?.parts ?? [])
    .filter((p) => p.type === 'text')
    .map((p) => (p as { text: string }).text)
    .join('');

describe('a reply resumed after a cut (useChat resume)', () => {
  it('gives a client that comes back the whole reply, once, in order', async () => {
    const drip = dripAgent(CHUNKS);
    const server = await h.start(AUTH_ENV, { agent: drip.agent });
    const cut = new AbortController();
    const first = await transport(server).sendMessages({
      chatId: 'chat-r',
      messages: [userMessage('u1', 'count to six')],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: cut.signal,
    });
    // Read until the third chunk has arrived, then cut the connection.
    const reader = first.getReader();
    let seen = '';
    drip.release(1);
    for (let deltas = 0; deltas < 3; ) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended early');
      const chunk = value as UIMessageChunk;
      if (chunk.type === 'text-delta') {
        seen += chunk.delta;
        deltas++;
        if (deltas < 3) drip.release(1);
      }
    }
    expect(seen).toBe(CHUNKS.slice(0, 3).join(''));
    cut.abort();
    await reader.cancel().catch(() => {});
    // The model goes on while nobody reads: two more chunks.
    drip.release(2);
    await new Promise((r) => setTimeout(r, 100));

    // The page comes back: useChat({ resume: true }) asks for the chat's active stream.
    const resumed = await transport(server).reconnectToStream({ chatId: 'chat-r' });
    expect(resumed).not.toBeNull();
    drip.release(1);
    let last: UIMessage | undefined;
    for await (const message of readUIMessageStream({ stream: resumed! })) last = message;
    expect(textOf(last)).toBe(CHUNKS.join(''));
    expect((last!.metadata as { sessionId?: string }).sessionId).toMatch(/^sess_/);

    // Finished: nothing to resume any more (204, which the AI SDK reads as no stream).
    expect(await transport(server).reconnectToStream({ chatId: 'chat-r' })).toBeNull();
    // The timeline has the whole reply, not a cut one.
    const sessionId = (last!.metadata as { sessionId: string }).sessionId;
    const timeline = await server.request('GET', `/api/sessions/${sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(timeline.body.messages.find((m: { kind: string }) => m.kind === 'reply')).toEqual(
      expect.objectContaining({ text: CHUNKS.join('') }),
    );
    expect(
      timeline.body.messages.find((m: { kind: string }) => m.kind === 'reply').incomplete,
    ).toBeUndefined();
  });

  it("keeps each user's replies apart: another principal's GET on the same chat id gets 204", async () => {
    const drip = dripAgent(['a', 'b']);
    const server = await h.start(AUTH_ENV, { agent: drip.agent });
    const stream = await transport(server).sendMessages({
      chatId: 'shared-id',
      messages: [userMessage('u1', 'hi')],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: undefined,
    });
    const bob = await fetch(`${server.url}/api/chat/stream/shared-id/stream`, {
      headers: { authorization: `Bearer ${KEYS.bob}` },
    });
    expect(bob.status).toBe(204);
    const alice = await fetch(`${server.url}/api/chat/stream/shared-id/stream`, {
      headers: { authorization: `Bearer ${KEYS.alice}` },
    });
    expect(alice.status).toBe(200);
    drip.release(2);
    const body = await alice.text();
    expect(body).toContain('"delta":"a"');
    expect(body.trim().endsWith('data: [DONE]')).toBe(true);
    for await (const _ of readUIMessageStream({ stream })) {
    }
  });
});

describe('stopping a resumable reply (POST /api/chat/stream/:chatId/stop)', () => {
  it('cancels the model, ends the stream for its readers and records the partial reply', async () => {
    const drip = dripAgent(CHUNKS);
    const server = await h.start(AUTH_ENV, { agent: drip.agent });
    const stream = await transport(server).sendMessages({
      chatId: 'chat-stop',
      messages: [userMessage('u1', 'count')],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: undefined,
    });
    const reader = stream.getReader();
    drip.release(1);
    const chunks: UIMessageChunk[] = [];
    while (!chunks.some((c) => c.type === 'text-delta')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('ended early');
      chunks.push(value as UIMessageChunk);
    }
    const stop = (who: string) =>
      fetch(`${server.url}/api/chat/stream/chat-stop/stop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${who}` },
      });
    expect((await stop(KEYS.bob)).status).toBe(404);
    expect((await stop(KEYS.alice)).status).toBe(204);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value as UIMessageChunk);
    }
    expect(chunks.at(-1)?.type).toBe('finish');
    // Nothing left to resume or stop.
    expect(await transport(server).reconnectToStream({ chatId: 'chat-stop' })).toBeNull();
    expect((await stop(KEYS.alice)).status).toBe(404);
    const sessionId = (chunks[0] as { messageMetadata?: { sessionId: string } }).messageMetadata!.sessionId;
    const timeline = await server.request('GET', `/api/sessions/${sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(timeline.body.messages.find((m: { kind: string }) => m.kind === 'reply')).toMatchObject({
      text: CHUNKS[0],
      incomplete: true,
    });
  });
});

/** A stand-in for SseWriter that records what it got. */
function fakeReader() {
  const got: string[] = [];
  let onClose: (() => void) | undefined;
  const reader = {
    closed: false,
    write: (t: string) => got.push(t) > 0,
    end() {
      this.closed = true;
    },
    onClose: (fn: () => void) => {
      onClose = fn;
    },
  };
  return { reader: reader as unknown as SseWriter, got, close: () => onClose?.() };
}

describe('ResumableStreams bounds', () => {
  it('aborts a reply nobody reads for the keep time, and one too large to keep as soon as its reader goes', async () => {
    const streams = new ResumableStreams({ keepMs: 30, maxStreamBytes: 20, maxStreams: 1 });
    let abandoned = 0;
    const s = streams.start('k', () => abandoned++)!;
    const a = fakeReader();
    s.attach(a.reader);
    s.write('data: 1\n\n');
    a.close();
    // A reader back within the keep time stops the clock and gets everything so far.
    const b = fakeReader();
    expect(streams.get('k')).toBe(s);
    s.attach(b.reader);
    expect(b.got).toEqual(['data: 1\n\n']);
    b.close();
    await new Promise((r) => setTimeout(r, 80));
    expect(abandoned).toBe(1);
    // The limit on streams: a second one is not kept.
    expect(streams.start('other', () => {})).toBeUndefined();
    s.end('data: [DONE]\n\n');
    expect(streams.get('k')).toBeUndefined();
    expect(streams.size).toBe(0);

    // Past maxStreamBytes it is no longer resumable; its last reader leaving aborts it at once.
    const big = streams.start('big', () => abandoned++)!;
    const c = fakeReader();
    big.attach(c.reader);
    big.write('data: 0123456789012345\n\n');
    expect(streams.get('big')).toBeUndefined();
    expect(c.got.length).toBe(1);
    c.close();
    expect(abandoned).toBe(2);
  });
});
