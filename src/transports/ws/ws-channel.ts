/**
 * The outbox of one WebSocket and its DeliveryChannel, with back-pressure: past `maxBuffered`
 * bytes waiting in the socket, best-effort and low messages are shed and everything else waits
 * in order until the socket drains. Every frame of the connection goes through here, so a
 * chunk never overtakes the summary held before it. ws.send never blocks, so one slow socket
 * never delays another user.
 */

import WebSocket from 'ws';
import type { DeliveryChannel, SendOutcome } from '../../agent-messages/channel.js';
import type { AgentMessage } from '../../agent-messages/types.js';
import { newId } from '../../ids.js';
import { agentMessageFrame } from './frames.js';

export class WsChannel implements DeliveryChannel {
  readonly id = newId('ws_');
  readonly transport = 'ws' as const;
  readonly redeliver = true;
  /** Frames held until the socket drains, in order; acked or expired ones are never written. */
  private waiting: Array<{ id: string; expiresAt: number; data: string }> = [];
  private draining = false;
  private onEmpty: Array<() => void> = [];

  constructor(
    private readonly socket: WebSocket,
    readonly sessionId: string,
    private readonly maxBuffered: number,
  ) {}

  /** Writes a frame that is not an agent message (chunk, typing, pong…): never shed, never reordered. */
  sendFrame(data: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (this.waiting.length > 0) {
      this.waiting.push({ id: '', expiresAt: Number.POSITIVE_INFINITY, data });
      this.scheduleDrain();
      return;
    }
    this.socket.send(data);
  }

  send(message: AgentMessage, json: string, attempt: number): SendOutcome {
    if (this.socket.readyState !== WebSocket.OPEN) return 'closed';
    const data = agentMessageFrame(json, attempt);
    if (this.waiting.length > 0 || this.socket.bufferedAmount > this.maxBuffered) {
      if (message.deliveryGuarantee === 'best-effort' || message.priority === 'low') return 'shed';
      // A redelivery of a message still held replaces it: one copy per id waits.
      const held = this.waiting.find((w) => w.id === message.id);
      if (held) held.data = data;
      else this.waiting.push({ id: message.id, expiresAt: Date.parse(message.expiresAt), data });
      this.scheduleDrain();
      return 'queued';
    }
    this.socket.send(data);
    return 'sent';
  }

  /** Resolves once nothing is held any more, or after `timeoutMs` (shutdown lets held frames out first). */
  drained(timeoutMs: number): Promise<void> {
    if (this.waiting.length === 0 || this.socket.readyState !== WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.onEmpty.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  forget(ids: ReadonlySet<string>): void {
    if (this.waiting.length > 0) this.waiting = this.waiting.filter((w) => !ids.has(w.id));
  }

  /** Writes waiting frames once the socket's buffer is below the bound again. */
  private scheduleDrain(): void {
    if (this.draining) return;
    this.draining = true;
    // A ping's callback fires once everything queued before it is handed to the OS: a drain
    // signal without reaching into ws's private socket. Clients answer pings by themselves.
    this.socket.ping(undefined, undefined, () => {
      this.draining = false;
      if (this.socket.readyState !== WebSocket.OPEN) {
        this.waiting.length = 0;
        return;
      }
      const now = Date.now();
      while (this.waiting.length > 0 && this.socket.bufferedAmount <= this.maxBuffered) {
        const next = this.waiting.shift()!;
        if (next.expiresAt > now) this.socket.send(next.data);
      }
      if (this.waiting.length > 0) this.scheduleDrain();
      else for (const wake of this.onEmpty.splice(0)) wake();
    });
  }
}
