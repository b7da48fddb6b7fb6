/**
 * The outbox of one WebSocket and its DeliveryChannel, with back-pressure: past `maxBuffered`
 * bytes waiting in the socket, best-effort and low messages are shed and everything else waits
 * in order until the socket drains. Every frame of the connection goes through here, so a
 * chunk never overtakes the summary held before it. ws.send never blocks, so one slow socket
 * never delays another user.
 *
 * Reply chunks written in one event-loop turn leave as one `chunk` frame (their texts joined,
 * same replyTo) at the end of the turn; any other frame written meanwhile sends the pending
 * chunk first, so merging never reorders anything. Given the TCP socket under the WebSocket,
 * the channel also corks it for the rest of the turn in which it first writes: every frame of
 * that turn (a replayed page, a burst of publishes, typing + chunk + complete) leaves in one
 * write to the kernel instead of one each, in the same order, before the loop waits for I/O.
 *
 * An idle channel allocates nothing beyond itself: the held queue, its waiters and the
 * pending chunk exist only while in use.
 */

import type { Writable } from 'node:stream';
import WebSocket from 'ws';
import type { DeliveryChannel, SendOutcome } from '../../agent-messages/channel.js';
import type { AgentMessage } from '../../agent-messages/types.js';
import { newId } from '../../ids.js';
import { agentMessageBytes, frame } from './frames.js';

/** ws sends a Buffer as a binary frame unless told otherwise; every frame Herald writes is text. */
const TEXT = { binary: false } as const;

/**
 * The most text (UTF-16 code units) merged into one chunk frame: a model that hands over a
 * large burst at once still streams in frames a client can render as they come.
 */
export const MAX_MERGED_CHUNK = 16 * 1024;

/**
 * Bytes a corked socket may gather before they are handed to the kernel mid-turn. Corked bytes
 * count in `bufferedAmount` like bytes the peer has not taken, so the back-pressure bound would
 * otherwise measure how much one turn wrote rather than how slow the reader is; past this many
 * (at most a quarter of the bound) the kernel gets them at once and the bound sees only what it
 * refuses.
 */
const CORK_FLUSH_BYTES = 16 * 1024;

/** What the channel needs of the TCP socket under the WebSocket. */
export type Corkable = Pick<Writable, 'cork' | 'uncork'>;

interface Held {
  /** The agent message id; '' for any other frame. */
  id: string;
  expiresAt: number;
  data: string | Buffer;
}

export class WsChannel implements DeliveryChannel {
  /** Frames held until the socket drains, in order; acked or expired ones are never written. */
  private waiting: Held[] | undefined;
  private draining = false;
  private onEmpty: Array<() => void> | undefined;
  /** The chunk being merged this turn: its replyTo (undefined when none) and text so far. */
  private chunkReplyTo: string | undefined;
  private chunkText = '';
  /** Wrote (or merges a chunk) this turn: the TCP socket is corked until the turn ends. */
  private inTurn = false;
  private channelId: string | undefined;

  constructor(
    private readonly socket: WebSocket,
    readonly sessionId: string,
    private readonly maxBuffered: number,
    /** The TCP socket ws writes to, corked for the rest of a turn; none: every frame is written at once. */
    private readonly tcp?: Corkable,
  ) {}

  get id(): string {
    this.channelId ??= newId('ws_');
    return this.channelId;
  }
  get transport(): 'ws' {
    return 'ws';
  }
  get redeliver(): boolean {
    return true;
  }

  /** Writes a frame that is not an agent message (typing, complete, pong…): never shed, never reordered. */
  sendFrame(data: string): void {
    this.flushChunk();
    this.write(data);
  }

  /**
   * Adds reply text to the chunk frame of this turn. It leaves at the end of the turn (or
   * before any other frame of the connection, or when the replyTo changes or it grows past
   * MAX_MERGED_CHUNK), so chunks are merged only when nothing could have been sent between them.
   */
  sendChunk(content: string, replyTo: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (
      this.chunkReplyTo !== undefined &&
      (this.chunkReplyTo !== replyTo || this.chunkText.length + content.length > MAX_MERGED_CHUNK)
    )
      this.flushChunk();
    if (this.chunkReplyTo === undefined) {
      this.chunkReplyTo = replyTo;
      this.chunkText = content;
      this.joinTurn();
    } else this.chunkText += content;
  }

  /** Writes the chunk being merged, if any, into the outbox now. */
  flushChunk(): void {
    const replyTo = this.chunkReplyTo;
    if (replyTo === undefined) return;
    const content = this.chunkText;
    this.chunkReplyTo = undefined;
    this.chunkText = '';
    this.write(frame({ type: 'chunk', content, replyTo }));
  }

  send(message: AgentMessage, json: string, attempt: number): SendOutcome {
    if (this.socket.readyState !== WebSocket.OPEN) return 'closed';
    this.flushChunk();
    if (this.waiting !== undefined || this.socket.bufferedAmount > this.maxBuffered) {
      if (message.deliveryGuarantee === 'best-effort' || message.priority === 'low') return 'shed';
      const data = agentMessageBytes(message, json, attempt);
      this.waiting ??= [];
      // A redelivery of a message still held replaces it: one copy per id waits.
      const held = this.waiting.find((w) => w.id === message.id);
      if (held) held.data = data;
      else this.waiting.push({ id: message.id, expiresAt: Date.parse(message.expiresAt), data });
      this.scheduleDrain();
      return 'queued';
    }
    this.joinTurn();
    this.socket.send(agentMessageBytes(message, json, attempt), TEXT);
    this.wrote();
    return 'sent';
  }

  /** Resolves once nothing is held any more, or after `timeoutMs` (shutdown lets held frames out first). */
  drained(timeoutMs: number): Promise<void> {
    this.flushChunk();
    if (this.waiting === undefined || this.socket.readyState !== WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.onEmpty ??= [];
      this.onEmpty.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  forget(ids: ReadonlySet<string>): void {
    if (this.waiting === undefined) return;
    const left = this.waiting.filter((w) => !ids.has(w.id));
    // Emptied: new frames go straight out again; the drain under way still wakes `drained`.
    this.waiting = left.length > 0 ? left : undefined;
  }

  /** The ordered path: straight to the socket, or behind what is held. */
  private write(data: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (this.waiting !== undefined) {
      this.waiting.push({ id: '', expiresAt: Number.POSITIVE_INFINITY, data });
      this.scheduleDrain();
      return;
    }
    this.joinTurn();
    this.socket.send(data);
    this.wrote();
  }

  /** The end of a turn this channel wrote in: the merged chunk goes, then the socket is uncorked. */
  endTurn(): void {
    this.flushChunk();
    this.inTurn = false;
    this.tcp?.uncork();
  }

  /** After a write in a turn: past CORK_FLUSH_BYTES waiting, the kernel gets them now. */
  private wrote(): void {
    if (this.tcp && this.socket.bufferedAmount >= Math.min(CORK_FLUSH_BYTES, this.maxBuffered / 4)) {
      this.tcp.uncork();
      this.tcp.cork();
    }
  }

  private joinTurn(): void {
    if (this.inTurn) return;
    this.inTurn = true;
    this.tcp?.cork();
    if (endingTurn.length === 0) setImmediate(endTurn);
    endingTurn.push(this);
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
        this.waiting = undefined;
        return;
      }
      const waiting = this.waiting;
      if (waiting !== undefined) {
        const now = Date.now();
        if (waiting.length > 0) this.joinTurn();
        while (waiting.length > 0 && this.socket.bufferedAmount <= this.maxBuffered) {
          const next = waiting.shift()!;
          if (next.expiresAt <= now) continue;
          this.socket.send(next.data, TEXT);
          this.wrote();
        }
        if (waiting.length > 0) return this.scheduleDrain();
        this.waiting = undefined;
      }
      const wake = this.onEmpty;
      this.onEmpty = undefined;
      for (const w of wake ?? []) w();
    });
  }
}

/**
 * Channels that wrote this turn, ended together by one setImmediate. setImmediate, not a
 * microtask: a model's deltas come from an async iterator a few promise hops apart, so a
 * microtask would end the turn after each delta. The check phase runs once this turn's
 * callbacks and their microtasks are done, before the loop waits for I/O or timers again:
 * nothing is delayed past the turn that produced it.
 */
let endingTurn: WsChannel[] = [];

function endTurn(): void {
  const channels = endingTurn;
  endingTurn = [];
  for (const channel of channels) channel.endTurn();
}
