/** The SSE channel's held queue, frame by frame with no socket (the integration test covers a real one). */
import { describe, expect, it } from 'vitest';
import type { AgentMessage } from '../../src/agent-messages/types.js';
import { SseChannel, type SseSink } from '../../src/transports/sse/sse-channel.js';

function sink() {
  const written: number[] = [];
  let drain: () => void = () => {};
  const s = {
    closed: false,
    buffered: 0,
    event(_data: string, options: { id?: string | number } = {}) {
      written.push(Number(options.id));
      return true;
    },
    onDrain(fn: () => void) {
      drain = fn;
    },
  };
  return { s: s as unknown as SseSink & { buffered: number }, written, drain: () => drain() };
}

const msg = (seq: number, extra: Partial<AgentMessage> = {}): AgentMessage => ({
  id: `am_${seq}`,
  role: 'assistant',
  content: 'x',
  timestamp: new Date().toISOString(),
  agentType: 'security',
  priority: 'high',
  ttl: 60_000,
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
  deliveryGuarantee: 'exactly-once',
  source: 'test',
  sessionId: 'sess_1',
  seq,
  ...extra,
});

describe('SSE channel', () => {
  it('writes at once while the stream keeps up', () => {
    const { s, written } = sink();
    const channel = new SseChannel(s, 'sess_1', 100);
    expect(channel.send(msg(1), '{}')).toBe('sent');
    expect(written).toEqual([1]);
  });

  it('sheds low and best-effort for a slow reader, holds the rest in order, and skips acked and expired ones', () => {
    const { s, written, drain } = sink();
    const channel = new SseChannel(s, 'sess_1', 100);
    s.buffered = 1000;
    expect(channel.send(msg(1, { priority: 'low', deliveryGuarantee: 'at-least-once' }), '{}')).toBe('shed');
    expect(channel.send(msg(2, { deliveryGuarantee: 'best-effort' }), '{}')).toBe('shed');
    expect(channel.send(msg(3), '{}')).toBe('queued');
    expect(channel.send(msg(4), '{}')).toBe('queued');
    expect(channel.send(msg(5, { expiresAt: new Date(Date.now() - 1).toISOString() }), '{}')).toBe('queued');
    expect(channel.send(msg(6), '{}')).toBe('queued');
    // While anything is held, even a fast moment queues behind it.
    s.buffered = 0;
    expect(channel.send(msg(7), '{}')).toBe('queued');
    channel.forget(new Set(['am_4']));
    expect(written).toEqual([]);
    drain();
    expect(written).toEqual([3, 6, 7]);
  });
});
