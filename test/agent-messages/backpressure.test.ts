/** Back-pressure on a real socket whose reader stopped reading. */
import http from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/agent-messages/schema.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();

const BIG = 'x'.repeat(16_000);

describe('back-pressure', () => {
  it('sheds low and best-effort messages on a stuck socket, queues stored ones in order, and never delays another user', async () => {
    const server = await h.start({
      ...AUTH_ENV,
      HERALD_WS_MAX_BUFFERED_BYTES: '65536',
      HERALD_AGENT_RATE_LIMITS: '{"status":0,"sanitization":0}',
    });
    const router = server.app.herald.router!;
    const alice = await h.connect(server.wsUrl, { token: KEYS.alice });
    const sessionId = alice.ready.sessionId;
    // The reader stops reading: the kernel buffers fill, then ws starts buffering.
    const tcp = (alice.client.socket as unknown as { _socket: Socket })._socket;
    tcp.pause();

    const metric = async () => {
      const text = await server.app.herald.metrics.registry.getSingleMetricAsString(
        'herald_agent_messages_dropped_total',
      );
      return Number(/reason="backpressure"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    let shed = 0;
    for (let i = 0; i < 3000 && shed === 0; i++) {
      await router.publish(sessionId, withDefaults({ agentType: 'status', content: BIG, source: 'test' }));
      if (i % 20 === 19) shed = await metric();
    }
    expect(shed).toBeGreaterThan(0);

    // Stored messages are not shed: they wait for the drain.
    const stored: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await router.publish(
        sessionId,
        withDefaults({ agentType: 'sanitization', content: `stored ${i}`, source: 'test' }),
      );
      if (!r.duplicate) stored.push(r.message.id);
    }

    // A held message acked meanwhile (here over HTTP) is never written; a later one still is.
    const ackedWhileHeld = await router.publish(
      sessionId,
      withDefaults({ agentType: 'sanitization', content: 'acked while held', source: 'test' }),
    );
    const heldId = ackedWhileHeld.duplicate ? '' : ackedWhileHeld.message.id;
    const ack = await server.request('POST', '/api/agent-messages/ack', {
      token: KEYS.alice,
      body: { sessionId, ids: [heldId] },
    });
    expect(ack.body).toEqual({ acked: 1 });
    const after = await router.publish(
      sessionId,
      withDefaults({ agentType: 'sanitization', content: 'after the ack', source: 'test' }),
    );
    if (!after.duplicate) stored.push(after.message.id);

    // Alice chats while her socket is stuck: the reply waits behind the summary held for it.
    alice.client.send({ type: 'chat', id: 'm_alice', message: 'mail me at held@example.com' });

    // Bob's chat is answered while alice's socket is stuck.
    const bob = await h.connect(server.wsUrl, { token: KEYS.bob });
    bob.client.send({ type: 'chat', id: 'm_bob', message: 'am I blocked?' });
    expect(await bob.client.type('complete')).toMatchObject({ replyTo: 'm_bob' });

    // Alice's reply is made (her chat went through) while nothing of it can reach her yet.
    let timeline: Array<{ kind: string }> = [];
    for (let i = 0; i < 500 && !timeline.some((e) => e.kind === 'reply'); i++) {
      const res = await server.request('GET', `/api/sessions/${sessionId}/messages`, { token: KEYS.alice });
      timeline = res.body.messages;
    }
    expect(timeline.some((e) => e.kind === 'reply')).toBe(true);

    tcp.resume();
    await alice.client.next((f) => f.type === 'complete' && f.replyTo === 'm_alice');
    const summaryAt = alice.client.frames.findIndex(
      (f) => f.type === 'agent_message' && f.message.correlationId === 'm_alice',
    );
    const chunkAt = alice.client.frames.findIndex((f) => f.type === 'chunk' && f.replyTo === 'm_alice');
    expect(summaryAt).toBeGreaterThan(-1);
    expect(summaryAt).toBeLessThan(chunkAt);
    const last = await alice.client.next((f) => f.type === 'agent_message' && f.message.id === stored[3]);
    expect(last.attempt).toBe(1);
    const storedFrames = alice.client.frames.filter(
      (f) =>
        f.type === 'agent_message' && f.message.source === 'test' && f.message.agentType === 'sanitization',
    );
    expect(storedFrames.map((f) => f.message.id)).toEqual(stored);
    expect(alice.client.frames.some((f) => f.type === 'agent_message' && f.message.id === heldId)).toBe(
      false,
    );
    const seqs = alice.client.frames.filter((f) => f.type === 'agent_message').map((f) => f.message.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(await metric()).toBeGreaterThanOrEqual(shed);
  });
});

describe('back-pressure on SSE', () => {
  it('sheds low messages for a stuck reader and holds stored ones, in order', async () => {
    const server = await h.start({
      ...AUTH_ENV,
      HERALD_WS_MAX_BUFFERED_BYTES: '65536',
      HERALD_AGENT_RATE_LIMITS: '{"security":0,"status":0}',
    });
    const router = server.app.herald.router!;
    const chat = await server.request('POST', '/api/chat', { token: KEYS.alice, body: { message: 'hi' } });
    const sessionId = chat.body.sessionId;

    // A reader that stops reading right after the headers.
    const events: Array<{ id: string; data: any }> = [];
    let buffer = '';
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(`${server.url}/api/agent-messages/stream?sessionId=${sessionId}`, {
        headers: { authorization: `Bearer ${KEYS.alice}` },
      });
      req.on('response', resolve);
      req.on('error', reject);
    });
    res.pause();
    res.socket.pause();
    const waiters: Array<{ id: string; resolve: () => void }> = [];
    res.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data) {
          const message = JSON.parse(data);
          events.push({ id: message.id, data: message });
          for (const w of waiters.filter((w) => w.id === message.id)) w.resolve();
        }
        end = buffer.indexOf('\n\n');
      }
    });
    const arrived = (id: string) =>
      events.some((e) => e.id === id)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ id, resolve }));

    const shedCount = async () => {
      const text = await server.app.herald.metrics.registry.getSingleMetricAsString(
        'herald_agent_messages_dropped_total',
      );
      return Number(/agentType="status",reason="backpressure"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    let shed = 0;
    for (let i = 0; i < 3000 && shed === 0; i++) {
      await router.publish(sessionId, withDefaults({ agentType: 'security', content: BIG, source: 'test' }));
      await router.publish(sessionId, withDefaults({ agentType: 'status', content: 'low', source: 'test' }));
      if (i % 20 === 19) shed = await shedCount();
    }
    expect(shed).toBeGreaterThan(0);

    const last = await router.publish(
      sessionId,
      withDefaults({ agentType: 'security', content: 'last', source: 'test' }),
    );
    const lastId = last.duplicate ? '' : last.message.id;

    res.socket.resume();
    res.resume();
    await arrived(lastId);
    // Every stored message arrived, in seq order; what was shed were low status messages.
    expect(events.filter((e) => e.data.agentType === 'security').length).toBeGreaterThan(1);
    const seqs = events.map((e) => e.data.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    res.destroy();
  });
});
