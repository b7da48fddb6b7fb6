/**
 * Herald on HERALD_STORE=redis when Redis goes away and comes back, against a redis-server of
 * the test's own on a free loopback port: while it is down, publishing answers 503
 * `unavailable` with Retry-After (never 500, never a hang) and /health says `degraded` (503);
 * once it is back on the same port (its data saved and loaded again), publishing works again.
 * A Redis that stops answering on an open connection (SIGSTOP) is the same, after the client's
 * command timeout rather than never.
 * Also, with a store that refuses some writes: a chat whose agent messages cannot be admitted
 * still answers, counting them as dropped, and one whose timeline cannot be written answers
 * 503 `unavailable`, not `internal`.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createMemoryStore } from '../../src/store/memory-store.js';
import { StoreUnavailableError } from '../../src/store/shared.js';
import type { Store } from '../../src/store/store.js';
import { freePort } from '../support/free-port.js';
import { useHarness } from '../support/harness.js';
import { newPrefix } from '../support/redis.js';
import type { TestServer } from '../support/server.js';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer && !process.env.CI)
  console.log('no redis-server installed: the Redis outage tests skipped');

/** A throwaway redis-server: no save points, no AOF; its data goes to `dir` only on SHUTDOWN SAVE. */
class TestRedis {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it and resolves once it accepts connections (its log says so), or rejects with its output. */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
      child.once('error', reject);
    });
    // Keep reading, so a full pipe never blocks it.
    child.stdout!.resume();
    child.stderr!.resume();
  }

  /** SHUTDOWN SAVE: its data is written to `dir`, so the next start loads it. Resolves once it exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    const admin = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    admin.on('error', () => {});
    await admin.connect();
    // The server closes the connection instead of answering.
    await admin.call('SHUTDOWN', 'SAVE').catch(() => undefined);
    admin.disconnect();
    await exited;
  }

  /** SIGSTOP: it keeps its connections but answers nothing (a hung or unreachable Redis). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT: it answers again. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Ends it without saving (cleanup). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

/** Asks /health until it answers `status` (bounded: the client notices a closed connection or reconnects within it). */
async function healthBecomes(server: TestServer, status: 'ok' | 'degraded') {
  for (let i = 0; i < 500; i++) {
    const health = await server.request('GET', '/health');
    if (health.body.status === status) return health;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`/health never said ${status}`);
}

describe.skipIf(!hasRedisServer)('Herald on Redis while Redis is away', () => {
  const h = useHarness();
  let redis: TestRedis | undefined;
  let dir: string | undefined;
  /** A redis-server of this test's own on a free port, and a Herald on it. */
  const startOnOwnRedis = async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-redis-outage-'));
    const own = new TestRedis(await freePort(), dir);
    redis = own;
    await own.start();
    const server = await h.start({
      HERALD_STORE: 'redis',
      REDIS_URL: own.url,
      HERALD_REDIS_KEY_PREFIX: newPrefix(),
    });
    return { server, redis: own };
  };

  afterEach(async () => {
    await redis?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
    redis = undefined;
    dir = undefined;
  });

  it('answers 503 unavailable and degraded health while Redis is down, and works again once it is back', async () => {
    const { server, redis } = await startOnOwnRedis();
    const chat = await server.request('POST', '/api/chat', { body: { message: 'hello' } });
    expect(chat.status).toBe(200);
    const sessionId: string = chat.body.sessionId;
    const publish = (content: string, target: object = { sessionId }) =>
      server.request('POST', '/api/agent-messages', {
        body: { target, agentType: 'status', content, source: 'ci', deliveryGuarantee: 'at-least-once' },
      });
    const before = await publish('before');
    expect(before.status).toBe(202);
    expect(before.body.seq).toBe(1);
    expect((await server.request('GET', '/health')).status).toBe(200);
    const { client } = await h.connect(`${server.wsUrl}?sessionId=${sessionId}`);

    await redis.stop();
    const degraded = await healthBecomes(server, 'degraded');
    expect(degraded.status).toBe(503);
    expect(degraded.headers.get('retry-after')).toBe('5');
    expect(degraded.body).toMatchObject({ status: 'degraded', store: 'redis', agentMessages: 'on' });
    expect(await server.request('GET', '/health/ready')).toMatchObject({
      status: 503,
      body: { status: 'not_ready', reason: 'store_unavailable' },
    });
    expect((await server.request('GET', '/health/live')).status).toBe(200);

    const refused = await publish('during');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ success: false, code: 'unavailable', retryAfter: 5 });
    expect(refused.headers.get('retry-after')).toBe('5');
    // A user target, a poll and a chat: the same clear answer, never `internal`.
    const toUser = await publish('during', { userId: 'anonymous' });
    expect(toUser.status).toBe(503);
    expect(toUser.body.code).toBe('unavailable');
    const poll = await server.request('GET', `/api/agent-messages?sessionId=${sessionId}`);
    expect(poll.status).toBe(503);
    expect(poll.body.code).toBe('unavailable');
    const chatDown = await server.request('POST', '/api/chat', { body: { message: 'hi', sessionId } });
    expect(chatDown.status).toBe(503);
    expect(chatDown.body.code).toBe('unavailable');
    client.send({ type: 'chat', id: 'm_down', message: 'hi' });
    const frame = await client.next((f) => f.type === 'error');
    expect(frame).toMatchObject({ code: 'unavailable', replyTo: 'm_down', retryAfter: 5 });
    // A new socket that needs a new session: told why, and closed with "try again later".
    const fresh = new WebSocket(server.wsUrl);
    const frames: Array<{ type: string; code?: string }> = [];
    fresh.on('message', (raw) => frames.push(JSON.parse(raw.toString())));
    const [closeCode] = (await once(fresh, 'close')) as [number];
    expect(frames).toMatchObject([{ type: 'error', code: 'unavailable' }]);
    expect(closeCode).toBe(1013);

    await redis.start();
    const healthy = await healthBecomes(server, 'ok');
    expect(healthy.status).toBe(200);
    expect(healthy.headers.get('retry-after')).toBeNull();
    const after = await publish('after');
    expect(after.status).toBe(202);
    // Nothing refused was kept: the seq goes on from the last one admitted.
    expect(after.body.seq).toBe(2);
    const polled = await server.request('GET', `/api/agent-messages?sessionId=${sessionId}`);
    expect(polled.body.messages.map((m: { content: string }) => m.content)).toEqual(['before', 'after']);
    await server.close();
  });

  it('answers 503 unavailable, not a hang, when Redis stops answering on an open connection', async () => {
    const { server, redis } = await startOnOwnRedis();
    const chat = await server.request('POST', '/api/chat', { body: { message: 'hello' } });
    const sessionId: string = chat.body.sessionId;
    const publish = (content: string) =>
      server.request('POST', '/api/agent-messages', {
        body: {
          target: { sessionId },
          agentType: 'status',
          content,
          source: 'ci',
          deliveryGuarantee: 'at-least-once',
          idempotencyKey: `stall-${content}`,
        },
      });

    redis.pause();
    const health = await server.request('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('degraded');
    const startedAt = Date.now();
    const refused = await publish('stalled');
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('unavailable');
    // The client's command timeout (5 s), not Redis coming back, ended the wait.
    expect(Date.now() - startedAt).toBeLessThan(10_000);

    redis.resume();
    await healthBecomes(server, 'ok');
    const after = await publish('after');
    expect(after.status).toBe(202);
    await server.close();
  });
});

// Under CI, .ci/run installs redis-server: its absence is a failure there, not a skip.
describe.runIf(!hasRedisServer && Boolean(process.env.CI))('Redis outage tests in CI', () => {
  it('has redis-server', () => {
    throw new Error('redis-server is not installed: the Redis outage tests cannot run');
  });
});

describe('a chat when the store refuses some writes', () => {
  const h = useHarness();

  /** A memory store whose chosen writes fail as if Redis were away. */
  function failingStore(fail: { admit?: boolean; timeline?: boolean; ack?: boolean }): Store {
    const store = createMemoryStore();
    return {
      ...store,
      async appendAgentMessage(...args) {
        if (fail.admit) throw new StoreUnavailableError();
        return store.appendAgentMessage(...args);
      },
      async appendTimeline(...args) {
        if (fail.timeline) throw new StoreUnavailableError();
        return store.appendTimeline(...args);
      },
      async ack(...args) {
        if (fail.ack) throw new StoreUnavailableError();
        return store.ack(...args);
      },
    };
  }

  it('still answers with the reply when its agent messages cannot be admitted, and counts them', async () => {
    const server = await h.start({}, { store: failingStore({ admit: true }) });
    const chat = await server.request('POST', '/api/chat', {
      body: { message: 'mail me at jane@example.com' },
    });
    expect(chat.status).toBe(200);
    expect(typeof chat.body.response).toBe('string');
    expect(chat.body.agent_messages ?? []).toEqual([]);
    const metrics = await server.request('GET', '/metrics');
    expect(metrics.body).toMatch(
      /herald_agent_messages_dropped_total\{agentType="sanitization",reason="store_unavailable"\} 1/,
    );
  });

  // The ack sent with a chat runs beside the chat, not before it: when it cannot be written the
  // chat still answers, and what it named is still pending, so it comes again (same id, which
  // the client dedupes) until an ack holds.
  it('still answers a chat whose ack cannot be written, and sends the unacked messages again', async () => {
    const fail = { ack: false };
    const server = await h.start({}, { store: failingStore(fail) });
    const first = await server.request('POST', '/api/chat', {
      body: { message: 'mail me at jane@example.com' },
    });
    const ids = (first.body.agent_messages as Array<{ id: string }>).map((m) => m.id);
    expect(ids).toHaveLength(1);
    const sessionId = first.body.sessionId as string;

    fail.ack = true;
    const second = await server.request('POST', '/api/chat', {
      body: { message: 'hi', sessionId, ack: ids },
    });
    expect(second.status).toBe(200);
    expect(typeof second.body.response).toBe('string');
    expect((second.body.agent_messages as Array<{ id: string }>).map((m) => m.id)).toEqual(ids);

    fail.ack = false;
    const third = await server.request('POST', '/api/chat', { body: { message: 'hi', sessionId, ack: ids } });
    expect(third.status).toBe(200);
    expect(third.body.agent_messages).toEqual([]);
  });

  it("answers 503 unavailable, not internal, when the chat's timeline cannot be written", async () => {
    const server = await h.start({}, { store: failingStore({ timeline: true }) });
    const chat = await server.request('POST', '/api/chat', { body: { message: 'hello' } });
    expect(chat.status).toBe(503);
    expect(chat.body.code).toBe('unavailable');
    expect(chat.headers.get('retry-after')).toBe('5');
  });
});
