/**
 * The reference store: everything in process memory, gone on exit. Every other store must
 * behave like this one (`test/store/conformance.ts` holds them all to it).
 *
 * Each session keeps its own structures, so the hot paths touch one session only: pending
 * messages live in a Map by id whose insertion order is seq order (seqs only grow), which
 * makes `ack` O(ids) and `listPending` one ordered walk of that session's unacked messages.
 *
 * Stored values are deep copies, frozen, and handed out as they are: the caller's later
 * changes to a draft never reach the store, reads cost no copy, and code that mutates
 * what a store returned fails loudly here (a TypeError) instead of silently in production.
 */
import type { AgentMessage } from '../agent-messages/types.js';
import { activityMs, timelineMax, trimSlack } from './limits.js';
import { SlidingWindows, takeWindow, windowKey, withSuppressed } from './rate-window.js';
import { DuplicateAdmissionError, deepFreeze, expiresAtMs, UnknownSessionError } from './shared.js';
import type {
  AdmitOptions,
  AgentMessageDraft,
  DeadLetter,
  IdempotencyRecord,
  Session,
  Store,
  StoreLimits,
  TimelineEntry,
} from './store.js';

interface Expiring<T> {
  value: T;
  expiresAtMs: number;
}

interface SessionState {
  session: Session;
  lastSeq: number;
  /** Epoch ms of the newest write (listIdleSessions). */
  activeMs: number;
  timeline: TimelineEntry[];
  /** Unacked, unpurged messages by id; insertion order is seq order. */
  pending: Map<string, Expiring<AgentMessage>>;
  idempotency: Map<string, Expiring<IdempotencyRecord>>;
}

interface OwnerState {
  /** In creation order. */
  sessions: SessionState[];
  byChatKey: Map<string, SessionState>;
}

/** Creates an empty in-memory store. */
export function createMemoryStore(limits: StoreLimits = {}): Store {
  const maxEntries = timelineMax(limits);
  const slack = trimSlack(maxEntries);
  const sessions = new Map<string, SessionState>();
  const owners = new Map<string, OwnerState>();
  /** Oldest last; listed newest first. */
  const deadLetters: DeadLetter[] = [];
  const windows = new SlidingWindows();

  const writable = (sessionId: string): SessionState => {
    const state = sessions.get(sessionId);
    if (!state) throw new UnknownSessionError(sessionId);
    return state;
  };
  /** Records a write at `timestamp` and drops the oldest entries once past the limit and its slack. */
  const wrote = (state: SessionState, timestamp: string): void => {
    state.activeMs = Math.max(state.activeMs, activityMs(timestamp));
    if (state.timeline.length >= maxEntries + slack) {
      const dropped = state.timeline.length - maxEntries;
      state.timeline.splice(0, dropped);
      limits.onTimelineTrimmed?.(dropped);
    }
  };

  return {
    writesInOrder: true,
    async createSession(session, chatKey) {
      const owner: OwnerState = owners.get(session.owner) ?? { sessions: [], byChatKey: new Map() };
      const earlier = chatKey === undefined ? undefined : owner.byChatKey.get(chatKey);
      if (earlier) return earlier.session;
      if (sessions.has(session.id)) throw new Error(`session ${session.id} already exists`);

      const state: SessionState = {
        session: frozenCopy(session),
        lastSeq: 0,
        activeMs: activityMs(session.createdAt),
        timeline: [],
        pending: new Map(),
        idempotency: new Map(),
      };
      sessions.set(session.id, state);
      owners.set(session.owner, owner);
      owner.sessions.push(state);
      if (chatKey !== undefined) owner.byChatKey.set(chatKey, state);
      return state.session;
    },

    async getSession(id) {
      return sessions.get(id)?.session;
    },

    async findSessionByChatKey(owner, chatKey) {
      return owners.get(owner)?.byChatKey.get(chatKey)?.session;
    },

    async listSessionIds(owner) {
      const list = owners.get(owner)?.sessions ?? [];
      // Array#sort is stable: equal createdAt keeps creation order, as the SQLite store does.
      return list
        .map((s) => s.session)
        .sort((a, b) => compare(a.createdAt, b.createdAt))
        .map((s) => s.id);
    },

    async appendTimeline(sessionId, entry) {
      const state = writable(sessionId);
      state.timeline.push(frozenCopy(entry));
      wrote(state, entry.timestamp);
    },

    async readTimeline(sessionId, last) {
      const timeline = sessions.get(sessionId)?.timeline ?? [];
      const n = Math.min(last ?? Number.POSITIVE_INFINITY, maxEntries);
      if (n >= timeline.length) return [...timeline];
      return n < 1 ? [] : timeline.slice(-n);
    },

    async appendAgentMessage(draft: AgentMessageDraft, pending: boolean, options?: AdmitOptions) {
      const state = writable(draft.sessionId);
      const expiry = expiresAtMs(draft);
      const idempotency = options?.idempotency;
      if (idempotency) {
        const prior = state.idempotency.get(idempotency.key);
        if (prior && prior.expiresAtMs > idempotency.nowMs) throw new DuplicateAdmissionError(prior.value);
      }
      const suppressed = options?.rateWindow ? takeWindow(windows, draft, options.rateWindow) : 0;
      state.lastSeq += 1;
      const message = frozenCopy<AgentMessage>({ ...withSuppressed(draft, suppressed), seq: state.lastSeq });
      state.timeline.push(Object.freeze({ kind: 'agent_message', message, timestamp: message.timestamp }));
      wrote(state, message.timestamp);
      if (pending) state.pending.set(message.id, { value: message, expiresAtMs: expiry });
      if (idempotency)
        state.idempotency.set(idempotency.key, {
          value: Object.freeze({ id: message.id, seq: message.seq }),
          expiresAtMs: idempotency.expiresAtMs,
        });
      return message;
    },

    async listPending(sessionId, afterSeq, limit, nowMs) {
      const out: AgentMessage[] = [];
      const pending = sessions.get(sessionId)?.pending;
      if (!pending || limit < 1) return out;
      for (const { value, expiresAtMs } of pending.values()) {
        if (value.seq <= afterSeq || expiresAtMs <= nowMs) continue;
        out.push(value);
        if (out.length >= limit) break;
      }
      return out;
    },

    async pendingIds(sessionId, ids) {
      const found = new Set<string>();
      const pending = sessions.get(sessionId)?.pending;
      if (pending) for (const id of ids) if (pending.has(id)) found.add(id);
      return found;
    },

    async ack(sessionId, ids) {
      const pending = sessions.get(sessionId)?.pending;
      if (!pending) return 0;
      let acked = 0;
      for (const id of ids) if (pending.delete(id)) acked += 1;
      return acked;
    },

    async countPending() {
      let n = 0;
      for (const state of sessions.values()) n += state.pending.size;
      return n;
    },

    async purgeExpired(nowMs) {
      windows.prune(nowMs);
      const purged: AgentMessage[] = [];
      for (const state of sessions.values()) {
        for (const [id, entry] of state.pending) {
          if (entry.expiresAtMs <= nowMs) {
            state.pending.delete(id);
            purged.push(entry.value);
          }
        }
        for (const [key, entry] of state.idempotency) {
          if (entry.expiresAtMs <= nowMs) state.idempotency.delete(key);
        }
      }
      return purged;
    },

    async getIdempotency(sessionId, key, nowMs) {
      const entry = sessions.get(sessionId)?.idempotency.get(key);
      return entry && entry.expiresAtMs > nowMs ? entry.value : undefined;
    },

    async addDeadLetter(letter) {
      deadLetters.push(frozenCopy(letter));
    },

    async listDeadLetters(limit) {
      return limit < 1 ? [] : deadLetters.slice(-limit).reverse();
    },

    async pruneDeadLetters(beforeMs) {
      return removeWhere(deadLetters, (letter) => Date.parse(letter.at) < beforeMs);
    },

    async deleteSession(id, options) {
      const state = sessions.get(id);
      if (!state) return undefined;
      if (options?.idleBeforeMs !== undefined && state.activeMs >= options.idleBeforeMs) return undefined;
      sessions.delete(id);
      const owner = owners.get(state.session.owner)!;
      owner.sessions.splice(owner.sessions.indexOf(state), 1);
      for (const [chatKey, held] of owner.byChatKey) if (held === state) owner.byChatKey.delete(chatKey);
      if (owner.sessions.length === 0) owners.delete(state.session.owner);
      removeWhere(deadLetters, (letter) => letter.message.sessionId === id);
      windows.forget(windowKey(id, ''));
      return { entries: state.timeline.length };
    },

    async listIdleSessions(beforeMs, limit) {
      const idle = [...sessions.values()].filter((s) => s.activeMs < beforeMs);
      idle.sort((a, b) => a.activeMs - b.activeMs);
      return idle.slice(0, Math.max(0, limit)).map((s) => s.session.id);
    },

    async touchSessions(ids, nowMs) {
      for (const id of ids) {
        const state = sessions.get(id);
        if (state) state.activeMs = Math.max(state.activeMs, nowMs);
      }
    },

    async close() {},
  };
}

/** Removes the items `drop` picks, in place; returns how many. */
function removeWhere<T>(items: T[], drop: (item: T) => boolean): number {
  const kept = items.filter((item) => !drop(item));
  const removed = items.length - kept.length;
  items.splice(0, items.length, ...kept);
  return removed;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A deep copy of `value`, frozen all the way down. */
function frozenCopy<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}
