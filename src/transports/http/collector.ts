/**
 * An HTTP call in flight as a delivery channel of its session: what is dispatched to the
 * session while the call runs reaches its answer too ("into the HTTP response being built",
 * docs/protocol.md, section 4), best-effort messages included. Used by /api/chat and /api/chat/stream.
 */
import type { FastifyInstance } from 'fastify';
import type { DeliveryChannel, SendOutcome } from '../../agent-messages/channel.js';
import type { AgentMessage } from '../../agent-messages/types.js';
import { newId } from '../../ids.js';

/**
 * Attaches `onMessage` to the session for as long as the call runs; `afterSeq` replays the
 * stored unacked messages after it first. Returns the detach function (a no-op when agent
 * messages are off).
 */
export async function collect(
  app: FastifyInstance,
  sessionId: string,
  /** Returns 'deferred' for a message the answer will list later (and count then). */
  onMessage: (message: AgentMessage) => SendOutcome | undefined,
  options: { transport: 'http' | 'stream'; afterSeq?: number },
): Promise<() => void> {
  const { router } = app.herald;
  if (!router) return () => {};
  const channel: DeliveryChannel = {
    id: newId('http_'),
    sessionId,
    transport: options.transport,
    redeliver: false,
    send(message) {
      return onMessage(message) ?? 'sent';
    },
  };
  return router.attach(channel, options.afterSeq);
}
