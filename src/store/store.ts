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
  | { kind: 'reply'; replyTo: string; text: string; timestamp: string }
  | { kind: 'agent_message'; message: AgentMessage; timestamp: string };

/** An agent message before the store gives it its seq. */
export type AgentMessageDraft = Omit<AgentMessage, 'seq'>;

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

export interface Store {
  /** Creates a session. `chatKey` (optional) lets AI SDK chats map to one session per (owner, chat id). */
  createSession(session: Session, chatKey?: string): Promise<Session>;
  getSession(id: string): Promise<Session | undefined>;
  /** The session made earlier for (owner, chatKey), if any. */
  findSessionByChatKey(owner: string, chatKey: string): Promise<Session | undefined>;
  /** Ids of every session the user owns, oldest first. */
  listSessionIds(owner: string): Promise<string[]>;

  appendTimeline(sessionId: string, entry: TimelineEntry): Promise<void>;
  readTimeline(sessionId: string): Promise<TimelineEntry[]>;

  /**
   * Admits an agent message: gives it the session's next seq (atomically), adds it to the
   * timeline and, when `pending` is true, to the delivery store until acked or expired.
   */
  appendAgentMessage(draft: AgentMessageDraft, pending: boolean): Promise<AgentMessage>;
  /** Pending (unacked) messages with seq > afterSeq that expire after `nowMs`, in seq order. */
  listPending(sessionId: string, afterSeq: number, limit: number, nowMs: number): Promise<AgentMessage[]>;
  /** Which of `ids` are still pending in the session (unacked, not purged). */
  pendingIds(sessionId: string, ids: readonly string[]): Promise<Set<string>>;
  /** Removes the ids from the session's delivery store; returns how many were pending there. */
  ack(sessionId: string, ids: readonly string[]): Promise<number>;
  /** Deletes pending messages and idempotency keys that expired at or before `nowMs`; returns the messages purged. */
  purgeExpired(nowMs: number): Promise<AgentMessage[]>;

  getIdempotency(sessionId: string, key: string, nowMs: number): Promise<IdempotencyRecord | undefined>;
  putIdempotency(sessionId: string, key: string, record: IdempotencyRecord, expiresAtMs: number): Promise<void>;

  addDeadLetter(letter: DeadLetter): Promise<void>;
  /** Newest first. */
  listDeadLetters(limit: number): Promise<DeadLetter[]>;

  close(): Promise<void>;
}
