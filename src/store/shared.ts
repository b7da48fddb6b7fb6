/**
 * Pieces every store implementation shares: the error for a write to a session the store
 * does not have, and the one place an agent message's `expiresAt` becomes milliseconds.
 */
import type { AgentMessageDraft } from './store.js';

/**
 * A write (timeline entry, agent message, idempotency key) named a session the store does
 * not have. Stores reject with it; reads of an unknown session just find nothing.
 */
export class UnknownSessionError extends Error {
  override name = 'UnknownSessionError';
  readonly code = 'HERALD_STORE_UNKNOWN_SESSION';
  readonly sessionId: string;

  constructor(sessionId: string) {
    super(`unknown session ${sessionId}`);
    this.sessionId = sessionId;
  }
}

/**
 * `draft.expiresAt` in epoch milliseconds. Throws on a date that does not parse: a NaN expiry
 * would never be listed (NaN > now is false) nor purged (NaN <= now is false), a silent leak.
 */
export function expiresAtMs(draft: AgentMessageDraft): number {
  const ms = Date.parse(draft.expiresAt);
  if (!Number.isFinite(ms)) throw new TypeError(`agent message ${draft.id}: expiresAt is not a date`);
  return ms;
}
