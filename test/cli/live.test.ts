/**
 * The `herald` command against a running Herald: a key from `keys create` and a token from
 * `token` authenticate, `publish` then `tail` sees the message (plain when stdout is not a
 * terminal, coloured with FORCE_COLOR, acking only with --ack), refusals exit 1, and
 * `herald serve` runs Herald with flags over the environment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';
import { closedPort, herald, spawnHerald } from './cli-process.js';

const h = useHarness();

/** A session of alice's, made by a chat. */
async function aliceSession(server: TestServer): Promise<string> {
  const res = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'hello' } });
  expect(res.status).toBe(200);
  return res.body.sessionId;
}

async function pending(server: TestServer, sessionId: string): Promise<string[]> {
  const res = await server.request('GET', `/api/agent-messages?sessionId=${sessionId}`, {
    token: KEYS.alice,
  });
  expect(res.status).toBe(200);
  return res.body.messages.map((m: { id: string }) => m.id);
}

describe('herald against a running Herald', () => {
  it('a key from keys create authenticates once its entry is configured, with its scopes', async () => {
    const made = await herald(['keys', 'create', '--sub', 'carol', '--scopes', 'chat,agent:publish']);
    expect(made.code).toBe(0);
    const [key, entry] = made.stdout.trim().split('\n') as [string, string];
    const server = await h.start({ HERALD_API_KEYS: `[${entry}]` });

    const chat = await server.request('POST', '/api/chat', { token: key, body: { message: 'hi' } });
    expect(chat.status).toBe(200);
    const other = await server.request('POST', '/api/chat', { token: `${key}x`, body: { message: 'hi' } });
    expect(other.status).toBe(401);

    const published = await herald(
      ['publish', '--url', server.url, '--session', chat.body.sessionId, '--type', 'status', 'from carol'],
      { HERALD_API_KEY: key },
    );
    expect(published.stderr).toBe('');
    expect(published.code).toBe(0);
    expect(JSON.parse(published.stdout)).toMatchObject({ sessionIds: [chat.body.sessionId] });
  });

  it('a token from herald token authenticates, with its scopes', async () => {
    const server = await h.start(AUTH_ENV);
    const env = { HERALD_JWT_SECRET: AUTH_ENV.HERALD_JWT_SECRET };
    const [chatToken, publishToken] = await Promise.all([
      herald(['token', '--sub', 'dave', '--scopes', 'chat', '--ttl', '5m'], env),
      herald(['token', '--sub', 'ci', '--scopes', 'agent:publish'], env),
    ]);
    const token = chatToken.stdout.trim();
    const chat = await server.request('POST', '/api/chat', { token, body: { message: 'hi' } });
    expect(chat.status).toBe(200);

    const [refused, published] = await Promise.all([
      herald([
        'publish',
        '--url',
        server.url,
        '--token',
        token,
        '--session',
        chat.body.sessionId,
        '--type',
        'status',
        'x',
      ]),
      herald([
        'publish',
        '--url',
        server.url,
        '--token',
        publishToken.stdout.trim(),
        '--session',
        chat.body.sessionId,
        '--type',
        'status',
        'x',
      ]),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('HTTP 403 forbidden');
    expect(published.code).toBe(0);
  });

  it('publish then tail: the message appears as one plain line, nothing is acked, Ctrl-C exits 0', async () => {
    const server = await h.start(AUTH_ENV);
    const sessionId = await aliceSession(server);
    const tail = spawnHerald(['tail', '--url', server.url, '--session', sessionId], {
      HERALD_API_KEY: KEYS.alice,
    });
    await tail.waitFor('stderr', /following sess_/);

    const published = await herald(
      [
        'publish',
        '--url',
        server.url,
        '--session',
        sessionId,
        '--type',
        'security',
        '--source',
        'scanner',
        '--ttl',
        '10m',
        '--idempotency-key',
        'scan-1',
        'Token leaked\nin build 812',
      ],
      { HERALD_API_KEY: KEYS.publisher },
    );
    expect(published.code).toBe(0);
    const answer = JSON.parse(published.stdout);
    const [line] = await tail.waitFor('stdout', /^.*Token leaked.*$/m);
    expect(line).toMatch(
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d #${answer.seq} security high +Token leaked ↵ in build 812$`),
    );
    expect(tail.stdout).not.toContain('\x1b');

    // A best-effort status published while tail follows arrives live.
    const status = await herald(
      [
        'publish',
        '--url',
        server.url,
        '--session',
        sessionId,
        '--type',
        'status',
        '--priority',
        'low',
        'deploying',
      ],
      { HERALD_API_KEY: KEYS.publisher },
    );
    expect(status.code).toBe(0);
    await tail.waitFor('stdout', /status low +deploying$/m);

    // To every session of a user, the text from stdin.
    const toUser = await herald(
      [
        'publish',
        '--url',
        server.url,
        '--user',
        'alice',
        '--type',
        'status',
        '--guarantee',
        'at-least-once',
        '-',
      ],
      { HERALD_API_KEY: KEYS.publisher },
      'from stdin\n',
    );
    expect(toUser.code).toBe(0);
    expect(JSON.parse(toUser.stdout).sessionIds).toEqual([sessionId]);
    await tail.waitFor('stdout', /status low +from stdin$/m);

    tail.kill('SIGINT');
    expect((await tail.exited).code).toBe(0);
    expect((await pending(server, sessionId))[0]).toBe(answer.id);
  }, 30_000);

  it('tail --ack --count 1 replays a pending message coloured by type, acks it and exits 0', async () => {
    const server = await h.start(AUTH_ENV);
    const sessionId = await aliceSession(server);
    const published = await herald(
      ['publish', '--url', server.url, '--session', sessionId, '--type', 'error', 'model down'],
      { HERALD_API_KEY: KEYS.publisher },
    );
    expect(published.code).toBe(0);
    const { id } = JSON.parse(published.stdout);
    expect(await pending(server, sessionId)).toEqual([id]);

    const tail = await herald(
      ['tail', '--url', server.url, '--session', sessionId, '--ack', '--count', '1'],
      {
        HERALD_API_KEY: KEYS.alice,
        FORCE_COLOR: '1',
      },
    );
    expect(tail.code).toBe(0);
    expect(tail.stdout).toMatch(/^\x1b\[31m\d\d:\d\d:\d\d #\d+ error critical +model down\x1b\[0m\n$/);
    expect(await pending(server, sessionId)).toEqual([]);

    const second = await herald(
      ['publish', '--url', server.url, '--session', sessionId, '--type', 'security', 'second'],
      { HERALD_API_KEY: KEYS.publisher },
    );
    const json = await herald(
      ['tail', '--url', server.url, '--session', sessionId, '--json', '--count', '1'],
      {
        HERALD_API_KEY: KEYS.alice,
        FORCE_COLOR: '1',
      },
    );
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: JSON.parse(second.stdout).id, content: 'second' });
  }, 30_000);

  it('refusals and an unreachable Herald exit 1 naming the reason', async () => {
    const server = await h.start(AUTH_ENV);
    const sessionId = await aliceSession(server);
    const port = await closedPort();
    const [scope, unknown, unreachable, foreign, noKey] = await Promise.all([
      herald(['publish', '--url', server.url, '--session', sessionId, '--type', 'status', 'x'], {
        HERALD_API_KEY: KEYS.alice,
      }),
      herald(['publish', '--url', server.url, '--session', 'sess_nope', '--type', 'status', 'x'], {
        HERALD_API_KEY: KEYS.publisher,
      }),
      herald([
        'publish',
        '--url',
        `http://127.0.0.1:${port}`,
        '--session',
        sessionId,
        '--type',
        'status',
        'x',
      ]),
      herald(['tail', '--url', server.url, '--session', sessionId], { HERALD_API_KEY: KEYS.bob }),
      herald(['tail', '--url', server.url, '--session', sessionId]),
    ]);
    expect(scope.code).toBe(1);
    expect(scope.stderr).toContain('HTTP 403 forbidden');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('HTTP 404 session_not_found');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`cannot reach http://127.0.0.1:${port}`);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('HTTP 404 session_not_found');
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('HTTP 401 unauthorized');
  }, 30_000);

  it('serve runs Herald with flags over the environment and stops on SIGTERM with 0', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-cli-serve-'));
    try {
      const serve = spawnHerald(['serve', '--port', '0', '--store', 'memory', '--data-dir', dataDir], {
        PORT: 'not-a-port',
        HERALD_STORE: 'mongo',
      });
      const [, url] = await serve.waitFor('stdout', /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
      const health = await fetch(`${url}/health`);
      expect(await health.json()).toMatchObject({ status: 'ok', store: 'memory' });
      serve.kill('SIGTERM');
      expect((await serve.exited).code).toBe(0);

      const bad = await herald(['serve', '--store', 'mongo', '--port', '0']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('HERALD_STORE');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('tail survives a restart of Herald: it reconnects with Last-Event-ID and prints nothing twice', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-cli-restart-'));
    try {
      const args = ['serve', '--port', '0', '--store', 'sqlite', '--data-dir', dataDir];
      const first = spawnHerald(args);
      const [, url] = await first.waitFor('stdout', /Server listening at (http:\/\/127\.0\.0\.1:(\d+))/);
      const chat = await fetch(`${url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hello' }),
      });
      const { sessionId } = (await chat.json()) as { sessionId: string };
      const publish = (text: string) =>
        herald(['publish', '--url', url!, '--session', sessionId, '--type', 'security', text]);

      expect((await publish('before the restart')).code).toBe(0);
      const tail = spawnHerald(['tail', '--url', url!, '--session', sessionId]);
      await tail.waitFor('stdout', /#\d+ security high +before the restart$/m);

      first.kill('SIGTERM');
      expect((await first.exited).code).toBe(0);
      await tail.waitFor('stderr', /stream ended; reconnecting/);
      const second = spawnHerald([...args.slice(0, 2), new URL(url!).port, ...args.slice(3)]);
      await second.waitFor('stdout', /Server listening at/);
      await tail.waitFor('stderr', /reconnected/);

      expect((await publish('after the restart')).code).toBe(0);
      await tail.waitFor('stdout', /#\d+ security high +after the restart$/m);
      expect(tail.stdout.match(/before the restart/g)).toHaveLength(1);
      tail.kill('SIGTERM');
      expect((await tail.exited).code).toBe(0);
      second.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
