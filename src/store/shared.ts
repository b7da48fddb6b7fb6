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

/**
 * Freezes `value` and everything it holds, in place, and returns it: what a store hands out is
 * the caller's to read, never to change, and a mutation fails loudly (a TypeError in strict
 * mode) instead of silently corrupting what the store keeps.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
