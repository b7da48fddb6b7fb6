/**
 * Several Heralds sharing one Redis and key prefix: what is admitted on one reaches the live
 * sockets another holds, in seq order; a session made on one is served by another.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTH_ENV } from '../support/auth.js';
import {
  expectEveryGuaranteeAcross,
  expectSummaryAcrossAndAckedThere,
  expectTicketAcrossOnce,
  publishStatus,
} from '../support/cross-instance.js';
import { useHarness } from '../support/harness.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';
import type { TestServer } from '../support/server.js';

const hasRedis = await redisAnswers();
requireRedisInCi(hasRedis, 'several Heralds on one Redis');

describe.skipIf(!hasRedis)('several Heralds on one Redis', () => {
  const h = useHarness();
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await dropPrefix(p);
  });
  /** `n` Heralds on one fresh key prefix, with `extra` settings for all. */
  const instances = async (n: number, extra: Record<string, string> = {}): Promise<TestServer[]> => {
    const HERALD_REDIS_KEY_PREFIX = newPrefix();
    prefixes.push(HERALD_REDIS_KEY_PREFIX);
    const env = { HERALD_STORE: 'redis', REDIS_URL, HERALD_REDIS_KEY_PREFIX, ...extra };
    const servers = [];
    for (let i = 0; i < n; i++) servers.push(await h.start(env));
    return servers;
  };
  const twoInstances = async (extra: Record<string, string> = {}): Promise<[TestServer, TestServer]> => {
    const [a, b] = await instances(2, extra);
    return [a!, b!];
  };
  /** An at-least-once message admitted straight into `server`'s store: no instance is woken for it. */
  const storeWithoutWakeUp = (server: TestServer, sessionId: string, id: string, content: string) =>
    server.app.herald.store.appendAgentMessage(
      {
        id,
        role: 'assistant',
        content,
        timestamp: new Date().toISOString(),
        agentType: 'status',
        priority: 'medium',
        ttl: 60_000,
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        deliveryGuarantee: 'at-least-once',
        source: 'ci',
        sessionId,
      },
      true,
    );

  it('delivers on A what is published on B, stored and best-effort alike, in seq order', async () => {
    const [a, b] = await twoInstances();
    const { client, ready } = await h.connect(a.wsUrl);
    await expectEveryGuaranteeAcross(b, client, ready.sessionId);
  });

  it("puts an HTTP chat's summary, made on B, on A's socket before B answers; acked on A, it is gone for B", async () => {
    const [a, b] = await twoInstances();
    const { client, ready } = await h.connect(a.wsUrl);
    await expectSummaryAcrossAndAckedThere(b, client, ready.sessionId);
  });

  it('finds what a lost wake-up missed in the store, in seq order, before the next message', async () => {
    const [a, b] = await twoInstances();
    const { client, ready } = await h.connect(a.wsUrl);
    const sessionId: string = ready.sessionId;
    // Admitted straight into the store: no wake-up reaches A for it.
    const lost = await storeWithoutWakeUp(b, sessionId, 'am_01LOSTWAKEUP0000000000000', 'missed');
    const res = await publishStatus(b, sessionId, 'next', 'at-least-once');
    await client.next((f) => f.type === 'agent_message' && f.message.id === res.body.id);
    const seen = client.frames.filter((f) => f.type === 'agent_message').map((f) => f.message.id);
    expect(seen).toEqual([lost.id, res.body.id]);
  });

  it('finds what was published while its subscribing connection was down, once that connection is back', async () => {
    const HERALD_REDIS_KEY_PREFIX = newPrefix();
    prefixes.push(HERALD_REDIS_KEY_PREFIX);
    const env = { HERALD_STORE: 'redis', REDIS_URL, HERALD_REDIS_KEY_PREFIX };
    const [a, b] = [await h.start(env), await h.start(env)];
    const { client, ready } = await h.connect(a.wsUrl);
    const sessionId: string = ready.sessionId;
    const first = await publishStatus(b, sessionId, 'before', 'at-least-once');
    await client.next((f) => f.type === 'agent_message' && f.message.id === first.body.id);
    // Admitted with no wake-up (as if published while the subscription was down), then A's
    // subscribing connection is cut: nothing else is published after it.
    const missed = await storeWithoutWakeUp(
      b,
      sessionId,
      'am_01SUBSCRIBERDOWN000000000',
      'missed while away',
    );
    const admin = new Redis(REDIS_URL);
    try {
      const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
      const ids = list
        .split('\n')
        .filter((line) => line.includes(` name=herald-live@${HERALD_REDIS_KEY_PREFIX} `))
        .map((line) => /\bid=(\d+)/.exec(line)![1]!);
      // A's only: B watches no session, so its connection is not in subscriber mode.
      expect(ids).toHaveLength(1);
      for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
    } finally {
      admin.disconnect();
    }
    const got = await client.next((f) => f.type === 'agent_message' && f.message.id === missed.id);
    expect(got.message.seq).toBe(2);
    // And live wake-ups work again on the new connection.
    const after = await publishStatus(b, sessionId, 'after', 'at-least-once');
    const again = await client.next((f) => f.type === 'agent_message' && f.message.id === after.body.id);
    expect(again.message.seq).toBe(3);
  });

  it('loses nothing when an instance is killed: its client resumes on another with the same ids and seqs', async () => {
    const HERALD_REDIS_KEY_PREFIX = newPrefix();
    prefixes.push(HERALD_REDIS_KEY_PREFIX);
    const env = { HERALD_STORE: 'redis', REDIS_URL, HERALD_REDIS_KEY_PREFIX };
    // A: a real Herald process, to be killed with SIGKILL; C: another instance on the same prefix.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    probe.close();
    await once(probe, 'close');
    const a = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        a.stdout.on('data', (d: Buffer) => d.toString().includes('open development mode') && resolve());
        a.once('exit', (code) => reject(new Error(`A exited early with ${code}`)));
      });
      const c = await h.start(env);
      const { client, ready } = await h.connect(`ws://127.0.0.1:${port}/ws/chat`);
      const sessionId: string = ready.sessionId;
      const sent = [];
      for (const content of ['one', 'two', 'three']) {
        const res = await publishStatus(c, sessionId, content, 'at-least-once');
        sent.push({ id: res.body.id, seq: res.body.seq });
      }
      // Live on A (through the wake-ups), never acked.
      for (const { id } of sent) await client.next((f) => f.type === 'agent_message' && f.message.id === id);
      const exited = once(a, 'exit');
      a.kill('SIGKILL');
      await exited;
      await client.closed();

      const { client: resumed } = await h.connect(`${c.wsUrl}?sessionId=${sessionId}&after=0`);
      for (const { id } of sent) await resumed.next((f) => f.type === 'agent_message' && f.message.id === id);
      const replayed = resumed.frames
        .filter((f) => f.type === 'agent_message')
        .map((f) => ({ id: f.message.id, seq: f.message.seq }));
      expect(replayed).toEqual(sent);
    } finally {
      a.kill('SIGKILL');
    }
  });

  it('opens a socket on B with a ticket made on A, once', async () => {
    const [a, b] = await twoInstances(AUTH_ENV);
    await expectTicketAcrossOnce(h, a, b);
  });

  it("holds a session's agent message rate limit over both instances together", async () => {
    const [a, b] = await twoInstances({ HERALD_AGENT_RATE_LIMITS: '{"status":2}' });
    const chat = await a.request('POST', '/api/chat', { body: { message: 'hi' } });
    const sessionId: string = chat.body.sessionId;
    expect((await publishStatus(a, sessionId, 'one', 'best-effort')).status).toBe(202);
    expect((await publishStatus(b, sessionId, 'two', 'best-effort')).status).toBe(202);
    const refused = await publishStatus(a, sessionId, 'three', 'best-effort');
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate_limited');
    expect((await publishStatus(b, sessionId, 'four', 'best-effort')).status).toBe(429);
  });

  it('stops redelivery on B when a message published on A is acked on C', async () => {
    // One send per connection, then a dead letter: what B does at the ack timeout shows.
    const [a, b, c] = (await instances(3, {
      HERALD_ACK_TIMEOUT_MS: '2000',
      HERALD_MAX_DELIVERY_ATTEMPTS: '1',
    })) as [TestServer, TestServer, TestServer];
    const { client, ready } = await h.connect(b.wsUrl);
    const sessionId: string = ready.sessionId;
    const acked = (await publishStatus(a, sessionId, 'acked on C', 'at-least-once')).body.id;
    const unacked = (await publishStatus(a, sessionId, 'never acked', 'at-least-once')).body.id;
    await client.next((f) => f.type === 'agent_message' && f.message.id === unacked);
    const ack = await c.request('POST', '/api/agent-messages/ack', { body: { sessionId, ids: [acked] } });
    expect(ack.body).toEqual({ acked: 1 });
    // Both timeouts fall due together, the acked one first: once the other is dead-lettered,
    // B has already decided about the acked one.
    const [dead] = await once(b.app.herald.router!.events, 'dead-letter');
    expect(dead.id).toBe(unacked);
    const letters = await b.request('GET', '/api/admin/dead-letters');
    expect(letters.body.deadLetters.map((l: { message: { id: string } }) => l.message.id)).toEqual([unacked]);
    expect(client.frames.filter((f) => f.type === 'agent_message' && f.message.id === acked)).toHaveLength(1);
  });

  it('admits a keyed publish once when A and B get it at the same moment', async () => {
    const [a, b] = await twoInstances();
    const chat = await a.request('POST', '/api/chat', { body: { message: 'hi' } });
    const sessionId: string = chat.body.sessionId;
    const body = {
      target: { sessionId },
      agentType: 'status',
      content: 'Deploy 42 finished',
      source: 'ci',
      idempotencyKey: 'deploy-42',
    };
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).request('POST', '/api/agent-messages', { body })),
    );
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 202]);
    expect(new Set(answers.map((r) => r.body.id)).size).toBe(1);
    const timeline = await b.request('GET', `/api/sessions/${sessionId}/messages`);
    expect(timeline.body.messages.filter((e: { kind: string }) => e.kind === 'agent_message')).toHaveLength(
      1,
    );
  });
});
