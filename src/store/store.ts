/**
 * The one store contract: sessions, their timelines and the agent message delivery store.
 * Small and promise-based so the synchronous stores (memory, SQLite) and the networked
 * one (Redis) share it. Stores only do I/O: ordering, TTL decisions, dedup and retries
 * live in the agent message router. `test/store/conformance.ts` proves every implementation.
 */
import type { AgentMessage } from '../agent-messages/types.js';

export interface Session {
  id: string;
  /** The principal's user id (`sub`) that owns the session. */
  owner: string;
  createdAt: string;
}

export type TimelineEntry =
  | { kind: 'user'; id: string; text: string; timestamp: string }
  | { kind: 'reply'; replyTo: string; text: string; timestamp: string; incomplete?: true }
  | { kind: 'agent_message'; message: AgentMessage; timestamp: string };

/** An agent message before the store gives it its seq. */
export type AgentMessageDraft = Omit<AgentMessage, 'seq'>;

/** What `deleteSession` removed. */
export interface DeletedSession {
  /** Timeline entries removed with the session. */
  entries: number;
}

/** What every store keeps per session, fixed when it is made. */
export interface StoreLimits {
  /**
   * The newest timeline entries a session keeps (older ones are dropped, a batch at a time, and
   * never read back); 0 keeps all. An agent message still pending keeps its entry until acked
   * or expired. Default 10,000.
   */
  timelineMaxEntries?: number;
  /** Told how many timeline entries were dropped for the limit (metrics). */
  onTimelineTrimmed?: (entries: number) => void;
}

export interface DeadLetter {
  message: AgentMessage;
  /** Sends on the connection that gave up. */
  attempts: number;
  reason: string;
  at: string;
}

export interface IdempotencyRecord {
  id: string;
  seq: number;
}

/**
 * The per-session per-type rate window an admission counts against (at most `limit` of the
 * draft's agentType admitted in the session in any 60 s, at `nowMs`). With `bypass` (high and
 * critical messages) nothing is counted or refused, but the refusals before it are still carried.
 */
export interface RateWindowOptions {
  limit: number;
  nowMs: number;
  bypass?: boolean;
}

/** What `appendAgentMessage` also checks and records, in the same atomic step as the message. */
export interface AdmitOptions {
  /**
   * Records `key` → the message's id and seq in the session until `expiresAtMs` (see
   * getIdempotency). When the key is already recorded and unexpired at `nowMs`, nothing is
   * admitted and the call rejects with DuplicateAdmissionError carrying that record: the check
   * and the admission are one atomic step, so concurrent publishes with one key admit once.
   */
  idempotency?: { key: string; expiresAtMs: number; nowMs: number };
  /**
   * Checked after the idempotency key (a duplicate counts nothing): when the window is full,
   * nothing is admitted, a refusal is counted and the call rejects with RateWindowFullError;
   * otherwise the message counts, and when refusals were counted since the type's last
   * admission in the session, it is admitted with `data.suppressed` set to their number (and
   * the count starts again from 0).
   */
  rateWindow?: RateWindowOptions;
}

/**
 * Shared rules of every method:
 * - A write naming a session the store does not have (`appendTimeline`, `appendAgentMessage`)
 *   rejects with `UnknownSessionError` (`./shared.js`) and changes nothing; reads of an
 *   unknown session find nothing (undefined, `[]`, an empty set, 0).
 * - A store that cannot reach its backend (Redis) rejects with `StoreUnavailableError`
 *   (`./shared.js`, HTTP 503 `unavailable`), never a raw client error.
 * - The store keeps its own copy of what it is given, and what it returns is the caller's to
 *   read, not to mutate (the memory store freezes it, so a mutation throws there).
 */
export interface Store {
  /**
   * True when writes asked for one after another, without waiting for the first, are applied
   * in the order asked (the memory store; SQLite's group commit queue), so a caller may ask for
   * a timeline entry and an admission that must follow it together. Redis leaves it unset: a
   * script its server has not cached yet (after a restart) is sent again behind the commands
   * that followed it, so there the caller waits for the first write.
   */
  readonly writesInOrder?: boolean;
  /**
   * Creates a session. `chatKey` (optional) lets AI SDK chats map to one session per (owner, chat id).
   * When the owner already has a session for `chatKey`, nothing is created and that earlier
   * session is returned, so concurrent first calls of one chat converge: use the returned
   * session, not the argument. Rejects when a session with the same id exists.
   */
  createSession(session: Session, chatKey?: string): Promise<Session>;
  getSession(id: string): Promise<Session | undefined>;
  /** The session made earlier for (owner, chatKey), if any. */
  findSessionByChatKey(owner: string, chatKey: string): Promise<Session | undefined>;
  /** Ids of every session the user owns, oldest first (by `createdAt`; equal ones in creation order). */
  listSessionIds(owner: string): Promise<string[]>;

  appendTimeline(sessionId: string, entry: TimelineEntry): Promise<void>;
  /** The session's timeline in the order things happened; with `last`, only its newest `last` entries. */
  readTimeline(sessionId: string, last?: number): Promise<TimelineEntry[]>;

  /**
   * Admits an agent message: gives it the session's next seq (atomically), adds it to the
   * timeline and, when `pending` is true, to the delivery store until acked or expired; with
   * `options.idempotency`, records its key too. All of it happens, or none of it.
   * Rejects with a TypeError when `draft.expiresAt` is not a date.
   */
  appendAgentMessage(
    draft: AgentMessageDraft,
    pending: boolean,
    options?: AdmitOptions,
  ): Promise<AgentMessage>;
  /**
   * Pending (unacked) messages with seq > afterSeq that expire after `nowMs`, in seq order.
   * At most `limit` (an integer; below 1 lists none).
   */
  listPending(sessionId: string, afterSeq: number, limit: number, nowMs: number): Promise<AgentMessage[]>;
  /** Which of `ids` are still pending in the session (unacked, not purged: an expired one counts until purged). */
  pendingIds(sessionId: string, ids: readonly string[]): Promise<Set<string>>;
  /**
   * Removes the ids from the session's delivery store; returns how many were pending there.
   * Unknown ids, repeats and ids of other sessions count nothing and touch nothing.
   */
  ack(sessionId: string, ids: readonly string[]): Promise<number>;
  /**
   * Deletes pending messages and idempotency keys that expired at or before `nowMs`; returns the
   * messages purged, in no set order. Timelines keep their copies.
   */
  purgeExpired(nowMs: number): Promise<AgentMessage[]>;
  /** How many messages are pending (unacked, not purged) in all sessions: the pending gauge. */
  countPending(): Promise<number>;

  /** The record put for `key` in the session, unless it expired at or before `nowMs`. */
  getIdempotency(sessionId: string, key: string, nowMs: number): Promise<IdempotencyRecord | undefined>;

  addDeadLetter(letter: DeadLetter): Promise<void>;
  /** Newest (most recently added) first; at most `limit`. */
  listDeadLetters(limit: number): Promise<DeadLetter[]>;
  /** Deletes dead letters whose `at` is before `beforeMs`; returns how many. */
  pruneDeadLetters(beforeMs: number): Promise<number>;

  /**
   * Deletes the session and everything it holds: its timeline, pending messages, idempotency
   * keys, rate windows, its chat key and its dead letters, in a way no reader sees half done.
   * With `idleBeforeMs`, only when its last activity is before that time (checked in the same
   * step, so a session written to meanwhile survives). Returns how many timeline entries went
   * with it, or undefined when nothing was deleted (no such session, or not idle). Later writes
   * to it reject with UnknownSessionError; a session made again with the same chat key is a
   * new one.
   */
  deleteSession(id: string, options?: { idleBeforeMs?: number }): Promise<DeletedSession | undefined>;

  /**
   * Ids of sessions whose last activity is before `beforeMs`, least recently active first; at
   * most `limit`. A session's activity is the newest `timestamp` of what was written to it
   * (timeline entries, agent messages), its creation, or a `touchSessions` time.
   */
  listIdleSessions(beforeMs: number, limit: number): Promise<string[]>;
  /** Marks the sessions active at `nowMs` (ones with live connections); unknown ids are ignored. */
  touchSessions(ids: readonly string[], nowMs: number): Promise<void>;
  /**
   * Optional: returns space freed by deletions to the file system a little at a time (SQLite's
   * incremental vacuum); returns how many pages it freed. Stores without files have none.
   */
  reclaimSpace?(): Promise<number>;

  /**
   * Optional, cheap and bounded in time: whether the store can reach its backend now (Redis:
   * a PING with a short timeout). GET /health answers `degraded` on 'unavailable'. A store
   * without one (memory, SQLite) counts as 'ok'. Never rejects.
   */
  health?(): Promise<'ok' | 'unavailable'>;

  /** Releases the store; calling it again does nothing. */
  close(): Promise<void>;
}
