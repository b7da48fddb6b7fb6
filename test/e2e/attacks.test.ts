/**
 * Attacks from outside (issue 10), each a test against a running Herald: credentials where
 * they must never be taken (the query string, an API key as a ticket), expired tickets (the
 * clock moved with fake timers), and log forging: newlines and terminal escapes in every field
 * a client controls must not make a log line of their own, and no credential reaches the log.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import { WsClient } from '../support/ws-client.js';

const h = useHarness();

afterEach(() => {
  vi.useRealTimers();
});

async function refusedSocket(url: string, headers?: Record<string, string>) {
  const client = h.track(new WsClient(url, { headers }));
  await client.open();
  const error = await client.type('error');
  const code = await client.closed();
  return { error, code, ready: client.frames.some((f) => f.type === 'ready') };
}

describe('credentials in the query string', () => {
  it('are never taken over HTTP', async () => {
    const server = await h.start(AUTH_ENV);
    for (const name of ['token', 'access_token', 'authorization', 'api_key', 'key'])
      for (const value of [KEYS.alice, `Bearer ${KEYS.alice}`]) {
        const answer = await server.request(
          'GET',
          `/api/agent-messages?sessionId=sess_x&${name}=${encodeURIComponent(value)}`,
        );
        expect(answer.status, `${name}=${value}`).toBe(401);
        expect(answer.body).toMatchObject({ success: false, code: 'unauthorized' });
      }
  });

  it('are never taken on a WebSocket upgrade, an API key passed as a ticket included', async () => {
    const server = await h.start(AUTH_ENV);
    for (const query of [`token=${KEYS.alice}`, `access_token=${KEYS.alice}`, `ticket=${KEYS.alice}`]) {
      const refused = await refusedSocket(`${server.wsUrl}?${query}`);
      expect(refused.error, query).toMatchObject({ code: 'unauthorized' });
      expect(refused.code, query).toBe(1008);
      expect(refused.ready, query).toBe(false);
    }
  });
});

describe('WebSocket tickets', () => {
  it('are refused once expired (the clock moved past the ticket TTL)', async () => {
    // The server reads the clock it was built with: fake Date first, then start it.
    vi.useFakeTimers({ toFake: ['Date'] });
    const server = await h.start({ ...AUTH_ENV, HERALD_TICKET_TTL_MS: '30000' });
    const issued = await server.request('POST', '/api/ws-ticket', { token: KEYS.alice });
    expect(issued.status).toBe(200);
    const fresh = await server.request('POST', '/api/ws-ticket', { token: KEYS.alice });
    vi.setSystemTime(Date.now() + 29_000);
    // Within its TTL a ticket still opens a socket; past it, it is refused.
    const { ready } = await h.connect(`${server.wsUrl}?ticket=${fresh.body.ticket}`);
    expect(ready.type).toBe('ready');
    vi.setSystemTime(Date.now() + 2_000);
    const refused = await refusedSocket(`${server.wsUrl}?ticket=${issued.body.ticket}`);
    expect(refused.error).toMatchObject({ code: 'unauthorized' });
    expect(refused.ready).toBe(false);
  });

  it("are their principal's alone: a ticket cannot be combined with another's session", async () => {
    const server = await h.start(AUTH_ENV);
    const bob = await h.connect(server.wsUrl, { token: KEYS.bob });
    const issued = await server.request('POST', '/api/ws-ticket', { token: KEYS.alice });
    const refused = await refusedSocket(
      `${server.wsUrl}?ticket=${issued.body.ticket}&sessionId=${bob.ready.sessionId}`,
    );
    expect(refused.error).toMatchObject({ code: 'session_not_found' });
    expect(refused.ready).toBe(false);
  });
});

describe('log forging', () => {
  it('makes no log line of its own from newlines and escapes, and logs no credential', async () => {
    let text = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    const server = await h.start(AUTH_ENV, { logger: { level: 'trace', stream } });
    const forged = '\n{"level":50,"msg":"FORGED"}\r\n\u001b[2J\u001b]0;owned\u0007';
    const encoded = encodeURIComponent(forged);

    // The URL, the query, a path parameter, a header value, a JSON body field, a chat message,
    // a bad bearer token and a WebSocket frame, each carrying the forged line.
    await server.request('GET', `/nothing/${encoded}?q=${encoded}`);
    await server.request('GET', `/api/sessions/${encoded}/messages?x=${encoded}`, { token: KEYS.alice });
    await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      headers: { 'user-agent': 'x {"level":50,"msg":"FORGED"}', 'x-forwarded-for': '1.2.3.4 {"level":50}' },
      body: { message: forged, id: forged.slice(0, 100), sessionId: forged },
    });
    await server.request('POST', '/api/chat', {
      token: `${KEYS.alice}"}{"level":50}`,
      body: { message: 'x' },
    });
    await server.request('POST', '/api/agent-messages', {
      token: KEYS.publisher,
      body: { target: { sessionId: forged }, agentType: 'status', content: forged, source: forged },
    });
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send(forged);
    client.send({ type: 'chat', id: 'm_forged', message: forged });
    await client.next((f) => f.type === 'complete' && f.replyTo === 'm_forged');
    await client.close();
    await server.close();

    const lines = text.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const entry = JSON.parse(line); // every line is one JSON object pino wrote
      expect(entry.msg, line).not.toBe('FORGED');
      expect(typeof entry.level).toBe('number');
    }
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\r');
    for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
  });
});
