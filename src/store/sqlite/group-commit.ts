/**
 * Group commit for the SQLite store: the writes asked for during one event-loop turn run in
 * one transaction, committed once in the turn's check phase (`setImmediate`), and each caller
 * is resolved only after that commit. Under load this turns one commit per statement into one
 * per turn — a commit is the costly part of a small SQLite write, WAL or not — while every
 * promise still means "durable", exactly as when each write committed alone.
 *
 * Writes run in the order they were asked for, so anything a caller awaited before asking
 * for the next write is seen by it. One write failing (a foreign key naming an unknown
 * session, say) fails only its caller: a single statement is backed out by SQLite on its own,
 * and a write of several statements runs in a savepoint (`db.transaction` nested). Only a
 * failure that ends the whole transaction (the COMMIT itself, a full disk) fails every write of
 * the batch, none of which then happened.
 */
import type Database from 'better-sqlite3';

interface Write {
  run: () => unknown;
  after: ((value: unknown) => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

export interface GroupCommitOptions {
  /**
   * Most writes in one transaction; the rest go in the next turn, so one busy turn never
   * holds the event loop for one huge commit. Default 1,000.
   */
  maxBatch?: number;
  /** Told each committed batch's size (metrics). */
  onCommit?: (writes: number) => void;
}

export class GroupCommit {
  private queue: Write[] = [];
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly transaction: Database.Transaction<(batch: Write[], outcomes: Outcome[]) => void>;

  constructor(
    db: Database.Database,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
    this.transaction = db.transaction((batch: Write[], outcomes: Outcome[]) => {
      for (const write of batch) {
        try {
          outcomes.push({ ok: true, value: write.run() });
        } catch (err) {
          // SQLite ended the transaction itself (I/O error, full disk): nothing of it stands.
          if (!db.inTransaction) throw err;
          outcomes.push({ ok: false, err });
        }
      }
    });
  }

  /**
   * Queues `run` for this turn's transaction; resolves with its result once committed.
   * `after` runs right after the commit, before any other write or read of this process can
   * start: the place to update what the store keeps in memory about the committed state.
   */
  write<T>(run: () => T, after?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        run,
        after: after as ((value: unknown) => void) | undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Writes waiting for the next commit. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Commits what is queued now (close calls it so nothing asked for is lost). */
  flushNow(): void {
    while (this.queue.length > 0) this.commit(this.queue.splice(0, this.maxBatch));
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.queue.length > this.maxBatch ? this.queue.splice(0, this.maxBatch) : this.queue;
    if (batch === this.queue) this.queue = [];
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
    this.commit(batch);
  };

  private commit(batch: Write[]): void {
    const outcomes: Outcome[] = [];
    try {
      this.transaction.immediate(batch, outcomes);
    } catch (err) {
      for (const write of batch) write.reject(err);
      return;
    }
    this.options.onCommit?.(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const write = batch[i]!;
      const outcome = outcomes[i]!;
      if (!outcome.ok) {
        write.reject(outcome.err);
        continue;
      }
      try {
        write.after?.(outcome.value);
        write.resolve(outcome.value);
      } catch (err) {
        write.reject(err);
      }
    }
  }
}
