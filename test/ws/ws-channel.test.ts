/** WsChannel on a stand-in socket: merged chunks, order, back-pressure, shared frames. */
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { AgentMessage } from '../../src/agent-messages/types.js';
import { MAX_MERGED_CHUNK, WsChannel } from '../../src/transports/ws/ws-channel.js';

class FakeSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly raw: Array<string | Buffer> = [];
  readonly binary: boolean[] = [];
  private pings: Array<() => void> = [];

  send(data: string | Buffer, options?: { binary?: boolean }): void {
    this.raw.push(data);
    this.binary.push(options?.binary ?? typeof data !== 'string');
  }
  ping(_data: unknown, _mask: unknown, cb: () => void): void {
    this.pings.push(cb);
  }
  /** The socket drained: answers the pings the channel waits on. */
  drain(): void {
    this.bufferedAmount = 0;
    for (const cb of this.pings.splice(0)) cb();
  }
  get frames(): any[] {
    return this.raw.map((d) => JSON.parse(d.toString()));
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

function channel(maxBuffered = 1024) {
  const socket = new FakeSocket();
  return { socket, ch: new WsChannel(socket as unknown as WebSocket, 'sess_1', maxBuffered) };
}

function message(id: string, overrides: Partial<AgentMessage> = {}): AgentMessage {
  return {
    id,
    role: 'assistant',
    content: `content of ${id}`,
    timestamp: new Date().toISOString(),
    agentType: 'sanitization',
    priority: 'medium',
    ttl: 60_000,
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
    deliveryGuarantee: 'at-least-once',
    source: 'test',
    sessionId: 'sess_1',
    seq: 1,
    ...overrides,
  } as AgentMessage;
}

describe('WsChannel chunks', () => {
  it('writes the chunks of one turn as one frame at the end of the turn', async () => {
    const { socket, ch } = channel();
    ch.sendChunk('Hel', 'm_1');
    ch.sendChunk('lo, ', 'm_1');
    ch.sendChunk('world', 'm_1');
    expect(socket.raw).toEqual([]);
    await turn();
    expect(socket.frames).toEqual([{ type: 'chunk', content: 'Hello, world', replyTo: 'm_1' }]);
    ch.sendChunk('again', 'm_1');
    await turn();
    expect(socket.frames.map((f) => f.content)).toEqual(['Hello, world', 'again']);
  });

  it('sends the pending chunk before any other frame, never merging across it', async () => {
    const { socket, ch } = channel();
    ch.sendChunk('a', 'm_1');
    ch.sendChunk('b', 'm_1');
    ch.send(message('am_1'), JSON.stringify(message('am_1')), 1);
    ch.sendChunk('c', 'm_1');
    ch.sendFrame('{"type":"typing","status":false}');
    ch.sendFrame('{"type":"complete","replyTo":"m_1"}');
    expect(socket.frames.map((f) => f.type)).toEqual([
      'chunk',
      'agent_message',
      'chunk',
      'typing',
      'complete',
    ]);
    expect(socket.frames[0].content).toBe('ab');
    expect(socket.frames[2].content).toBe('c');
    await turn();
    expect(socket.raw).toHaveLength(5);
  });

  it('starts a new frame for another replyTo and past MAX_MERGED_CHUNK', async () => {
    const { socket, ch } = channel();
    ch.sendChunk('one', 'm_1');
    ch.sendChunk('two', 'm_2');
    const big = 'x'.repeat(MAX_MERGED_CHUNK / 4);
    for (let i = 0; i < 10; i++) ch.sendChunk(big, 'm_2');
    await turn();
    const frames = socket.frames;
    expect(frames[0]).toEqual({ type: 'chunk', content: 'one', replyTo: 'm_1' });
    expect(frames.slice(1).every((f) => f.replyTo === 'm_2')).toBe(true);
    expect(frames.slice(1).every((f) => f.content.length <= MAX_MERGED_CHUNK)).toBe(true);
    expect(frames.slice(1).length).toBeGreaterThanOrEqual(3);
    expect(
      frames
        .slice(1)
        .map((f) => f.content)
        .join(''),
    ).toBe(`two${big.repeat(10)}`);
  });

  it('writes nothing on a closed socket', async () => {
    const { socket, ch } = channel();
    ch.sendChunk('a', 'm_1');
    socket.readyState = 3;
    await turn();
    ch.sendChunk('b', 'm_1');
    await turn();
    expect(socket.raw).toEqual([]);
  });

  it('holds a chunk behind a held message and writes both in order once the socket drains', async () => {
    const { socket, ch } = channel(1024);
    socket.bufferedAmount = 10_000;
    ch.sendChunk('before', 'm_1');
    const held = message('am_held');
    expect(ch.send(held, JSON.stringify(held), 1)).toBe('queued');
    const low = message('am_low', { priority: 'low', deliveryGuarantee: 'best-effort' });
    expect(ch.send(low, JSON.stringify(low), 1)).toBe('shed');
    ch.sendChunk('after', 'm_1');
    await turn();
    // `before` left first (chunks are never held on their own); `after` waits behind the message.
    expect(socket.frames.map((f) => f.content)).toEqual(['before']);
    socket.drain();
    expect(socket.frames.map((f) => f.type)).toEqual(['chunk', 'agent_message', 'chunk']);
    expect(socket.frames[2].content).toBe('after');
    expect(socket.binary.every((b) => b === false)).toBe(true);
  });

  it('lets drained() wait for what is held, and writes a pending chunk first', async () => {
    const { socket, ch } = channel(1024);
    ch.sendChunk('last words', 'm_1');
    await ch.drained(1_000);
    expect(socket.frames).toEqual([{ type: 'chunk', content: 'last words', replyTo: 'm_1' }]);
    socket.bufferedAmount = 10_000;
    const held = message('am_held');
    ch.send(held, JSON.stringify(held), 1);
    let done = false;
    const drained = ch.drained(10_000).then(() => {
      done = true;
    });
    await turn();
    expect(done).toBe(false);
    socket.drain();
    await drained;
    expect(socket.frames.map((f) => f.type)).toEqual(['chunk', 'agent_message']);
  });

  it('never writes a held message acked meanwhile, and sends straight again once nothing is held', () => {
    const { socket, ch } = channel(1024);
    socket.bufferedAmount = 10_000;
    const a = message('am_a');
    ch.send(a, JSON.stringify(a), 1);
    ch.forget(new Set(['am_a']));
    socket.bufferedAmount = 0;
    const b = message('am_b', { seq: 2 });
    expect(ch.send(b, JSON.stringify(b), 1)).toBe('sent');
    socket.drain();
    expect(socket.frames.map((f) => f.message.id)).toEqual(['am_b']);
  });
});

describe('WsChannel turns', () => {
  class FakeTcp {
    corked = 0;
    flushes = 0;
    constructor(private readonly socket: FakeSocket) {}
    cork(): void {
      this.corked++;
    }
    uncork(): void {
      this.corked--;
      // The kernel takes everything written so far.
      if (this.corked === 0) {
        this.flushes++;
        this.socket.bufferedAmount = 0;
      }
    }
  }

  it('corks the socket for the rest of the turn it writes in, and uncorks it once', async () => {
    const socket = new FakeSocket();
    const tcp = new FakeTcp(socket);
    const ch = new WsChannel(socket as unknown as WebSocket, 'sess_1', 1 << 20, tcp);
    for (let i = 0; i < 5; i++) {
      const m = message(`am_${i}`, { seq: i + 1 });
      ch.send(m, JSON.stringify(m), 1);
    }
    ch.sendChunk('text', 'm_1');
    ch.sendFrame('{"type":"pong"}');
    expect(tcp.corked).toBe(1);
    expect(tcp.flushes).toBe(0);
    await turn();
    expect(tcp.corked).toBe(0);
    expect(tcp.flushes).toBe(1);
    expect(socket.frames.map((f) => f.type)).toEqual([...Array(5).fill('agent_message'), 'chunk', 'pong']);
  });

  it('hands corked bytes to the kernel mid-turn past a quarter of the bound', async () => {
    const socket = new FakeSocket();
    const tcp = new FakeTcp(socket);
    const ch = new WsChannel(socket as unknown as WebSocket, 'sess_1', 4096, tcp);
    const m = message('am_big', { content: 'x'.repeat(2000) });
    // The stand-in socket counts bytes as ws would while they are corked.
    socket.bufferedAmount = 1500;
    ch.send(m, JSON.stringify(m), 1);
    expect(tcp.flushes).toBe(1);
    expect(tcp.corked).toBe(1);
    expect(socket.bufferedAmount).toBe(0);
    await turn();
    expect(tcp.corked).toBe(0);
  });
});

describe('WsChannel agent_message frames', () => {
  it('encodes a first send once for every channel and writes it as a text frame', () => {
    const sockets = [channel(), channel(), channel()];
    const m = message('am_shared');
    const json = JSON.stringify(m);
    for (const { ch } of sockets) expect(ch.send(m, json, 1)).toBe('sent');
    const [first] = sockets[0]!.socket.raw;
    expect(Buffer.isBuffer(first)).toBe(true);
    for (const { socket } of sockets) {
      expect(socket.raw[0]).toBe(first);
      expect(socket.binary).toEqual([false]);
    }
    expect(sockets[0]!.socket.frames[0]).toEqual({ type: 'agent_message', message: m, attempt: 1 });
  });

  it('builds redeliveries and other messages on their own', () => {
    const { socket, ch } = channel();
    const m = message('am_1');
    const other = message('am_2', { seq: 2 });
    ch.send(m, JSON.stringify(m), 1);
    ch.send(other, JSON.stringify(other), 1);
    ch.send(m, JSON.stringify(m), 2);
    expect(socket.frames.map((f) => [f.message.id, f.attempt])).toEqual([
      ['am_1', 1],
      ['am_2', 1],
      ['am_1', 2],
    ]);
  });
});
