/**
 * herald/client's HTTP fallback resumes a cut reply: it chats over POST /api/chat/stream with
 * the message id as the chat id, and when the server cuts the stream mid-reply it asks the
 * chat's resume GET for the rest (or, when the reply ended meanwhile, reads it from the
 * timeline). A real Herald on an ephemeral port, a model that drips its chunks on the test's
 * word, and a gate on the client's fetch so each step happens in the order the test says.
 */
import { describe, expect, it } from 'vitest';
import { HeraldClient } from '../../src/client/index.js';
import { memoryStorage } from '../../src/client/storage.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { dripAgent } from '../support/drip-agent.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';

const h = useHarness();
const CHUNKS = ['One, ', 'two, ', 'three, ', 'four, ', 'five, ', 'six.'];
const WHOLE = CHUNKS.join('');

/** A fetch that records each call and holds the resume GETs until `open()`. */
function gatedFetch() {
  const calls: string[] = [];
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const call = `${init?.method ?? 'GET'} ${url.pathname}`;
    calls.push(call);
    if (call.startsWith('GET /api/chat/stream/')) await gate;
    return fetch(input, init);
  };
  return { fetchFn, calls, open };
}

function httpClient(server: TestServer, fetchFn: typeof fetch) {
  const client = new HeraldClient({
    url: server.url,
    auth: { apiKey: KEYS.alice },
    transport: 'http',
    fetch: fetchFn,
    storage: memoryStorage(),
    backoff: { baseMs: 10, maxMs: 20 },
    pollIntervalMs: 60_000,
  });
  const chunks: string[] = [];
  const replies: string[] = [];
  client.on('chunk', (c) => chunks.push(c.content));
  client.on('reply', (r) => replies.push(r.text));
  return { client, chunks, replies };
}

/** Cuts every connection the server holds (the reply's stream among them). */
const cutEverything = (server: TestServer) => server.app.server.closeAllConnections();

describe('herald/client over HTTP: a cut reply resumes', () => {
  it('streams the reply and, cut after its third chunk, gets the rest from the resume GET: whole, once, in order', async () => {
    const drip = dripAgent(CHUNKS);
    const server = await h.start(AUTH_ENV, { agent: drip.agent });
    const gated = gatedFetch();
    const { client, chunks, replies } = httpClient(server, gated.fetchFn);
    client.on('chunk', () => {
      if (chunks.length < 3) drip.release(1);
    });
    await client.connect();
    const reply = client.send('count to six', { id: 'm_http' });
    drip.release(1);
    await expect.poll(() => chunks.length).toBe(3);
    expect(gated.calls).toContain('POST /api/chat/stream');

    cutEverything(server);
    // The client asks for the rest; meanwhile the model makes two more chunks.
    await expect.poll(() => gated.calls).toContain('GET /api/chat/stream/m_http/stream');
    drip.release(2);
    await expect.poll(() => drip.state.made).toBe(5);
    gated.open();
    drip.release(1);

    expect((await reply).text).toBe(WHOLE);
    expect(chunks.join('')).toBe(WHOLE);
    expect(replies).toEqual([WHOLE]);
    const timeline = await server.request('GET', `/api/sessions/${client.sessionId}/messages`, {
      token: KEYS.alice,
    });
    const entry = timeline.body.messages.find((m: { kind: string }) => m.kind === 'reply');
    expect(entry).toMatchObject({ replyTo: 'm_http', text: WHOLE });
    expect(entry.incomplete).toBeUndefined();
    client.close();
  });

  it('reads a reply that ended while its stream was cut from the timeline', async () => {
    const drip = dripAgent(CHUNKS);
    const server = await h.start(AUTH_ENV, { agent: drip.agent });
    const gated = gatedFetch();
    const { client, chunks, replies } = httpClient(server, gated.fetchFn);
    await client.connect();
    const reply = client.send('count to six', { id: 'm_done' });
    drip.release(2);
    await expect.poll(() => chunks.join('')).toBe(CHUNKS.slice(0, 2).join(''));
    cutEverything(server);
    await expect.poll(() => gated.calls).toContain('GET /api/chat/stream/m_done/stream');
    // The reply ends while nobody reads: its resume GET will answer 204.
    drip.release(4);
    await expect
      .poll(
        async () =>
          (
            await server.request('GET', `/api/sessions/${client.sessionId}/messages`, { token: KEYS.alice })
          ).body.messages.find((m: { kind: string }) => m.kind === 'reply')?.text,
      )
      .toBe(WHOLE);
    gated.open();
    expect((await reply).text).toBe(WHOLE);
    expect(chunks.join('')).toBe(WHOLE);
    expect(replies).toEqual([WHOLE]);
    expect(gated.calls).toContain(`GET /api/sessions/${client.sessionId}/messages`);
    client.close();
  });

  it('resume(): a new client (a reloaded page) follows a reply the old one sent, from its start', async () => {
    const drip = dripAgent(CHUNKS);
    const server = await h.start(AUTH_ENV, { agent: drip.agent });
    const storage = memoryStorage();
    const first = new HeraldClient({
      url: server.url,
      auth: { apiKey: KEYS.alice },
      transport: 'http',
      storage,
    });
    await first.connect();
    const got: string[] = [];
    first.on('chunk', (c) => got.push(c.content));
    const lost = first.send('count to six', { id: 'm_reload' });
    drip.release(2);
    await expect.poll(() => got.length).toBe(2);
    // The page goes away mid-reply: its stream is aborted, the reply goes on at the server.
    const errors: string[] = [];
    first.on('error', (e) => errors.push(e.code));
    first.close();
    await expect(lost).rejects.toMatchObject({ code: 'closed' });

    const second = new HeraldClient({
      url: server.url,
      auth: { apiKey: KEYS.alice },
      transport: 'http',
      storage,
    });
    const chunks: string[] = [];
    second.on('chunk', (c) => chunks.push(c.content));
    await second.connect();
    expect(second.sessionId).toBe(first.sessionId);
    const followed = second.resume('m_reload');
    drip.release(4);
    expect((await followed).text).toBe(WHOLE);
    expect(chunks.join('')).toBe(WHOLE);
    expect(got).toHaveLength(2);
    expect(errors).toEqual([]);
    // Nothing to follow: interrupted.
    await expect(second.resume('m_never')).rejects.toMatchObject({ code: 'interrupted' });
    second.close();
  });

  it('stops a reply over HTTP: send() resolves with what was made', async () => {
    const drip = dripAgent(CHUNKS);
    const server = await h.start(AUTH_ENV, { agent: drip.agent });
    const { client, chunks } = httpClient(server, fetch);
    await client.connect();
    const reply = client.send('stop me', { id: 'm_stop' });
    drip.release(1);
    await expect.poll(() => chunks.length).toBe(1);
    client.stop('m_stop');
    expect((await reply).text).toBe(CHUNKS[0]);
    client.close();
  });
});
