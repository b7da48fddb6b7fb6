/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT
 * that crosses the threshold (1,000 pages by default): it copies the log into the database
 * and fsyncs, on whichever write happens to be unlucky, blocking the event loop for as long as
 * the disk takes, which on a busy disk is tenths of a second to seconds. Those were the
 * publish latency stalls. Here a worker thread with its own connection runs PASSIVE
 * checkpoints (never blocking the writer) on a timer, so the -wal file stays bounded and the
 * event loop never waits on an fsync. The main connection keeps a much higher automatic
 * threshold as a safety net, in case the worker stops or falls behind.
 * https://www.sqlite.org/wal.html#automatic_checkpoint
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface CheckpointerOptions {
  file: string;
  /** Milliseconds between checkpoints. */
  intervalMs: number;
  /** Told when the worker fails (it is not restarted: the automatic checkpoint takes over). */
  onError?: (err: unknown) => void;
  /** Told after each checkpoint: pages in the log, and how many of them are in the database now. */
  onCheckpoint?: (result: CheckpointResult) => void;
}

export interface CheckpointResult {
  /** Pages in the write-ahead log. */
  log: number;
  /** Of those, pages copied into the database file. */
  checkpointed: number;
}

// The worker is plain JavaScript given as a string, so it runs the same from TypeScript
// sources (tests, tsx) and from the build, with better-sqlite3 found from this module.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    if (workerData.report) parentPort.postMessage({ log: result.log, checkpointed: result.checkpointed });
  } catch (err) { /* busy: next time */ }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('stopped');
});
`;

/** A running checkpointer; `stop` runs a last checkpoint and ends the worker. */
export class Checkpointer {
  private readonly worker: Worker;
  private stopped: Promise<void> | undefined;
  private exited = false;

  constructor(options: CheckpointerOptions) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file: options.file,
        intervalMs: options.intervalMs,
        driver,
        report: !!options.onCheckpoint,
      },
    });
    this.worker.unref();
    this.worker.on('error', (err) => options.onError?.(err));
    this.worker.on('message', (message: CheckpointResult | 'stopped') => {
      if (message === 'stopped') void this.worker.terminate();
      else options.onCheckpoint?.(message);
    });
    this.worker.once('exit', () => {
      this.exited = true;
    });
  }

  stop(): Promise<void> {
    if (this.exited) return Promise.resolve();
    this.stopped ??= new Promise<void>((resolve) => {
      const done = () => resolve();
      this.worker.once('exit', done);
      this.worker.postMessage('stop');
    });
    return this.stopped;
  }
}
