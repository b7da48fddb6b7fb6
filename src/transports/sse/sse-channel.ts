/**
 * A DeliveryChannel over one SSE stream, with the same back-pressure as a WebSocket: past
 * `maxBuffered` bytes waiting in the response, low and best-effort messages are shed and
 * stored ones wait in order until the response drains; a held message acked or expired in
 * the meantime is never written.
 */
import type { DeliveryChannel, SendOutcome } from '../../agent-messages/channel.js';
import type { AgentMessage } from '../../agent-messages/types.js';
import { newId } from '../../ids.js';
import type { SseWriter } from './sse-writer.js';

/** What the channel needs of an SSE stream. */
export type SseSink = Pick<SseWriter, 'closed' | 'buffered' | 'event' | 'onDrain'>;

export class SseChannel implements DeliveryChannel {
  readonly id = newId('sse_');
  readonly transport = 'sse' as const;
  /** SSE has no ack on the stream: repeats come on reconnect (Last-Event-ID), poll and chat. */
  readonly redeliver = false;
  private waiting: Array<{ id: string; seq: number; expiresAt: number; json: string }> = [];

  constructor(
    private readonly sse: SseSink,
    readonly sessionId: string,
    private readonly maxBuffered: number,
  ) {
    sse.onDrain(() => this.flush());
  }

  send(message: AgentMessage, json: string): SendOutcome {
    if (this.sse.closed) return 'closed';
    if (this.waiting.length > 0 || this.sse.buffered > this.maxBuffered) {
      if (message.deliveryGuarantee === 'best-effort' || message.priority === 'low') return 'shed';
      if (!this.waiting.some((w) => w.id === message.id))
        this.waiting.push({
          id: message.id,
          seq: message.seq,
          expiresAt: Date.parse(message.expiresAt),
          json,
        });
      return 'queued';
    }
    this.write(message.seq, json);
    return 'sent';
  }

  forget(ids: ReadonlySet<string>): void {
    if (this.waiting.length > 0) this.waiting = this.waiting.filter((w) => !ids.has(w.id));
  }

  private flush(): void {
    const now = Date.now();
    while (this.waiting.length > 0 && this.sse.buffered <= this.maxBuffered && !this.sse.closed) {
      const next = this.waiting.shift()!;
      if (next.expiresAt > now) this.write(next.seq, next.json);
    }
  }

  private write(seq: number, json: string): void {
    this.sse.event(json, { event: 'agent_message', id: seq });
  }
}
