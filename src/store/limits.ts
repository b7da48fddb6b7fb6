/**
 * The per-session timeline limit every store applies the same way: a session keeps its newest
 * `timelineMaxEntries` entries. Stores drop the older ones a batch at a time (when a session
 * holds TRIM_SLACK more than the limit), so a write rarely pays for a trim, and reads never
 * return more than the limit, so what a client sees does not depend on when a trim ran.
 */
import type { StoreLimits } from './store.js';

export const DEFAULT_TIMELINE_MAX_ENTRIES = 10_000;

/** The limit as a number of entries; Infinity for none (0). */
export function timelineMax(limits: StoreLimits = {}): number {
  const max = limits.timelineMaxEntries ?? DEFAULT_TIMELINE_MAX_ENTRIES;
  return max > 0 ? max : Number.POSITIVE_INFINITY;
}

/** How many entries past the limit a session may hold before its next write trims it. */
export function trimSlack(max: number): number {
  return Number.isFinite(max) ? Math.max(1, Math.ceil(max / 10)) : 0;
}

/** The time a timeline entry or agent message was written, as epoch ms (0 when unreadable). */
export function activityMs(timestamp: string): number {
  const ms = Date.parse(timestamp);
  return Number.isFinite(ms) ? ms : 0;
}
