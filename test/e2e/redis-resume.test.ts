/**
 * Resumable replies across instances (HERALD_STORE=redis): two Heralds on one Redis and key
 * prefix, the reply made on A (a model that drips its chunks on the test's word), the client
 * cut and back through B. B reads the reply's Redis Stream from its start (or the offset the
 * client has), then live, to its end; a stop sent to B reaches A over pub/sub. Over the AI SDK
 * (the real `ai` package), over WebSocket `resume_reply`, and with herald/client moving from A
 * to B by itself.
 */
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HeraldClient, type WebSocketConstructor } from '../../src/client/index.js';
import { memoryStorage } from '../../src/client/storage.js';
import { textOf, transport, userMessage } from '../support/ai-sdk.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { type Drip, dripAgent } from '../support/drip-agent.js';
import { useHarness } from '../support/harness.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';
import type { TestServer } from '../support/server.js';

const hasRedis = await redisAnswers();
requireRedisInCi(hasRedis, 'resumable replies across instances');

const CHUNKS = ['One, ', 'two, ', 'three, ', 'four, ', 'five, ', 'six.'];
const WHOLE = CHUNKS.join('');

describe.skipIf(!hasRedis)('resumable replies across instances (Redis)', () => {
  const h = useHarness();
  const prefixes: string[] = [];
  const redis = hasRedis ? new Redis(REDIS_URL) : undefined;
  afterAll(async () => {
    for (const p of prefixes) await dropPrefix(p);
    await redis?.quit();
  });

  /** A (making the replies, with the drip model) and B on one fresh prefix. */
  async function twoInstances(extra: Record<string, string> = {}) {
    const prefix = newPrefix();
    prefixes.push(prefix);
    const env = { ...AUTH_ENV, HERALD_STORE: 'redis', REDIS_URL, HERALD_REDIS_KEY_PREFIX: prefix, ...extra };
    const drip = dripAgent(CHUNKS);
    const a = await h.start(env, { agent: drip.agent });
    const b = await h.start(env);
    return { a, b, drip, prefix };
  }

  /** Sends a chat on A and reads it until `deltas` text deltas came, then cuts the connection. */
  async function cutAfter(a: TestServer, drip: Drip, chatId: string, deltas: number) {
    const cut = new AbortController();
    const stream = await transport(a).sendMessages({
      chatId,
      messages: [userMessage('u1', 'count to six')],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: cut.signal,
    });
    const reader = stream.getReader();
    const chunks: UIMessageChunk[] = [];
    let seen = 0;
    drip.release(1);
    while (seen < deltas) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended early');
      chunks.push(value as UIMessageChunk);
      if ((value as UIMessageChunk).type === 'text-delta' && ++seen < deltas) drip.release(1);
    }
    cut.abort();
    await reader.cancel().catch(() => {});
    const sessionId = (chunks[0] as { messageMetadata?: { sessionId: string } }).messageMetadata!.sessionId;
    return { sessionId };
  }

  it('AI SDK: a reply made on A and cut after its third chunk is read whole, once, through B', async () => {
    const { a, b, drip, prefix } = await twoInstances({ HERALD_REPLY_KEEP_MS: '30000' });
    const { sessionId } = await cutAfter(a, drip, 'chat-x', 3);
    // The model goes on while nobody reads: two more chunks.
    drip.release(2);
    await expect.poll(() => drip.state.made).toBe(5);

    // The stream is in Redis, under the session's hash tag, expiring within the keep time.
    const streams = await redis!.keys(`${prefix}s:{${sessionId}}:rs:*`);
    expect(streams).toHaveLength(1);
    const ttl = await redis!.pttl(streams[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);

    // Back through B: useChat({ resume: true })'s GET.
    const resumed = await transport(b).reconnectToStream({ chatId: 'chat-x' });
    expect(resumed).not.toBeNull();
    drip.release(1);
    let last: UIMessage | undefined;
    for await (const message of readUIMessageStream({ stream: resumed! })) last = message;
    expect(textOf(last)).toBe(WHOLE);
    expect((last!.metadata as { sessionId: string }).sessionId).toBe(sessionId);

    // Finished: nothing to resume on either instance.
    expect(await transport(b).reconnectToStream({ chatId: 'chat-x' })).toBeNull();
    expect(await transport(a).reconnectToStream({ chatId: 'chat-x' })).toBeNull();
    const timeline = await b.request('GET', `/api/sessions/${sessionId}/messages`, { token: KEYS.alice });
    const reply = timeline.body.messages.find((m: { kind: string }) => m.kind === 'reply');
    expect(reply.text).toBe(WHOLE);
    expect(reply.incomplete).toBeUndefined();
    // Another principal gets nothing for the same chat id.
    const bob = await fetch(`${b.url}/api/chat/stream/chat-x/stream`, {
      headers: { authorization: `Bearer ${KEYS.bob}` },
    });
    expect(bob.status).toBe(204);
  });

  it('AI SDK: a stop sent to B stops the reply A makes, for every reader, and records it as incomplete', async () => {
    const { a, b, drip, prefix } = await twoInstances();
    const { sessionId } = await cutAfter(a, drip, 'chat-stop', 1);
    const stop = (s: TestServer, who: string) =>
      fetch(`${s.url}/api/chat/stream/chat-stop/stop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${who}` },
      });

    // A reader through B tells A it reads (the maker's channel hears `read`).
    const listener = new Redis(REDIS_URL);
    const heard: string[] = [];
    listener.on('pmessage', (_p, _c, message) => heard.push(message));
    await listener.psubscribe(`${prefix}reply:{${sessionId}}:*`);
    try {
      const resumed = await transport(b).reconnectToStream({ chatId: 'chat-stop' });
      expect(resumed).not.toBeNull();
      await expect.poll(() => heard).toContain('read');

      expect((await stop(b, KEYS.bob)).status).toBe(404);
      expect((await stop(b, KEYS.alice)).status).toBe(204);
      await expect.poll(() => heard).toContain('stop');
      const chunks: UIMessageChunk[] = [];
      const reader = resumed!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        chunks.push(value as UIMessageChunk);
      }
      expect(chunks.at(-1)?.type).toBe('finish');
    } finally {
      await listener.quit();
    }
    expect((await stop(b, KEYS.alice)).status).toBe(404);
    const timeline = await b.request('GET', `/api/sessions/${sessionId}/messages`, { token: KEYS.alice });
    expect(timeline.body.messages.find((m: { kind: string }) => m.kind === 'reply')).toMatchObject({
      text: CHUNKS[0],
      incomplete: true,
    });
  });

  it('bounds the readers an instance follows from Redis (HERALD_REPLY_KEEP_MAX_REPLIES): past it a resume finds nothing', async () => {
    const { a, b, drip } = await twoInstances({ HERALD_REPLY_KEEP_MAX_REPLIES: '1' });
    await cutAfter(a, drip, 'chat-cap', 1);
    const resume = () =>
      fetch(`${b.url}/api/chat/stream/chat-cap/stream`, {
        headers: { authorization: `Bearer ${KEYS.alice}` },
      });
    const first = await resume();
    expect(first.status).toBe(200);
    expect((await resume()).status).toBe(204);
    drip.release(5);
    const body = await first.text();
    expect(body).toContain('"delta":"six."');
    expect(body.trim().endsWith('data: [DONE]')).toBe(true);
    // The reader gone, the next one is followed again (the reply has ended: nothing to resume).
    expect((await resume()).status).toBe(204);
  });

  it('WebSocket: resume_reply on B gives the rest from the offset, then live, then complete; stop on B reaches A', async () => {
    const { a, b, drip } = await twoInstances();
    const { client: onA, ready } = await h.connect(a.wsUrl, { token: KEYS.alice });
    onA.send({ type: 'chat', id: 'm_1', message: 'count', resumable: true });
    drip.release(3);
    await expect
      .poll(() =>
        onA.frames
          .filter((f) => f.type === 'chunk')
          .map((f) => f.content)
          .join(''),
      )
      .toBe(CHUNKS.slice(0, 3).join(''));
    const had = onA.frames
      .filter((f) => f.type === 'chunk')
      .map((f) => f.content)
      .join('');
    onA.socket.terminate();
    await onA.closed();
    drip.release(2);
    await expect.poll(() => drip.state.made).toBe(5);

    const { client: onB } = await h.connect(`${b.wsUrl}?sessionId=${ready.sessionId}`, { token: KEYS.alice });
    // An offset past the text, and a reply never kept, are not_found.
    onB.send({ type: 'resume_reply', replyTo: 'm_1', offset: 1000 });
    expect(await onB.type('error')).toMatchObject({ code: 'not_found', replyTo: 'm_1', fields: ['replyTo'] });
    onB.send({ type: 'resume_reply', replyTo: 'm_1', offset: had.length });
    const rest = await onB.type('chunk');
    expect(rest).toMatchObject({ replyTo: 'm_1', content: 'four, five, ' });
    drip.release(1);
    await onB.next((f) => f.type === 'complete' && f.replyTo === 'm_1');
    const onBText = onB.frames
      .filter((f) => f.type === 'chunk' && f.replyTo === 'm_1')
      .map((f) => f.content)
      .join('');
    expect(had + onBText).toBe(WHOLE);
    // Finished, it stays readable for the keep time, from anywhere.
    const from = onB.frames.length;
    onB.send({ type: 'resume_reply', replyTo: 'm_1', offset: 0 });
    expect(await onB.next((f) => f.type === 'chunk', from)).toMatchObject({ content: WHOLE });
    await onB.next((f) => f.type === 'complete', from);

    // A second reply on A, stopped from B.
    const { client: again } = await h.connect(`${a.wsUrl}?sessionId=${ready.sessionId}`, {
      token: KEYS.alice,
    });
    again.send({ type: 'chat', id: 'm_2', message: 'count again', resumable: true });
    drip.release(1);
    await again.next((f) => f.type === 'chunk' && f.replyTo === 'm_2');
    const mark = onB.frames.length;
    onB.send({ type: 'resume_reply', replyTo: 'm_2', offset: 0 });
    await onB.next((f) => f.type === 'chunk' && f.replyTo === 'm_2', mark);
    onB.send({ type: 'stop', replyTo: 'm_2' });
    await again.next((f) => f.type === 'complete' && f.replyTo === 'm_2');
    await onB.next((f) => f.type === 'complete' && f.replyTo === 'm_2', mark);
  });

  it("WebSocket: a reader through B whose reply's maker went away (nothing written for the keep time) ends with not_found", async () => {
    const { b, prefix } = await twoInstances({ HERALD_REPLY_KEEP_MS: '300' });
    const { client, ready } = await h.connect(b.wsUrl, { token: KEYS.alice });
    // What a maker that died mid-reply leaves: its pointer and stream, written once, expiring.
    const sess = ready.sessionId as string;
    await redis!
      .multi()
      .set(`${prefix}s:{${sess}}:reply:m:m_orphan`, 'dead', 'PX', 300)
      .xadd(`${prefix}s:{${sess}}:rs:dead`, '*', 'k', 's', 'v', '')
      .xadd(`${prefix}s:{${sess}}:rs:dead`, '*', 'k', 'p', 'v', 'Hello, ')
      .pexpire(`${prefix}s:{${sess}}:rs:dead`, 300)
      .exec();
    client.send({ type: 'resume_reply', replyTo: 'm_orphan', offset: 0 });
    expect(await client.type('chunk')).toMatchObject({ replyTo: 'm_orphan', content: 'Hello, ' });
    expect(await client.type('error')).toMatchObject({ code: 'not_found', replyTo: 'm_orphan' });
    expect(client.frames.some((f) => f.type === 'complete')).toBe(false);
  });

  it('herald/client: cut on A, it reconnects to B by itself and the application sees the whole reply once, in order', async () => {
    const { a, b, drip } = await twoInstances();
    // The first socket goes to A; every later one (the load balancer's choice) to B.
    const urls: string[] = [];
    const Moving = class extends WebSocket {
      constructor(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
        const target =
          urls.length === 0 ? url : url.replace(a.url.replace('http', 'ws'), b.url.replace('http', 'ws'));
        urls.push(target);
        super(target, protocols, options);
      }
    };
    const client = new HeraldClient({
      url: a.url,
      auth: { apiKey: KEYS.alice },
      WebSocket: Moving as unknown as WebSocketConstructor,
      webSocketHeaders: true,
      storage: memoryStorage(),
      backoff: { baseMs: 20, maxMs: 50 },
    });
    const chunks: string[] = [];
    const states: string[] = [];
    client.on('chunk', (c) => {
      chunks.push(c.content);
      if (chunks.length < 3) drip.release(1);
    });
    client.on('state', (s) => states.push(s));
    await client.connect();
    const reply = client.send('count to six', { id: 'm_move' });
    drip.release(1);
    await expect.poll(() => chunks.length).toBe(3);
    const before = states.length;
    for (const ws of a.app.websocketServer.clients) ws.terminate();
    await expect.poll(() => states.slice(before)).toContain('reconnecting');
    await expect.poll(() => states.at(-1)).toBe('connected');
    expect(urls.at(-1)).toContain(b.url.replace('http://', ''));
    expect(urls).toHaveLength(2);
    drip.release(3);
    expect((await reply).text).toBe(WHOLE);
    expect(chunks.join('')).toBe(WHOLE);
    client.close();
  });
});
