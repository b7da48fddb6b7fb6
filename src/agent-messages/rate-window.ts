/**
 * Sliding-window counters for the per-session per-type agent message limit (contract 3):
 * at most N admitted in any 60 s. Also keeps how many were refused since the last admission,
 * which the next admitted message carries as `data.suppressed`.
 */
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

  /** Forgets windows with nothing in the last 60 s and nothing suppressed, so memory stays bounded. */
  prune(now: number): void {
    const cutoff = now - WINDOW_MS;
    for (const [key, w] of this.windows) {
      const last = w.times[w.times.length - 1];
      if (w.suppressed === 0 && (last === undefined || last <= cutoff)) this.windows.delete(key);
    }
  }
}

export type WindowVerdict = { ok: true; suppressed: number } | { ok: false; retryAfterMs: number };

/**
 * The per-session per-type windows the router asks: in this process (`localWindows`), or in
 * Redis so the limit holds over every instance (`redis-windows.ts`).
 */
export interface RateWindows {
  tryAdmit(
    sessionId: string,
    agentType: string,
    limit: number,
    now: number,
  ): WindowVerdict | Promise<WindowVerdict>;
  takeSuppressed(sessionId: string, agentType: string): number | Promise<number>;
  /** Forgets what no longer matters (the purge timer calls it). */
  prune(now: number): void;
}

/** The windows in this process, one per (session, type). */
export function localWindows(): RateWindows {
  const windows = new SlidingWindows();
  const key = (sessionId: string, agentType: string) => `${sessionId}\u0000${agentType}`;
  return {
    tryAdmit: (sessionId, agentType, limit, now) => windows.tryAdmit(key(sessionId, agentType), limit, now),
    takeSuppressed: (sessionId, agentType) => windows.takeSuppressed(key(sessionId, agentType)),
    prune: (now) => windows.prune(now),
  };
}
