/**
 * The retention sweeper: deletes sessions idle for longer than HERALD_SESSION_RETENTION_MS,
 * with everything they hold, a small batch at a time in the background.
 *
 * A session with a live connection on this instance (a WebSocket, an SSE stream, a chat call
 * in flight) is never deleted: each run first marks those sessions active in the store, so
 * other instances sharing Redis see them as active too, and skips them. The store deletes a
 * session only if it is still idle (checked in the same step), so a chat that arrives between
 * the listing and the deletion keeps its session. Each batch is one store call per session and
 * the event loop gets a turn between batches; a run stops after MAX_BATCHES and the next run
 * goes on, so a backlog never holds the process for long.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';

/** Sessions listed and deleted per batch. */
const BATCH = 100;
/** Batches per run; what is left waits for the next run. */
const MAX_BATCHES = 20;
/** incremental_vacuum calls per run at most (SQLite: 4 MiB each). */
const MAX_RECLAIMS = 16;

export interface SweeperOptions {
  store: Store;
  /** A session idle this long is deleted; 0 turns the sweeper off. */
  retentionMs: number;
  /** Milliseconds between runs. */
  intervalMs: number;
  /** The sessions this instance holds live connections or calls of. */
  liveSessions: () => Iterable<string>;
  metrics: Metrics['retention'];
  log: FastifyBaseLogger;
  now?: () => number;
}

export interface SweepResult {
  sessions: number;
  entries: number;
  /** Pages the store gave back to the file system. */
  reclaimed: number;
}

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: SweeperOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.opts.retentionMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.run(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One run (the timer calls it; tests may too). Runs never overlap: a second call joins the first. */
  run(): Promise<SweepResult> {
    this.running ??= this.sweep().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweep(): Promise<SweepResult> {
    const result: SweepResult = { sessions: 0, entries: 0, reclaimed: 0 };
    const { store, metrics, log } = this.opts;
    try {
      const now = this.now();
      const live = new Set(this.opts.liveSessions());
      if (live.size > 0) await store.touchSessions([...live], now);
      const idleBeforeMs = now - this.opts.retentionMs;
      for (let batch = 0; batch < MAX_BATCHES; batch++) {
        if (batch > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const ids = (await store.listIdleSessions(idleBeforeMs, BATCH)).filter((id) => !live.has(id));
        if (ids.length === 0) break;
        let deletedHere = 0;
        for (const id of ids) {
          const deleted = await store.deleteSession(id, { idleBeforeMs });
          if (!deleted) continue;
          deletedHere++;
          result.sessions++;
          result.entries += deleted.entries;
        }
        // Every one listed was active after all (their index was behind): nothing more to do now.
        if (deletedHere === 0) break;
      }
      for (let i = 0; i < MAX_RECLAIMS && store.reclaimSpace; i++) {
        const pages = await store.reclaimSpace();
        result.reclaimed += pages;
        if (pages === 0) break;
      }
    } catch (err) {
      log.error({ err }, 'retention sweep failed; the next run goes on');
    }
    if (result.sessions > 0) {
      metrics.sessionsRemoved.inc(result.sessions);
      metrics.entriesRemoved.inc({ reason: 'session_expired' }, result.entries);
      log.info({ sessions: result.sessions, entries: result.entries }, 'idle sessions deleted');
    }
    return result;
  }
}
