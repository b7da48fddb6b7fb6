/**
 * Fairness (issue 10): one principal cannot make sessions without bound, and a publish to a
 * user with thousands of sessions leaves the event loop to everyone else between its slices.
 * Against a real Herald on loopback.
 */
import { describe, expect, it } from 'vitest';
import { PUBLISH_ANSWER_LIST_MAX } from '../../src/protocol/limits.js';
import { publish } from '../support/agent-messages.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import { describeRtts, measureUnderAbuse, p99 } from '../support/ping-probe.js';
import { rawConnect } from '../support/raw-http.js';
import type { TestServer } from '../support/server.js';
import { WsClient } from '../support/ws-client.js';

/**
 * Issue 10: under each abuse, another user's WebSocket ping p99 stays under 50 ms. The bound is on
 * what the abuse adds to the p99 the same probe measures just before it: on a quiet machine that
 * p99 is 1–2 ms, while on a shared one (the test suite's other files, other processes) it can be
 * tens of milliseconds that no Herald code causes. Each such test is tried up to three times: a run
 * can be descheduled as a whole, while an abuse that holds the loop fails every try.
 */
const PING_P99_BOUND_MS = 50;

/** Runs `abuse` as another user (bob) pings; prints the figures and checks the bound. */
async function expectPingsUnhurt(server: TestServer, what: string, abuse: () => Promise<void>) {
  const { idle, abused, tookMs } = await measureUnderAbuse(server.wsUrl, KEYS.bob, abuse);
  console.log(
    `${what}: ${tookMs.toFixed(0)} ms; another user's ${describeRtts(abused)} (before it: ${describeRtts(idle)})`,
  );
  // Pings were answered all along the abuse, not only once it was over.
  expect(abused.length).toBeGreaterThanOrEqual(10);
  expect(p99(abused)).toBeLessThan(PING_P99_BOUND_MS + p99(idle));
}

const h = useHarness();

describe('new sessions per principal', () => {
  it('are limited per minute, a WebSocket connect without a sessionId counting, other principals untouched', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_SESSION_RATE_LIMIT: '3' });
    const first = await h.connect(server.wsUrl, { token: KEYS.alice });
    await h.connect(server.wsUrl, { token: KEYS.alice });
    const chat = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'hi' } });
    expect(chat.status).toBe(200);

    // The fourth session: a WebSocket connect is refused with rate_limited and closed 1013.
    const refused = h.track(new WsClient(server.wsUrl, { token: KEYS.alice }));
    await refused.open();
    const error = await refused.type('error');
    expect(error).toMatchObject({ code: 'rate_limited' });
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(await refused.closed()).toBe(1013);
    expect(refused.frames.some((f) => f.type === 'ready')).toBe(false);

    // Over HTTP and the AI SDK stream: 429 rate_limited with Retry-After, no session made.
    const http = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'hi' } });
    expect(http.status).toBe(429);
    expect(http.body).toMatchObject({ success: false, code: 'rate_limited' });
    expect(Number(http.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const stream = await server.request('POST', '/api/chat/stream', {
      token: KEYS.alice,
      body: { message: 'hi' },
    });
    expect(stream.status).toBe(429);
    expect(await server.app.herald.store.listSessionIds('alice')).toHaveLength(3);

    // Sessions that exist go on: a reconnect and a chat naming one.
    const again = await h.connect(`${server.wsUrl}?sessionId=${first.ready.sessionId}`, {
      token: KEYS.alice,
    });
    expect(again.ready.sessionId).toBe(first.ready.sessionId);
    const named = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'hi', sessionId: chat.body.sessionId },
    });
    expect(named.status).toBe(200);
    // Another principal has a limit of its own.
    const bob = await h.connect(server.wsUrl, { token: KEYS.bob });
    expect(bob.ready.sessionId).toMatch(/^sess_/);
  });

  it('0 means no limit', async () => {
    const server = await h.start({ HERALD_SESSION_RATE_LIMIT: '0', HERALD_CHAT_RATE_LIMIT: '0' });
    const answers = await Promise.all(
      Array.from({ length: 150 }, () => server.request('POST', '/api/chat', { body: { message: 'hi' } })),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  });
});

describe('live connections per principal', () => {
  it('are capped on WebSocket and agent message streams together, other principals untouched', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_MAX_CONNECTIONS_PER_PRINCIPAL: '2' });
    const first = await h.connect(server.wsUrl, { token: KEYS.alice });
    const stream = new AbortController();
    const sse = await fetch(`${server.url}/api/agent-messages/stream?sessionId=${first.ready.sessionId}`, {
      headers: { authorization: `Bearer ${KEYS.alice}` },
      signal: stream.signal,
    });
    expect(sse.status).toBe(200);

    // A third: the WebSocket gets rate_limited and close 1013, the stream 429; neither makes a session.
    const refused = h.track(new WsClient(server.wsUrl, { token: KEYS.alice }));
    await refused.open();
    expect(await refused.type('error')).toMatchObject({ code: 'rate_limited', retryAfter: 5 });
    expect(await refused.closed()).toBe(1013);
    const again = await server.request(
      'GET',
      `/api/agent-messages/stream?sessionId=${first.ready.sessionId}`,
      {
        token: KEYS.alice,
      },
    );
    expect(again.status).toBe(429);
    expect(again.body).toMatchObject({ success: false, code: 'rate_limited' });
    expect(await server.app.herald.store.listSessionIds('alice')).toHaveLength(1);
    expect((await h.connect(server.wsUrl, { token: KEYS.bob })).ready.sessionId).toMatch(/^sess_/);

    // Each one that closes gives its place back.
    stream.abort();
    await first.client.close();
    const live = server.app.herald.liveConnections;
    for (let turn = 0; live.count('alice') > 0 && turn < 100_000; turn++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(live.count('alice')).toBe(0);
    await h.connect(server.wsUrl, { token: KEYS.alice });
    await h.connect(server.wsUrl, { token: KEYS.alice });
  });
});

describe('a publish to a user with thousands of sessions', () => {
  const makeSessions = async (server: TestServer, owner: string, n: number) => {
    const { store } = server.app.herald;
    for (let i = 0; i < n; i++)
      await store.createSession({
        id: `sess_${owner}${String(i).padStart(6, '0')}`,
        owner,
        createdAt: new Date().toISOString(),
      });
  };

  it(`answers other requests between its slices, and lists at most ${PUBLISH_ANSWER_LIST_MAX} sessions`, async () => {
    const server = await h.start(AUTH_ENV);
    const { store } = server.app.herald;
    const total = 2_000;
    await makeSessions(server, 'crowd', total);

    // Count admissions as they happen; at the first one, ask /health on another connection.
    let admitted = 0;
    let healthAsked: Promise<number> | undefined;
    const append = store.appendAgentMessage.bind(store);
    store.appendAgentMessage = (async (...args: Parameters<typeof store.appendAgentMessage>) => {
      admitted++;
      healthAsked ??= fetch(`${server.url}/health`).then(async (res) => {
        await res.text();
        return admitted;
      });
      return append(...args);
    }) as typeof store.appendAgentMessage;

    const answer = await publish(server, {
      target: { userId: 'crowd' },
      agentType: 'status',
      deliveryGuarantee: 'at-least-once',
    });
    expect(answer.status).toBe(202);
    // The answer counts every session and names the first ones, in the order they were made.
    expect(answer.body.count).toBe(total);
    expect(answer.body.rateLimitedCount).toBe(0);
    expect(answer.body.rateLimited).toEqual([]);
    const first = (await store.listSessionIds('crowd')).slice(0, PUBLISH_ANSWER_LIST_MAX);
    expect(answer.body.sessionIds).toEqual(first);
    expect(answer.body.messages.map((m: { sessionId: string }) => m.sessionId)).toEqual(first);
    expect(answer.body.id).toBe(answer.body.messages[0].id);
    // Every session has its message, listed or not.
    const last = (await store.listSessionIds('crowd')).at(-1)!;
    expect(await store.listPending(last, 0, 10, Date.now())).toHaveLength(1);
    expect(healthAsked).toBeDefined();
    const admittedWhenHealthAnswered = await healthAsked!;
    // /health was answered while the fan-out was still under way, not after it.
    expect(admittedWhenHealthAnswered).toBeLessThan(total);
  });

  it('names the first sessions the rate limit refused and counts them all', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_AGENT_RATE_LIMITS: '{"status":1}' });
    await makeSessions(server, 'crowd', 150);
    const ids = await server.app.herald.store.listSessionIds('crowd');
    // The first 120 have had their one status message this minute.
    for (const sessionId of ids.slice(0, 120))
      expect((await publish(server, { target: { sessionId } })).status).toBe(202);
    const answer = await publish(server, { target: { userId: 'crowd' } });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ count: 30, rateLimitedCount: 120 });
    expect(answer.body.sessionIds).toEqual(ids.slice(120));
    expect(answer.body.rateLimited).toEqual(ids.slice(0, PUBLISH_ANSWER_LIST_MAX));
  });

  // With no slicing (one slice of 5,000), p99 was over 200 ms on every try.
  it(`keeps another user's ping p99 under ${PING_P99_BOUND_MS} ms while it fans out to 5,000 sessions, 100 of them live (SQLite)`, {
    retry: 2,
  }, async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_STORE: 'sqlite' });
    // Alice: 4,900 sessions in the store and 100 live WebSockets (her cap), each a session too.
    await makeSessions(server, 'alice', 4_900);
    const live = await Promise.all(
      Array.from({ length: 100 }, () => h.connect(server.wsUrl, { token: KEYS.alice })),
    );
    // One publish first, so what is measured is the fan-out, not the first call's warm-up.
    await makeSessions(server, 'warm', 1);
    expect((await publish(server, { target: { userId: 'warm' } })).status).toBe(202);

    let size = 0;
    await expectPingsUnhurt(server, 'fan-out over 5,000 sessions, 100 live (SQLite)', async () => {
      const answer = await publish(server, {
        target: { userId: 'alice' },
        agentType: 'status',
        content: 'to all',
        deliveryGuarantee: 'at-least-once',
      });
      expect(answer.status).toBe(202);
      expect(answer.body.count).toBe(5_000);
      size = JSON.stringify(answer.body).length;
      // Every live socket has its session's message.
      await Promise.all(
        live.map(({ client }) =>
          client.next((f) => f.type === 'agent_message' && f.message.content === 'to all'),
        ),
      );
    });
    console.log(`the answer: ${size} bytes`);
    expect(size).toBeLessThan(16_384);
  });
});

describe("another user's ping p99 under the other abuses", () => {
  /** `n` WebSocket connects as alice without a sessionId, `wave` at a time; how each ended. */
  const connectFlood = async (server: TestServer, n: number, wave: number) => {
    const ends: string[] = [];
    for (let from = 0; from < n; from += wave)
      await Promise.all(
        Array.from({ length: Math.min(wave, n - from) }, async () => {
          const client = new WsClient(server.wsUrl, { token: KEYS.alice });
          await client.open();
          const first = await client.next((f) => f.type === 'ready' || f.type === 'error');
          ends.push(first.type === 'ready' ? 'ready' : String(first.code));
          if (first.type === 'ready') client.socket.terminate();
          else await client.closed();
        }),
      );
    return ends;
  };

  it(`stays under ${PING_P99_BOUND_MS} ms while one principal floods WebSocket connects past its new-session limit`, {
    retry: 2,
  }, async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_SESSION_RATE_LIMIT: '20' });
    await expectPingsUnhurt(server, '600 connects making sessions, limit 20', async () => {
      const ends = await connectFlood(server, 600, 30);
      expect(ends.filter((e) => e === 'ready')).toHaveLength(20);
      expect(ends.filter((e) => e === 'rate_limited')).toHaveLength(580);
    });
  });

  it(`stays under ${PING_P99_BOUND_MS} ms while one principal holds connections past its cap`, {
    retry: 2,
  }, async () => {
    const server = await h.start({
      ...AUTH_ENV,
      HERALD_SESSION_RATE_LIMIT: '0',
      HERALD_MAX_CONNECTIONS_PER_PRINCIPAL: '50',
    });
    const held: WsClient[] = [];
    await expectPingsUnhurt(server, '50 connections held, 500 more refused', async () => {
      for (let i = 0; i < 50; i++) held.push(h.track(new WsClient(server.wsUrl, { token: KEYS.alice })));
      await Promise.all(held.map((c) => c.type('ready')));
      const ends = await connectFlood(server, 500, 50);
      expect(new Set(ends)).toEqual(new Set(['rate_limited']));
    });
  });

  it(`stays under ${PING_P99_BOUND_MS} ms while 300 connections dribble their headers and 100 their bodies until the timeouts close them`, {
    retry: 2,
  }, async () => {
    const server = await h.start({
      ...AUTH_ENV,
      HERALD_HEADERS_TIMEOUT_MS: '500',
      HERALD_REQUEST_TIMEOUT_MS: '1000',
    });
    await expectPingsUnhurt(server, '300 slow headers, 100 slow bodies', async () => {
      const headers = Array.from({ length: 300 }, () => rawConnect(server.url));
      const bodies = Array.from({ length: 100 }, () => rawConnect(server.url));
      await Promise.all([...headers, ...bodies].map((c) => c.connected));
      for (const c of headers) c.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a');
      for (const c of bodies)
        c.socket.write(
          `POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nauthorization: Bearer ${KEYS.alice}\r\n` +
            'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{',
        );
      // The attack: a byte every 20 ms on each connection, never finishing anything.
      const dribble = setInterval(() => {
        for (const c of [...headers, ...bodies]) if (c.socket.writable) c.socket.write(' ');
      }, 20);
      try {
        // Herald's timeouts end every one of them, each with the contract's 400.
        const answers = await Promise.all([...headers, ...bodies].map((c) => c.closed));
        expect(answers.filter((a) => a.startsWith('HTTP/1.1 400'))).toHaveLength(400);
      } finally {
        clearInterval(dribble);
      }
    });
  });

  // Messages this long are sanitized in a worker thread (HERALD_SANITIZE_THREADS): on the event
  // loop each cost 4-5 ms (11 ms on a busy machine), two arriving together were sanitized in one
  // turn, and the p99 reached 95-135 ms beside the suite's other files.
  it(`stays under ${PING_P99_BOUND_MS} ms while one principal sends 100,000-character messages of nested markup, two at a time`, {
    retry: 2,
  }, async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_STORE: 'sqlite', HERALD_CHAT_RATE_LIMIT: '0' });
    const crafted = '<div><b><i>'.repeat(10_000).slice(0, 100_000);
    const send = () => server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: crafted } });
    // A few first, so what is measured is not the process's first compile of the sanitizer's paths.
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200);
    await expectPingsUnhurt(server, '20 crafted 100,000-character messages, 2 at a time', async () => {
      for (let i = 0; i < 10; i++) {
        const answers = await Promise.all([send(), send()]);
        expect(answers.map((a) => a.status)).toEqual([200, 200]);
      }
    });
  });
});
