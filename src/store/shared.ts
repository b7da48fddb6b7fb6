/**
 * Pieces every store implementation shares: the error for a write to a session the store
 * does not have, the error for a store that cannot reach its backend, and the one place an
 * agent message's `expiresAt` becomes milliseconds.
 */
import { HeraldError } from '../errors/catalogue.js';
import type { AgentMessageDraft } from './store.js';

/**
 * A write (timeline entry, agent message) named a session the store does not have, perhaps
 * one deleted meanwhile. Stores reject with it; reads of an unknown session just find nothing.
 * It is a HeraldError (`session_not_found`), so every transport answers it as such.
 */
export class UnknownSessionError extends HeraldError {
  override name = 'UnknownSessionError';
  readonly sessionId: string;

  constructor(sessionId: string) {
    super('session_not_found');
    this.sessionId = sessionId;
  }
}

/** Seconds a client is told to wait (Retry-After) when the store cannot be reached. */
export const STORE_RETRY_AFTER_S = 5;

/**
 * The store cannot reach its backend (Redis down, unreachable, still loading): nothing was
 * kept, and a retry later may succeed. It is a HeraldError (`unavailable`, with Retry-After),
 * so every transport answers it as such: HTTP 503, an `unavailable` WebSocket error frame or
 * SSE error, never `internal`. Its message never names the backend's address.
 */
export class StoreUnavailableError extends HeraldError {
  override name = 'StoreUnavailableError';

  constructor(cause?: unknown) {
    super('unavailable', 'The store cannot be reached; retry shortly.', {
      retryAfter: STORE_RETRY_AFTER_S,
      cause,
    });
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

/**
 * `appendAgentMessage` found the idempotency key it was given already recorded and unexpired
 * (another publish with the same key got there first, perhaps on another instance): nothing
 * was admitted, and this is the message the key stands for.
 */
export class DuplicateAdmissionError extends Error {
  override name = 'DuplicateAdmissionError';
  constructor(readonly record: { id: string; seq: number }) {
    super(`idempotency key already used for ${record.id}`);
  }
}

/**
 * `appendAgentMessage` was given a rate window (`AdmitOptions.rateWindow`) that is full: nothing
 * was admitted, one refusal was counted (the next admitted message of the type carries it as
 * `data.suppressed`), and the oldest admission leaves the window in `retryAfterMs`.
 */
export class RateWindowFullError extends Error {
  override name = 'RateWindowFullError';
  constructor(readonly retryAfterMs: number) {
    super(`rate window full; retry in ${retryAfterMs} ms`);
  }
}
