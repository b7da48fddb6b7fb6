/**
 * Herald on HERALD_STORE=redis, one instance (several per Redis come with cross-instance
 * delivery): chat, agent messages over WebSocket and HTTP, acks, idempotent publishing, and a
 * restart that keeps sessions, seqs and unacked messages.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { useHarness } from '../support/harness.js';
import { dropPrefix, newPrefix, REDIS_URL, redisAnswers, requireRedisInCi } from '../support/redis.js';

const hasRedis = await redisAnswers();
requireRedisInCi(hasRedis, 'Herald on Redis');

describe.skipIf(!hasRedis)('Herald on HERALD_STORE=redis', () => {
  const h = useHarness();
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await dropPrefix(p);
  });
  const env = () => {
    const HERALD_REDIS_KEY_PREFIX = newPrefix();
    prefixes.push(HERALD_REDIS_KEY_PREFIX);
    return { HERALD_STORE: 'redis', REDIS_URL, HERALD_REDIS_KEY_PREFIX };
  };

  it('chats, delivers and acks, and keeps everything unacked across a restart', async () => {
    const redisEnv = env();
    const first = await h.start(redisEnv);
    expect((await first.request('GET', '/health')).body).toMatchObject({ status: 'ok', store: 'redis' });

    const chat = await first.request('POST', '/api/chat', {
      body: { message: 'mail me at jane@example.com' },
    });
    expect(chat.status).toBe(200);
    const sessionId: string = chat.body.sessionId;
    expect(chat.body.agent_messages).toHaveLength(1);
    expect(chat.body.agent_messages[0]).toMatchObject({ agentType: 'sanitization', seq: 1 });

    const { client } = await h.connect(`${first.wsUrl}?sessionId=${sessionId}&after=0`);
    const replayed = await client.next((f) => f.type === 'agent_message');
    expect(replayed.message.id).toBe(chat.body.agent_messages[0].id);
    client.send({ type: 'ack', ids: [replayed.message.id] });

    const publish = (content: string) =>
      first.request('POST', '/api/agent-messages', {
        body: {
          target: { sessionId },
          agentType: 'status',
          content,
          source: 'ci',
          deliveryGuarantee: 'at-least-once',
          idempotencyKey: `deploy-${content}`,
        },
      });
    const published = await publish('7');
    expect(published.status).toBe(202);
    expect((await publish('7')).body).toMatchObject({ id: published.body.id, seq: 2 });
    const live = await client.next((f) => f.type === 'agent_message' && f.message.id === published.body.id);
    expect(live.message.seq).toBe(2);
    // A pong says every ack sent before the ping is done.
    client.send({ type: 'ping' });
    await client.type('pong');
    await client.close();
    await first.close();

    const again = await h.start(redisEnv);
    const polled = await again.request('GET', `/api/agent-messages?sessionId=${sessionId}`);
    expect(polled.body.messages.map((m: { seq: number }) => m.seq)).toEqual([2]);
    const next = await again.request('POST', '/api/chat', {
      body: { message: 'and again: jane@example.com', sessionId, ack: [published.body.id] },
    });
    expect(next.body.agent_messages.map((m: { seq: number }) => m.seq)).toEqual([3]);
    const timeline = await again.request('GET', `/api/sessions/${sessionId}/messages`);
    expect(timeline.body.messages.map((e: { kind: string }) => e.kind)).toEqual([
      'user',
      'agent_message',
      'reply',
      'agent_message',
      'user',
      'agent_message',
      'reply',
    ]);
  });

  it('admits a keyed, rate-limited publish with one script: nothing is read before it', async () => {
    const redisEnv = env();
    const herald = await h.start(redisEnv);
    const chat = await herald.request('POST', '/api/chat', { body: { message: 'hello' } });
    const sessionId: string = chat.body.sessionId;
    const publish = (key: string) =>
      herald.request('POST', '/api/agent-messages', {
        body: {
          target: { sessionId },
          agentType: 'status',
          content: 'step',
          source: 'ci',
          idempotencyKey: key,
        },
      });
    expect((await publish('warm')).status).toBe(202);
    // /health pings Redis on the Herald's own connection: once it answers, the warm-up's
    // follow-up commands (sent on that connection before it answered) have run.
    expect((await herald.request('GET', '/health')).status).toBe(200);

    // MONITOR shows every command Redis runs, in the order it runs them.
    const monitor = await new Redis(REDIS_URL).monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // Commands a script runs show too, with `lua` as their source: only the clients' count.
      if (source !== 'lua' && args.some((a) => a.startsWith(redisEnv.HERALD_REDIS_KEY_PREFIX)))
        seen.push(args);
    });
    const published = await publish('once');
    expect(published.status).toBe(202);
    expect((await publish('once')).body).toMatchObject({ id: published.body.id });
    // A command after the publishes, on the monitor's view, marks the end of theirs.
    const probe = new Redis(REDIS_URL);
    await probe.get(`${redisEnv.HERALD_REDIS_KEY_PREFIX}end`);
    await vi.waitFor(() => expect(seen.at(-1)?.[1]).toBe(`${redisEnv.HERALD_REDIS_KEY_PREFIX}end`));
    await probe.quit();
    monitor.disconnect();

    // A session lookup may read the session again (each instance trusts its copy for 5 s only,
    // which a loaded machine can outlast): a read of the session's meta, not of the admission.
    const commands = seen.slice(0, -1).filter((args) => args[0]!.toLowerCase() !== 'hmget');
    const names = commands.map((args) => args[0]!.toLowerCase());
    // The first publish (a status: best-effort, so nothing pending): the admission script, then,
    // not waited for, its key's expiry in the purge index, the session's activity in the
    // retention index and the wake-up for other instances. The repeat: the admission script,
    // which answers with the first message, then a read of that message to wake the session
    // again in case the first admission's instance died before its wake-up (nothing here: a
    // best-effort message is not kept).
    expect(names).toEqual(['evalsha', 'zadd', 'zadd', 'publish', 'evalsha', 'evalsha']);
    expect(commands[0]).toContain(`${redisEnv.HERALD_REDIS_KEY_PREFIX}s:{${sessionId}}:rate:status`);
    await herald.close();
  });
});
