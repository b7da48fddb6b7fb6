/**
 * Slow and broken clients (issue 10): headers that never finish, bodies dribbled a byte at a
 * time, an idle keep-alive, a refused upload and too many connections each cost a socket for a
 * bounded time; what Node's HTTP parser refuses answers the catalogue's error body; an aborted
 * upload is a debug line, not an `internal` error. Raw TCP against a running Herald on loopback;
 * timeouts are configured short and every wait is for an event, bounded by `within`.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkingIntervalMs } from '../../src/transports/http/server-limits.js';
import { AUTH_ENV } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import { rawConnect, within } from '../support/raw-http.js';

const h = useHarness();
const TIMEOUTS = { HERALD_HEADERS_TIMEOUT_MS: '200', HERALD_REQUEST_TIMEOUT_MS: '400' };

describe('server timeouts', () => {
  it('are set from the configuration, with the documented defaults', async () => {
    const server = await h.start();
    const { server: http } = server.app;
    expect(http.headersTimeout).toBe(10_000);
    expect(http.requestTimeout).toBe(30_000);
    expect(http.keepAliveTimeout).toBe(5_000);
    expect(http.timeout).toBe(0);
    expect(http.maxConnections).toBe(20_000);
    const custom = await h.start({
      ...TIMEOUTS,
      HERALD_KEEP_ALIVE_TIMEOUT_MS: '300',
      HERALD_MAX_CONNECTIONS: '0',
    });
    expect(custom.app.server.headersTimeout).toBe(200);
    expect(custom.app.server.requestTimeout).toBe(400);
    expect(custom.app.server.keepAliveTimeout).toBe(300);
    expect(custom.app.server.maxConnections).toBeUndefined();
    expect(checkingIntervalMs(custom.config)).toBe(50);
  });

  it('close a connection whose headers never finish, answering invalid_request', async () => {
    const server = await h.start(TIMEOUTS);
    const conn = rawConnect(server.url);
    await conn.connected;
    const started = performance.now();
    conn.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a');
    const answer = await within(conn.response(), 5_000, 'an answer');
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      success: false,
      code: 'invalid_request',
      error: expect.any(String),
      fields: ['request'],
    });
    await within(conn.closed, 5_000, 'the close');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('close a connection that dribbles its body a byte at a time', async () => {
    const server = await h.start(TIMEOUTS);
    const conn = rawConnect(server.url);
    await conn.connected;
    conn.socket.write(
      'POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{',
    );
    // The attack: a byte every 20 ms keeps the socket busy, never finishing the body.
    const dribble = setInterval(() => conn.socket.writable && conn.socket.write(' '), 20);
    try {
      const answer = await within(conn.response(), 5_000, 'an answer');
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 'invalid_request', fields: ['request'] });
      await within(conn.closed, 5_000, 'the close');
    } finally {
      clearInterval(dribble);
    }
  });

  it('close an idle keep-alive connection', async () => {
    const server = await h.start({ HERALD_KEEP_ALIVE_TIMEOUT_MS: '100' });
    const conn = rawConnect(server.url);
    await conn.connected;
    conn.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect((await conn.response()).status).toBe(200);
    await within(conn.closed, 5_000, 'the idle close');
  });
});

describe('a request refused before its body is read', () => {
  it('closes the connection at once instead of reading the rest (401)', async () => {
    // The default 30 s request timeout: only the early close can end this within the bound.
    const server = await h.start(AUTH_ENV);
    const conn = rawConnect(server.url);
    await conn.connected;
    conn.socket.write(
      'POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"message":',
    );
    const answer = await within(conn.response(), 5_000, 'an answer');
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ success: false, code: 'unauthorized' });
    expect(answer.headers.connection).toBe('close');
    await within(conn.closed, 3_000, 'the close after 401');
  });

  it('keeps a keep-alive connection whose refused request had no body', async () => {
    const server = await h.start(AUTH_ENV);
    const conn = rawConnect(server.url);
    await conn.connected;
    conn.socket.write('GET /api/sessions/sess_x/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect((await conn.response()).status).toBe(401);
    const before = conn.received().length;
    conn.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const second = await conn.until((t) => t.length > before && t.slice(before).includes('"status":"ok"'));
    expect(second.slice(before)).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe("what Node's HTTP parser refuses", () => {
  const cases: Array<[string, string, number, Record<string, unknown>]> = [
    ['a malformed request line', 'GARBAGE\r\n\r\n', 400, { code: 'invalid_request', fields: ['request'] }],
    [
      'a Content-Length that is not a number',
      'POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-length: abc\r\n\r\n',
      400,
      { code: 'invalid_request', fields: ['content-length'] },
    ],
    [
      'both Content-Length and Transfer-Encoding',
      'POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n',
      400,
      { code: 'invalid_request' },
    ],
    [
      'headers over the size limit',
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      413,
      { code: 'too_large', fields: ['headers'] },
    ],
  ];
  for (const [what, request, status, body] of cases)
    it(`answers the catalogue's body for ${what}, and closes`, async () => {
      const server = await h.start();
      const conn = rawConnect(server.url);
      await conn.connected;
      conn.socket.write(request);
      const answer = await within(conn.response(), 5_000, 'an answer');
      expect(answer.status).toBe(status);
      expect(answer.body).toMatchObject({ success: false, error: expect.any(String), ...body });
      expect(Object.keys(answer.body).sort()).toEqual(
        ['code', 'error', 'success', ...('fields' in answer.body ? ['fields'] : [])].sort(),
      );
      await within(conn.closed, 5_000, 'the close');
    });
});

describe('an aborted upload', () => {
  it('is a debug line about the client, not an internal error', async () => {
    const lines: Array<{ level: number; msg: string; err?: unknown }> = [];
    let seen: (() => void) | undefined;
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) {
          const entry = JSON.parse(line);
          lines.push(entry);
          if (entry.msg === 'client aborted the request' || entry.msg === 'internal error') seen?.();
        }
        done();
      },
    });
    const server = await h.start({}, { logger: { level: 'debug', stream } });
    const conn = rawConnect(server.url);
    await conn.connected;
    const requested = once(server.app.server, 'request');
    conn.socket.write(
      'POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"mess',
    );
    await requested;
    const logged = new Promise<void>((resolve) => {
      seen = resolve;
    });
    conn.socket.destroy();
    await within(logged, 5_000, 'a log line about the abort');
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.find((l) => l.msg === 'client aborted the request')?.level).toBe(20);
  });
});

describe('the connection cap', () => {
  it('closes connections past HERALD_MAX_CONNECTIONS unanswered, and takes new ones once some close', async () => {
    const server = await h.start({ HERALD_MAX_CONNECTIONS: '3' });
    const accepted: Socket[] = [];
    server.app.server.on('connection', (socket: Socket) => accepted.push(socket));
    const held = [rawConnect(server.url), rawConnect(server.url), rawConnect(server.url)];
    for (const conn of held) {
      await conn.connected;
      conn.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      expect((await conn.response()).status).toBe(200);
    }
    const refused = rawConnect(server.url);
    await refused.connected;
    refused.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await within(refused.closed, 5_000, 'the refusal')).toBe('');
    expect(
      await server.app.herald.metrics.registry.getSingleMetricAsString('herald_connections_refused_total'),
    ).toMatch(/herald_connections_refused_total 1$/m);

    // One held connection goes; once the server has seen it go, a new one is served.
    const gone = once(accepted[0]!, 'close');
    held[0]!.socket.destroy();
    await gone;
    const next = rawConnect(server.url);
    await next.connected;
    next.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect((await within(next.response(), 5_000, 'an answer')).status).toBe(200);
    for (const conn of [...held, next]) conn.socket.destroy();
  });
});
