/**
 * herald/client against a real Herald on an ephemeral port, through `ws` in Node: reconnects
 * after the server drops the socket with nothing lost or repeated, exactly-once across a
 * simulated page reload (a new client on the same storage), the HTTP fallback, batched acks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp } from '../../src/app.js';
import {
  type AgentMessage,
  backoffDelay,
  ConnectionState,
  HeraldClient,
  type HeraldClientOptions,
  type HeraldStorage,
  memoryStorage,
  type WebSocketConstructor,
} from '../../src/client/index.js';
import { loadConfig } from '../../src/config/config.js';
import { publish } from '../support/agent-messages.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { dripAgent } from '../support/drip-agent.js';
import { useHarness } from '../support/harness.js';
import type { TestServer } from '../support/server.js';

const h = useHarness();

const CHUNKS = ['One, ', 'two, ', 'three, ', 'four, ', 'five, ', 'six.'];

/**
 * `ws`, recording every frame the client sends (and, with `received`, every frame it gets, before
 * the SDK sees it); `dropAcks` swallows ack frames (a page that died).
 */
function recordingWs(
  sent: Array<{ type: string; ids?: string[]; id?: string }>,
  opts: {
    dropAcks?: boolean;
    dropChat?: string;
    dropPings?: boolean;
    received?: Array<{ type: string; attempt?: number }>;
  } = {},
) {
  return class extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      const { received } = opts;
      if (received) this.on('message', (raw) => received.push(JSON.parse(String(raw))));
    }

    override send(data: string) {
      const frame = JSON.parse(data);
      sent.push(frame);
      if (opts.dropAcks && frame.type === 'ack') return;
      if (frame.type === 'chat' && frame.id === opts.dropChat) return;
      if (opts.dropPings && frame.type === 'ping') return;
      super.send(data);
    }
  } as unknown as WebSocketConstructor;
}

/** A WebSocket that never opens (a proxy that refuses upgrades). */
class NoWebSocket {
  readyState = 3;
  onopen = null;
  onmessage = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  constructor() {
    setTimeout(() => this.onclose?.({ code: 1006, reason: '' }), 1);
  }
  send() {}
  close() {}
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function makeClient(server: TestServer, options: Partial<HeraldClientOptions> = {}) {
  const client = new HeraldClient({
    url: server.url,
    auth: { apiKey: KEYS.alice },
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    storage: memoryStorage(),
    backoff: { baseMs: 20, maxMs: 200 },
    ...options,
  });
  const seen: AgentMessage[] = [];
  const states: string[] = [];
  client.on('agentMessage', (m) => seen.push(m));
  client.on('state', (s) => states.push(s));
  return { client, seen, states };
}

const pending = async (server: TestServer, sessionId: string) =>
  (await server.request('GET', `/api/agent-messages?sessionId=${sessionId}`, { token: KEYS.alice })).body
    .messages as AgentMessage[];

describe('herald/client', () => {
  it('chats: send() resolves with the whole reply, chunks and the summary arrive as events', async () => {
    const server = await h.start(AUTH_ENV);
    const { client, seen } = makeClient(server);
    const chunks: string[] = [];
    client.on('chunk', (c) => chunks.push(c.content));
    await client.connect();
    expect(client.connectionState).toBe(ConnectionState.Connected);
    expect(client.sessionId).toMatch(/^sess_/);
    const reply = await client.send('Hi, I am sam@example.com', { id: 'm_1' });
    expect(reply.replyTo).toBe('m_1');
    expect(reply.text).toBe(chunks.join(''));
    expect(reply.text).not.toContain('sam@example.com');
    expect(seen.map((m) => m.agentType)).toContain('sanitization');
    // The summary was acked (batched) without the application doing anything.
    await until(async () => (await pending(server, client.sessionId!)).length === 0, 'the ack');
    client.close();
    expect(client.connectionState).toBe(ConnectionState.Idle);
  });

  it('reconnects after the server drops the socket and resumes: nothing lost, nothing repeated', async () => {
    const server = await h.start({ ...AUTH_ENV, HERALD_ACK_TIMEOUT_MS: '100' });
    const sent: Array<{ type: string; ids?: string[] }> = [];
    const received: Array<{ type: string; attempt?: number }> = [];
    // Acks held back longer than the ack timeout so the server resends on the same socket
    // (repeats to drop). The server's timer is due first: it is armed before the frame leaves.
    const { client, seen, states } = makeClient(server, {
      WebSocket: recordingWs(sent, { received }),
      ackDelayMs: 400,
      // The first retry after the cut waits 300 ms: time to publish while disconnected.
      backoff: { baseMs: 300, maxMs: 300 },
      random: () => 0.999,
    });
    await client.connect();
    const sessionId = client.sessionId!;
    const ids: string[] = [];
    const put = async (content: string, deliveryGuarantee: string) => {
      const res = await publish(server, { target: { sessionId }, content, deliveryGuarantee });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    };
    await put('one', 'exactly-once');
    await put('two', 'at-least-once');
    await until(() => seen.length === 2, 'two messages');
    // The server resent them (no ack within 100 ms): the application saw each once.
    const resent = () => received.filter((f) => f.type === 'agent_message' && f.attempt! >= 2).length;
    await until(() => resent() >= 2, 'the resends');
    expect(seen.length).toBe(2);

    // The server cuts every socket without a close frame; messages published meanwhile.
    const before = states.length;
    for (const ws of server.app.websocketServer.clients) ws.terminate();
    await until(() => states.slice(before).includes(ConnectionState.Reconnecting), 'the drop');
    await put('three', 'exactly-once');
    await put('four', 'at-least-once');
    await until(() => seen.length === 4, 'four messages');
    expect(states).toContain(ConnectionState.Reconnecting);
    expect(client.connectionState).toBe(ConnectionState.Connected);
    expect(client.sessionId).toBe(sessionId);
    expect(seen.map((m) => m.id)).toEqual(ids);
    expect(seen.map((m) => m.seq)).toEqual([...seen.map((m) => m.seq)].sort((a, b) => a - b));
    await until(async () => (await pending(server, sessionId)).length === 0, 'every ack');
    // A marker published now comes after anything sent before it on the socket: by then every
    // resend has arrived, and none surfaced.
    const marker = await publish(server, { target: { sessionId }, content: 'marker' });
    await until(() => seen.some((m) => m.id === marker.body.id), 'the marker');
    expect(resent()).toBeGreaterThanOrEqual(2);
    expect(seen.map((m) => m.id)).toEqual([...ids, marker.body.id]);
    client.close();
  });

  it('hands an exactly-once message to the application once across a page reload (same storage)', async () => {
    const server = await h.start(AUTH_ENV);
    const storage: HeraldStorage = memoryStorage();
    // The first page gets the message and dies before its ack leaves.
    const sent: Array<{ type: string }> = [];
    const first = makeClient(server, { storage, WebSocket: recordingWs(sent, { dropAcks: true }) });
    await first.client.connect();
    const sessionId = first.client.sessionId!;
    const res = await publish(server, {
      target: { sessionId },
      agentType: 'security',
      content: 'Someone tried your key',
      deliveryGuarantee: 'exactly-once',
    });
    await until(() => first.seen.length === 1, 'the message');
    first.client.close();
    expect(sent.some((f) => f.type === 'ack')).toBe(true);
    expect((await pending(server, sessionId)).map((m) => m.id)).toEqual([res.body.id]);

    // The reloaded page: same storage, so the same session and the seen ids.
    const second = makeClient(server, { storage });
    await second.client.connect();
    expect(second.client.sessionId).toBe(sessionId);
    // Over WebSocket the resume starts after the last seq seen; over HTTP the chat answer
    // carries the still-pending message: both times it is a repeat, dropped, and acked.
    await second.client.send('hello again');
    second.client.close();
    const third = makeClient(server, { storage, transport: 'http' });
    await third.client.connect();
    await third.client.send('and over HTTP');
    expect(third.seen.filter((m) => m.id === res.body.id)).toEqual([]);
    expect(second.seen.filter((m) => m.id === res.body.id)).toEqual([]);
    await until(async () => (await pending(server, sessionId)).length === 0, 'the ack of the repeat');
    third.client.close();

    // A page with empty storage on the same session would have shown it again: the storage did it.
    const control = makeClient(server, { sessionId });
    await publish(server, { target: { sessionId }, content: 'x', deliveryGuarantee: 'exactly-once' });
    await control.client.connect();
    await until(() => control.seen.length >= 1, 'the control');
    control.client.close();
  });

  it('falls back to HTTP (POST /api/chat and polling) when WebSocket never opens', async () => {
    const server = await h.start(AUTH_ENV);
    const { client, seen, states } = makeClient(server, {
      WebSocket: NoWebSocket as unknown as WebSocketConstructor,
      pollIntervalMs: 50,
    });
    await client.connect();
    expect(client.transport).toBe('http');
    expect(client.connectionState).toBe(ConnectionState.Polling);
    expect(states.filter((s) => s === ConnectionState.Reconnecting).length).toBeGreaterThan(0);
    const reply = await client.send('Hello over HTTP, I am sam@example.com');
    expect(reply.text.length).toBeGreaterThan(0);
    const sessionId = client.sessionId!;
    expect(sessionId).toMatch(/^sess_/);
    expect(seen.map((m) => m.agentType)).toEqual(['sanitization']);
    const res = await publish(server, {
      target: { sessionId },
      content: 'polled',
      deliveryGuarantee: 'exactly-once',
    });
    await until(() => seen.some((m) => m.id === res.body.id), 'the polled message');
    await until(async () => (await pending(server, sessionId)).length === 0, 'the acks over HTTP');
    // Polls go on after the acks: a marker published now is seen by a later poll than any that
    // could still have brought the message back.
    const marker = await publish(server, {
      target: { sessionId },
      content: 'marker',
      deliveryGuarantee: 'exactly-once',
    });
    await until(() => seen.some((m) => m.id === marker.body.id), 'the marker');
    expect(seen.filter((m) => m.id === res.body.id).length).toBe(1);
    client.close();
  });

  it('batches acks: many messages, one ack frame', async () => {
    const server = await h.start(AUTH_ENV);
    const sent: Array<{ type: string; ids?: string[] }> = [];
    const { client, seen } = makeClient(server, { WebSocket: recordingWs(sent), ackDelayMs: 1500 });
    await client.connect();
    const sessionId = client.sessionId!;
    const ids = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (
          await publish(server, {
            target: { sessionId },
            content: `n${i}`,
            deliveryGuarantee: 'at-least-once',
          })
        ).body.id,
      );
    await until(() => seen.length === 5, 'five messages');
    await until(() => sent.some((f) => f.type === 'ack'), 'the ack');
    const acks = sent.filter((f) => f.type === 'ack');
    expect(acks.length).toBe(1);
    expect(acks[0]!.ids).toEqual(ids);
    await until(async () => (await pending(server, sessionId)).length === 0, 'acked');
    client.close();
  });

  it('connects with a JWT through a ticket, as a browser must', async () => {
    const server = await h.start(AUTH_ENV);
    const { jwt } = await import('../support/auth.js');
    const token = await jwt('carol', 'chat');
    const calls: string[] = [];
    const { client } = makeClient(server, {
      auth: { jwt: () => token },
      fetch: (input, init) => {
        calls.push(String(input));
        return fetch(input, init);
      },
    });
    await client.connect();
    expect(calls.some((c) => c.endsWith('/api/ws-ticket'))).toBe(true);
    expect((await client.send('hi')).text.length).toBeGreaterThan(0);
    client.close();
  });

  it('resumes a reply cut after its third chunk: the application sees the whole text once, in order', async () => {
    const drip = dripAgent(CHUNKS);
    const server = await h.start(AUTH_ENV, { agent: drip.agent });
    const { client, states } = makeClient(server, {
      backoff: { baseMs: 300, maxMs: 300 },
      random: () => 0.999,
    });
    const chunks: string[] = [];
    client.on('chunk', (c) => {
      chunks.push(c.content);
      if (chunks.length < 3) drip.release(1);
    });
    await client.connect();
    const replies: string[] = [];
    client.on('reply', (r) => replies.push(r.text));
    const reply = client.send('count to six', { id: 'm_count' });
    drip.release(1);
    await until(() => chunks.length === 3, 'three chunks');
    // The server cuts the socket; the model goes on meanwhile.
    const before = states.length;
    for (const ws of server.app.websocketServer.clients) ws.terminate();
    await until(() => states.slice(before).includes(ConnectionState.Reconnecting), 'the drop');
    drip.release(2);
    await until(() => states.slice(before).includes(ConnectionState.Connected), 'the reconnect');
    drip.release(1);
    expect((await reply).text).toBe(CHUNKS.join(''));
    expect(chunks.join('')).toBe(CHUNKS.join(''));
    expect(replies).toEqual([CHUNKS.join('')]);
    expect(states).toContain(ConnectionState.Reconnecting);
    // The timeline holds it whole.
    const timeline = await server.request('GET', `/api/sessions/${client.sessionId}/messages`, {
      token: KEYS.alice,
    });
    expect(timeline.body.messages.find((m: { kind: string }) => m.kind === 'reply')).toMatchObject({
      replyTo: 'm_count',
      text: CHUNKS.join(''),
    });
    client.close();
  });

  it('stops a reply on request, and says interrupted when a cut reply cannot be resumed', async () => {
    const drip = dripAgent(CHUNKS);
    const server = await h.start(AUTH_ENV, { agent: drip.agent });
    const { client } = makeClient(server);
    let got = 0;
    client.on('chunk', () => got++);
    await client.connect();
    const stopped = client.send('stop me', { id: 'm_stop' });
    drip.release(1);
    await until(() => got === 1, 'a chunk');
    client.stop('m_stop');
    expect((await stopped).text).toBe(CHUNKS[0]);

    client.close();

    // A reply the server does not have (it never got the chat, or restarted since): after the
    // reconnect its resume answers not_found, and send() rejects with interrupted.
    const sent: Array<{ type: string; id?: string }> = [];
    const lossy = makeClient(server, { WebSocket: recordingWs(sent, { dropChat: 'm_lost' }) });
    await lossy.client.connect();
    const lost = lossy.client.send('lose me', { id: 'm_lost' });
    await until(() => sent.some((f) => f.type === 'chat'), 'the chat sent');
    for (const ws of server.app.websocketServer.clients) ws.terminate();
    await expect(lost).rejects.toMatchObject({
      code: 'interrupted',
      extra: { replyTo: 'm_lost', partial: '' },
    });
    expect(sent.some((f) => f.type === 'resume_reply')).toBe(true);
    lossy.client.close();
  });

  it('pings a quiet socket and reopens one that stays silent (a dead peer)', async () => {
    const server = await h.start(AUTH_ENV);
    const sent: Array<{ type: string }> = [];
    // A socket whose pings never reach the server, so no pong comes back.
    const { client, states } = makeClient(server, {
      WebSocket: recordingWs(sent, { dropPings: true }),
      pingIntervalMs: 100,
    });
    await client.connect();
    const before = states.length;
    await until(() => sent.some((f) => f.type === 'ping'), 'a ping');
    await until(() => states.slice(before).includes(ConnectionState.Reconnecting), 'the socket given up');
    await until(() => states.at(-1) === ConnectionState.Connected, 'a new socket');
    client.close();
  });

  it('rides through a server restart on the same port and data: nothing lost, nothing repeated', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-client-restart-'));
    const env = { ...AUTH_ENV, HERALD_STORE: 'sqlite' };
    const first = await h.start(env, {}, { dataDir, keepData: true });
    const port = Number(new URL(first.url).port);
    const { client, seen, states } = makeClient(first);
    await client.connect();
    const sessionId = client.sessionId!;
    const one = await publish(first, {
      target: { sessionId },
      content: 'before',
      deliveryGuarantee: 'exactly-once',
    });
    await until(() => seen.length === 1, 'the first message');
    // Unacked when the server goes: the ack waits for the next socket.
    const before = states.length;
    await first.close();
    await until(() => states.slice(before).includes(ConnectionState.Reconnecting), 'the drop');

    // The same Herald again: same port, same SQLite folder.
    const config = loadConfig({ ...env, PORT: String(port), HERALD_DATA_DIR: dataDir });
    const app = await buildApp(config, { logger: false, defaultMetrics: false });
    try {
      await app.listen({ port, host: '127.0.0.1' });
      const second = { ...first, app, config };
      const two = await publish(second, {
        target: { sessionId },
        content: 'after',
        deliveryGuarantee: 'exactly-once',
      });
      await until(() => seen.length === 2, 'the message published after the restart');
      expect(client.sessionId).toBe(sessionId);
      expect(seen.map((m) => m.id)).toEqual([one.body.id, two.body.id]);
      await until(async () => (await pending(second, sessionId)).length === 0, 'every ack');
      const reply = await client.send('still there?');
      expect(reply.text.length).toBeGreaterThan(0);
      expect(seen.map((m) => m.id).filter((id) => id === one.body.id)).toEqual([one.body.id]);
      client.close();
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('uses full jitter: a delay between 0 and the capped ceiling', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0.999)).toBe(499);
    expect(backoffDelay(3, 500, 30_000, () => 0.5)).toBe(2000);
    expect(backoffDelay(20, 500, 30_000, () => 0.5)).toBe(15_000);
    expect(backoffDelay(5, 500, 30_000, () => 0)).toBe(0);
  });
});
