/**
 * What the SQLite store keeps in memory about each recently used session's pending (unacked,
 * unpurged) agent messages, so the hot path asks SQLite nothing it already knows: a chat
 * answer in a session with nothing pending reads nothing, an ack finds each id's seq (the
 * table's key) without an index on ids, and a message admitted in this process is listed from
 * memory. The file stays the truth: a session not indexed (never seen since start, evicted, or
 * with more pending than one index holds) is loaded from it, or read from it directly.
 *
 * Bounded: at most `maxSessions` sessions and `maxEntries` entries in all (least recently used
 * sessions evicted first), each session with at most `maxPerSession` entries. It is right only while this process is the file's one writer,
 * which is the rule for the embedded store (docs/decisions.md).
 */
import type { AgentMessage } from '../../agent-messages/types.js';

export interface PendingEntry {
  id: string;
  seq: number;
  expiresAtMs: number;
  /** The message itself when this process has it (admitted here, or read once). */
  message: AgentMessage | undefined;
}

/** One session's pending messages by id; insertion order is seq order (seqs only grow). */
export type SessionPending = Map<string, PendingEntry>;

export interface PendingIndexOptions {
  /** Default 20,000. */
  maxSessions?: number;
  /** Default 100,000. */
  maxEntries?: number;
  /** Default 1,000. */
  maxPerSession?: number;
}

/**
 * The index of every session known to have nothing pending: shared, so the many sessions made
 * and never sent a stored message cost no Map each. Never written to (added() replaces it).
 */
const NONE: SessionPending = new Map();

/** `overflow`: the session has more pending than one index holds; the file answers for it. */
const OVERFLOW = 'overflow';

export class PendingIndex {
  private readonly sessions = new Map<string, SessionPending | typeof OVERFLOW>();
  private entries = 0;
  readonly maxSessions: number;
  readonly maxEntries: number;
  readonly maxPerSession: number;

  constructor(options: PendingIndexOptions = {}) {
    this.maxSessions = Math.max(1, options.maxSessions ?? 20_000);
    this.maxEntries = Math.max(1, options.maxEntries ?? 100_000);
    // One session may never hold more than all of them may.
    this.maxPerSession = Math.min(Math.max(1, options.maxPerSession ?? 1_000), this.maxEntries);
  }

  /** Sessions and entries held now (tests, metrics). */
  get size(): { sessions: number; entries: number } {
    return { sessions: this.sessions.size, entries: this.entries };
  }

  /**
   * The session's index, loading it with `load` (which returns at most maxPerSession + 1 rows,
   * in seq order) when it is not held; undefined when the file must answer (overflow).
   */
  get(sessionId: string, load: () => PendingEntry[]): SessionPending | undefined {
    let held = this.sessions.get(sessionId);
    if (held === undefined) {
      const rows = load();
      held =
        rows.length > this.maxPerSession
          ? OVERFLOW
          : rows.length === 0
            ? NONE
            : new Map(rows.map((r) => [r.id, r]));
      this.remember(sessionId, held);
    } else {
      // Least recently used order: move to the end.
      this.sessions.delete(sessionId);
      this.sessions.set(sessionId, held);
    }
    return held === OVERFLOW ? undefined : held;
  }

  /** A session made by this process has nothing pending: no need to ever load it. */
  created(sessionId: string): void {
    this.remember(sessionId, NONE);
  }

  /** A message was committed as pending. */
  added(sessionId: string, entry: PendingEntry): void {
    const held = this.sessions.get(sessionId);
    if (held === undefined || held === OVERFLOW) return;
    if (held === NONE) {
      this.sessions.set(sessionId, new Map([[entry.id, entry]]));
      this.entries++;
      this.evict();
      return;
    }
    if (held.size >= this.maxPerSession) {
      this.entries -= held.size;
      this.sessions.set(sessionId, OVERFLOW);
      return;
    }
    held.set(entry.id, entry);
    this.entries++;
    this.evict();
  }

  /** Messages were acked or purged. */
  removed(sessionId: string, ids: Iterable<string>): void {
    const held = this.sessions.get(sessionId);
    // An overflowing session stays with the file until it is evicted.
    if (held === undefined || held === OVERFLOW) return;
    for (const id of ids) if (held.delete(id)) this.entries--;
  }

  /** The session was deleted: nothing of it is held any more. */
  deleted(sessionId: string): void {
    const held = this.sessions.get(sessionId);
    if (held === undefined) return;
    if (held !== OVERFLOW) this.entries -= held.size;
    this.sessions.delete(sessionId);
  }

  /** Forgets everything (close). */
  clear(): void {
    this.sessions.clear();
    this.entries = 0;
  }

  private remember(sessionId: string, held: SessionPending | typeof OVERFLOW): void {
    const before = this.sessions.get(sessionId);
    if (before !== undefined && before !== OVERFLOW) this.entries -= before.size;
    this.sessions.set(sessionId, held);
    if (held !== OVERFLOW) this.entries += held.size;
    this.evict();
  }

  /** Drops least recently used sessions until both bounds hold (always keeping the newest one). */
  private evict(): void {
    while (
      this.sessions.size > 1 &&
      (this.sessions.size > this.maxSessions || this.entries > this.maxEntries)
    ) {
      const [oldest, held] = this.sessions.entries().next().value!;
      this.sessions.delete(oldest);
      if (held !== OVERFLOW) this.entries -= held.size;
    }
  }
}
