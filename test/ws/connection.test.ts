/**
 * The life of one /ws/chat connection: frames sent before `ready` wait for the replay, the
 * upgrade request is not kept, one ping sweep drops only the silent peers, and closing a
 * socket gives back everything it held (gauge, shutdown set, sweep).
 */
import { once } from 'node:events';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/agent-messages/schema.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { advance, fakeTimers } from '../support/fake-clock.js';
import { useHarness } from '../support/harness.js';
import { WsClient } from '../support/ws-client.js';

const h = useHarness();
/** HERALD_WS_PING_INTERVAL_MS's default; the test on fake timers moves time by it. */
const PING_INTERVAL_MS = 30_000;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const openGauge = async (server: Awaited<ReturnType<typeof h.start>>) => {
  const text = await server.app.herald.metrics.registry.getSingleMetricAsString('herald_open_connections');
  return Number(/transport="ws"\} (\d+)/.exec(text)?.[1] ?? 0);
};

describe('a /ws/chat connection', () => {
  it('handles frames sent before `ready` after the replay, in the order they came', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_AGENT_RATE_LIMITS: '{"sanitization":0}' });
    const first = await h.connect(server.wsUrl, { token: KEYS.alice });
    const sessionId = first.ready.sessionId;
    await first.client.close();
    const stored: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await server.app.herald.router!.publish(
        sessionId,
        withDefaults({ agentType: 'sanitization', content: `backlog ${i}`, source: 'test' }),
      );
      if (!r.duplicate) stored.push(r.message.id);
    }

    const client = h.track(new WsClient(`${server.wsUrl}?sessionId=${sessionId}`, { token: KEYS.alice }));
    await client.open();
    // Sent at once, before the session is resolved and the backlog replayed.
    client.send({ type: 'ack', ids: [stored[0]] });
    client.send({ type: 'ping' });
    client.send({ type: 'chat', id: 'm_early', message: 'sent before ready' });
    await client.next((f) => f.type === 'complete' && f.replyTo === 'm_early');

    const kinds = client.frames.map((f) => (f.type === 'agent_message' ? f.message.id : f.type));
    // ready, the replay, then the early frames (the pong after the ack; the chat on its own chain).
    expect(kinds.slice(0, 4)).toEqual(['ready', ...stored]);
    expect(kinds.indexOf('pong')).toBeGreaterThan(3);
    expect(kinds.indexOf('typing')).toBeGreaterThan(3);
    // The early ack was handled after the replay, before the pong: a reconnect no longer gets it.
    await client.close();
    const again = await h.connect(`${server.wsUrl}?sessionId=${sessionId}`, { token: KEYS.alice });
    again.client.send({ type: 'ping' });
    await again.client.type('pong');
    const replayed = again.client.frames.filter((f) => f.type === 'agent_message').map((f) => f.message.id);
    expect(replayed).toEqual(stored.slice(1));
  });

  it('closes with 1003 for a binary frame sent before `ready`, after `ready`', async () => {
    const server = await h.start(AUTH_ENV);
    const client = h.track(new WsClient(server.wsUrl, { token: KEYS.alice }));
    await client.open();
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.closed()).toBe(1003);
    expect(client.frames[0]).toMatchObject({ type: 'ready' });
  });

  it('keeps nothing of the upgrade request once the socket is open', async () => {
    const server = await h.start(AUTH_ENV);
    let request: WeakRef<object> | undefined;
    server.app.websocketServer.once('connection', (_socket: unknown, req: object) => {
      request = new WeakRef(req);
    });
    const { client } = await h.connect(server.wsUrl, { token: KEYS.alice });
    client.send({ type: 'ping' });
    await client.type('pong');
    expect(request).toBeDefined();
    for (let i = 0; i < 10 && request!.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    // The IncomingMessage is gone, so nothing keeps the Fastify request, reply or response
    // (each of them holds it) either.
    expect(request!.deref()).toBeUndefined();
    client.send({ type: 'chat', id: 'm_after', message: 'still works' });
    expect(await client.type('complete')).toMatchObject({ replyTo: 'm_after' });
  });

  it('drops only the peers that miss a ping of the sweep', async () => {
    const server = await h.start(AUTH_ENV);
    fakeTimers();
    const answering = await h.connect(server.wsUrl, { token: KEYS.alice });
    const silent = h.track(new WsClient(server.wsUrl, { token: KEYS.alice, autoPong: false }));
    await silent.open();
    await silent.type('ready');
    const sweep = async () => {
      const pinged = once(answering.client.socket, 'ping');
      await advance(PING_INTERVAL_MS);
      await pinged;
      // The answering peer's pong (sent on the ping, before this frame) has reached the server.
      answering.client.send({ type: 'ping' });
      await answering.client.next((f) => f.type === 'pong', answering.client.frames.length);
    };
    await sweep();
    expect(silent.closeCode).toBeUndefined();
    await sweep();
    expect(await silent.closed()).toBe(1006);
    // The answering peer is still there, sweep after sweep.
    await sweep();
    await sweep();
    expect(answering.client.closeCode).toBeUndefined();
  });

  it('sheds nothing for a reader that keeps up, however much one turn writes', async () => {
    const server = await h.start({
      ...AUTH_ENV,
      HERALD_WS_MAX_BUFFERED_BYTES: '65536',
      HERALD_AGENT_RATE_LIMITS: '{"status":0,"sanitization":0}',
    });
    const { client, ready } = await h.connect(server.wsUrl, { token: KEYS.alice });
    const router = server.app.herald.router!;
    // 200 best-effort messages of 1 KB admitted in one turn: three times the bound in one go.
    const content = 'x'.repeat(1024);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        router.publish(ready.sessionId, withDefaults({ agentType: 'status', content, source: `b${i}` })),
      ),
    );
    // A stored message is never shed: once it is here, everything before it has been decided.
    await router.publish(
      ready.sessionId,
      withDefaults({ agentType: 'sanitization', content: 'end', source: 'end' }),
    );
    await client.next((f) => f.type === 'agent_message' && f.message.source === 'end');
    expect(client.frames.filter((f) => f.type === 'agent_message')).toHaveLength(201);
    const dropped = await server.app.herald.metrics.registry.getSingleMetricAsString(
      'herald_agent_messages_dropped_total',
    );
    expect(dropped).not.toMatch(/reason="backpressure"/);
  });

  it('gives back the gauge and the shutdown entry when a socket closes', async () => {
    const server = await h.start(AUTH_ENV);
    const a = await h.connect(server.wsUrl, { token: KEYS.alice });
    const b = await h.connect(server.wsUrl, { token: KEYS.alice });
    expect(await openGauge(server)).toBe(2);
    expect(server.app.herald.connections.size).toBe(2);
    await a.client.close();
    for (let i = 0; i < 100 && server.app.herald.connections.size > 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(server.app.herald.connections.size).toBe(1);
    expect(await openGauge(server)).toBe(1);
    await b.client.close();
    for (let i = 0; i < 100 && server.app.herald.connections.size > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await openGauge(server)).toBe(0);
  });

  it('does not count a socket refused on connect', async () => {
    const server = await h.start(AUTH_ENV);
    const client = h.track(new WsClient(server.wsUrl));
    await client.open();
    expect(await client.closed()).toBe(1008);
    expect(await openGauge(server)).toBe(0);
    expect(server.app.herald.connections.size).toBe(0);
  });
});

describe('/ws/chat through injectWS', () => {
  it('works without a TCP socket under the WebSocket (no response to detach, nothing to cork)', async () => {
    const server = await h.start(AUTH_ENV);
    const frames: any[] = [];
    let complete!: () => void;
    const completed = new Promise<void>((resolve) => {
      complete = resolve;
    });
    const ws = await server.app.injectWS(
      '/ws/chat',
      { headers: { authorization: `Bearer ${KEYS.alice}` } },
      {
        onInit: (socket) =>
          socket.on('message', (data: Buffer) => {
            const f = JSON.parse(data.toString());
            frames.push(f);
            if (f.type === 'complete') complete();
          }),
      },
    );
    ws.send(JSON.stringify({ type: 'chat', id: 'm_inj', message: 'injected' }));
    await completed;
    expect(frames[0]).toMatchObject({ type: 'ready' });
    expect(
      frames
        .filter((f) => f.type === 'chunk')
        .map((f) => f.content)
        .join(''),
    ).toContain('injected');
    ws.terminate();
  });
});
