/**
 * A live delivery channel: one WebSocket or SSE stream of one session. Transports implement
 * `send` and nothing else; the router owns ordering, attempts, acks, TTL and retries.
 */
import type { AgentMessage } from './types.js';

/**
 * - sent: written (or buffered by the socket) now.
 * - queued: held by the channel until the socket drains; it will be written in order.
 * - shed: not written because the client is slow (best-effort or low priority).
 * - closed: the channel cannot write any more.
 * - deferred: taken, to be delivered later by the channel's own means (an HTTP answer lists the
 *   stored messages when it is written), so not counted as a send now.
 */
export type SendOutcome = 'sent' | 'queued' | 'shed' | 'closed' | 'deferred';

export interface DeliveryChannel {
  readonly id: string;
  readonly sessionId: string;
  /** `http` / `stream`: a /api/chat or /api/chat/stream call in flight, collecting what it answers with. */
  readonly transport: 'ws' | 'sse' | 'http' | 'stream';
  /** True where the client acks on this channel, so an unacked message is sent again after the ack timeout. */
  readonly redeliver: boolean;
  /** Writes one message. `json` is `JSON.stringify(message)`, made once for every channel. */
  send(message: AgentMessage, json: string, attempt: number): SendOutcome;
  /** Drops anything still held for these ids (they were acked): an acked id is never written again. */
  forget?(ids: ReadonlySet<string>): void;
}
