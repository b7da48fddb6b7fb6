/**
 * Replies that resume after a cut: useChat({ resume: true })'s GET on the chat's stream, read
 * by the real `ai` package (DefaultChatTransport.reconnectToStream, readUIMessageStream),
 * against a Herald whose model drips its reply one chunk at a time on the test's word.
 */
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import { textOf, transport, userMessage } from '../support/ai-sdk.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { dripAgent } from '../support/drip-agent.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();

const CHUNKS = ['One, ', 'two, ', 'three, ', 'four, ', 'five, ', 'six.'];

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
    await expect.poll(() => drip.state.made).toBe(5);

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

describe('the keep limits are settings (HERALD_REPLY_KEEP_*)', () => {
  const inFlight = async (env: Record<string, string>, chatId: string) => {
    const drip = dripAgent(['a', 'b']);
    const server = await h.start({ ...AUTH_ENV, ...env }, { agent: drip.agent });
    const stream = await transport(server).sendMessages({
      chatId,
      messages: [userMessage('u1', 'hi')],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: undefined,
    });
    const reader = stream.getReader();
    drip.release(1);
    // The first delta has been made (and kept, or not).
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('ended early');
      if ((value as UIMessageChunk).type === 'text-delta') break;
    }
    const resume = () =>
      fetch(`${server.url}/api/chat/stream/${chatId}/stream`, {
        headers: { authorization: `Bearer ${KEYS.alice}` },
      });
    return { drip, reader, resume };
  };

  it('keeps none with HERALD_REPLY_KEEP_MAX_REPLIES=0, and one too large with HERALD_REPLY_KEEP_MAX_BYTES', async () => {
    const none = await inFlight({ HERALD_REPLY_KEEP_MAX_REPLIES: '0' }, 'chat-none');
    expect((await none.resume()).status).toBe(204);
    const small = await inFlight({ HERALD_REPLY_KEEP_MAX_BYTES: '200' }, 'chat-small');
    expect((await small.resume()).status).toBe(204);
    const kept = await inFlight({}, 'chat-kept');
    const res = await kept.resume();
    expect(res.status).toBe(200);
    for (const x of [none, small, kept]) x.drip.release(1);
    expect(await res.text()).toContain('"delta":"b"');
    for (const x of [none, small]) while (!(await x.reader.read()).done) {}
  });
});
