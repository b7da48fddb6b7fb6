/**
 * Sliding-window counters for the per-session per-type agent message limit: at most N
 * admitted in any 60 s. Also keeps how many were refused since the last admission, which the
 * next admitted message carries as `data.suppressed`. The memory and SQLite stores keep these
 * in process; the Redis store does the same in its admission script.
 */
import { RateWindowFullError } from './shared.js';
import type { AgentMessageDraft, RateWindowOptions } from './store.js';

export const WINDOW_MS = 60_000;

interface Window {
  times: number[];
  suppressed: number;
}

export class SlidingWindows {
  private readonly windows = new Map<string, Window>();

  /** Admits one event at `now` unless `limit` were admitted in the last 60 s. */
  tryAdmit(
    key: string,
    limit: number,
    now: number,
  ): { ok: true; suppressed: number } | { ok: false; retryAfterMs: number } {
    let w = this.windows.get(key);
    if (!w) {
      w = { times: [], suppressed: 0 };
      this.windows.set(key, w);
    }
    const cutoff = now - WINDOW_MS;
    while (w.times.length > 0 && w.times[0]! <= cutoff) w.times.shift();
    if (w.times.length >= limit) {
      w.suppressed++;
      return { ok: false, retryAfterMs: w.times[0]! + WINDOW_MS - now };
    }
    w.times.push(now);
    const suppressed = w.suppressed;
    w.suppressed = 0;
    return { ok: true, suppressed };
  }

  /** How many were refused since the last admission, reset to 0: for a message that bypasses the limit. */
  takeSuppressed(key: string): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    const n = w.suppressed;
    w.suppressed = 0;
    return n;
  }

  /** Forgets every window whose key starts with `prefix` (a deleted session's). */
  forget(prefix: string): void {
    for (const key of this.windows.keys()) if (key.startsWith(prefix)) this.windows.delete(key);
  }

  /** Forgets windows with nothing in the last 60 s and nothing suppressed, so memory stays bounded. */
  prune(now: number): void {
    const cutoff = now - WINDOW_MS;
    for (const [key, w] of this.windows) {
      const last = w.times[w.times.length - 1];
      if (w.suppressed === 0 && (last === undefined || last <= cutoff)) this.windows.delete(key);
    }
  }
}

/**
 * The rate window step of an admission, for the stores that keep their windows in this process
 * (memory, SQLite): counts the message against its (session, type) window, or throws
 * RateWindowFullError and counts a refusal; returns the refusals the message carries.
 */
export function takeWindow(
  windows: SlidingWindows,
  draft: AgentMessageDraft,
  rate: RateWindowOptions,
): number {
  const key = windowKey(draft.sessionId, draft.agentType);
  if (rate.bypass) return windows.takeSuppressed(key);
  const verdict = windows.tryAdmit(key, rate.limit, rate.nowMs);
  if (!verdict.ok) throw new RateWindowFullError(verdict.retryAfterMs);
  return verdict.suppressed;
}

/** The key of a session's window for one type; `windowKey(id, '')` prefixes all of the session's. */
export const windowKey = (sessionId: string, agentType: string): string => `${sessionId}\u0000${agentType}`;

/** The draft as admitted: with `data.suppressed` when the window refused messages before it. */
export function withSuppressed(draft: AgentMessageDraft, suppressed: number): AgentMessageDraft {
  return suppressed > 0 ? { ...draft, data: { ...draft.data, suppressed } } : draft;
}
