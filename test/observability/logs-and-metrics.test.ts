/** pino logs never carry credentials; /metrics is admin-only and counts chats and connections. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/observability/logger.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('logs', () => {
  it('redact credentials by path', () => {
    const { lines, stream } = capture();
    const log = pino(loggerOptions('info'), stream);
    log.info(
      {
        authorization: 'Bearer abc.def.ghi',
        headers: { authorization: 'Bearer k1' },
        apiKey: 'sk-live-1',
        config: { apiKeys: [{ key: 'k2' }] },
      },
      'x',
    );
    const text = lines.join('');
    for (const secret of ['abc.def.ghi', 'k1', 'sk-live-1', 'k2']) expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED]');
  });

  it('never log the Authorization header, a ticket in the query, or the message text', async () => {
    const { lines, stream } = capture();
    const server = await h.start(AUTH_ENV, { logger: { ...loggerOptions('debug'), stream } });
    await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'my password is hunter2' },
    });
    await server.request('POST', '/api/chat', { token: 'wrong-key-abcdef', body: { message: 'x' } });
    const ticket = await server.request('POST', '/api/ws-ticket', { token: KEYS.alice });
    const { client } = await h.connect(`${server.wsUrl}?ticket=${ticket.body.ticket}`);
    await client.close();
    const text = lines.join('');
    expect(text).toContain('/api/chat');
    for (const secret of [KEYS.alice, 'wrong-key-abcdef', ticket.body.ticket, 'hunter2'])
      expect(text).not.toContain(secret);
  });
});

describe('GET /metrics', () => {
  it('needs the admin scope', async () => {
    const server = await h.start(AUTH_ENV);
    expect((await server.request('GET', '/metrics')).status).toBe(401);
    expect((await server.request('GET', '/metrics', { token: KEYS.alice })).status).toBe(403);
  });

  it('counts chats by transport with durations, and open connections', async () => {
    const server = await h.start(AUTH_ENV, { defaultMetrics: true });
    await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'hello' } });
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send({ type: 'chat', message: 'hi' });
    await client.type('complete');
    const res = await server.request('GET', '/metrics', { token: KEYS.admin });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.body).toMatch(/herald_chat_messages_total\{transport="http",outcome="ok"\} 1/);
    expect(res.body).toMatch(/herald_chat_messages_total\{transport="ws",outcome="ok"\} 1/);
    expect(res.body).toMatch(/herald_chat_duration_seconds_count\{transport="ws"\} 1/);
    expect(res.body).toMatch(/herald_open_connections\{transport="ws"\} 1/);
    expect(res.body).toContain('herald_process_cpu_user_seconds_total');
  });
});

describe('store and event loop metrics', () => {
  it('show how many writes share a SQLite commit, the log the checkpoint worker keeps, and event-loop delay', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_STORE: 'sqlite' }, { defaultMetrics: true });
    await Promise.all(
      Array.from({ length: 5 }, () =>
        server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'hello' } }),
      ),
    );
    const text = (await server.request('GET', '/metrics', { token: KEYS.admin })).body as string;
    const commits = Number(/herald_store_commit_writes_count (\d+)/.exec(text)?.[1]);
    const writes = Number(/herald_store_commit_writes_sum (\d+)/.exec(text)?.[1]);
    // Every chat writes a session and two timeline entries (how they share commits depends on
    // when the requests arrive; the store's own tests pin that down).
    expect(writes).toBeGreaterThanOrEqual(15);
    expect(commits).toBeGreaterThan(0);
    expect(commits).toBeLessThanOrEqual(writes);
    expect(text).toContain('herald_store_wal_pages');
    expect(text).toContain('herald_nodejs_eventloop_lag_max_seconds');
  });
});

describe('GET /health', () => {
  it('answers without credentials', async () => {
    const server = await h.start(AUTH_ENV);
    const res = await server.request('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', agentMessages: 'on' });
  });
});

describe('delivery and outcome metrics', () => {
  it('count piggyback and poll deliveries, the stream under its own label, and failures by code', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_MAX_MESSAGE_CHARS: '20' });
    const chat = await server.request('POST', '/api/chat', {
      token: KEYS.alice,
      body: { message: 'a@b.co <b>x</b>' },
    });
    const sessionId = chat.body.sessionId;
    expect(chat.body.agent_messages).toHaveLength(1);
    await server.request('GET', `/api/agent-messages?sessionId=${sessionId}`, { token: KEYS.alice });
    await server.request('POST', '/api/chat/stream', {
      token: KEYS.alice,
      body: { message: 'again', sessionId },
    });
    await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'x'.repeat(21) } });
    const text = (await server.request('GET', '/metrics', { token: KEYS.admin })).body as string;
    expect(text).toMatch(
      /herald_agent_messages_delivered_total\{agentType="sanitization",transport="http"\} 1/,
    );
    expect(text).toMatch(
      /herald_agent_messages_delivered_total\{agentType="sanitization",transport="poll"\} 1/,
    );
    expect(text).toMatch(
      /herald_agent_messages_delivered_total\{agentType="sanitization",transport="stream"\} 1/,
    );
    expect(text).toMatch(/herald_chat_messages_total\{transport="http",outcome="too_large"\} 1/);
  });
});
