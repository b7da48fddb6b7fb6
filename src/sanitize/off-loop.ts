/**
 * Long messages are sanitized in worker threads (piscina), short ones on the event loop.
 *
 * The pipeline is linear in its input, but a 100,000-character message of crafted markup still
 * takes a few milliseconds, and two of them in one turn held every other user's pings and
 * replies for 20–60 ms (test/e2e/fairness.test.ts). In a worker they cost the event loop only
 * the copy of the text there and of the result back. A short message stays on the loop: the
 * hop to a thread and back costs more than sanitizing it. Same results either way (the same
 * pipeline; test/sanitize/off-loop.test.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { createSanitizer } from './pipeline.js';
import type { SanitizeResult } from './types.js';

export interface OffLoopOptions {
  maxChars: number;
  /** Messages of at least this many UTF-16 units go to a worker. */
  minChars: number;
  /** Worker threads; 0 sanitizes everything on the event loop. */
  threads: number;
}

export interface OffLoopSanitizer {
  sanitize(text: string): SanitizeResult | Promise<SanitizeResult>;
  /** Ends the worker threads (they also end by themselves when idle). */
  close(): Promise<void>;
}

/**
 * worker.js in the build. Run from the TypeScript sources (tests, `npm run dev`), only
 * worker.ts is there, and a thread gets tsx's loader to run it.
 */
function workerFile(): { filename: string; execArgv?: string[] } {
  const built = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return { filename: built.href };
  // tsx's loader by its own path, so the thread finds it whatever the working directory.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { filename: new URL('./worker.ts', import.meta.url).href, execArgv: ['--import', tsx] };
}

export function createOffLoopSanitizer(options: OffLoopOptions): OffLoopSanitizer {
  const inline = createSanitizer({ maxChars: options.maxChars });
  if (options.threads <= 0) return { sanitize: (text) => inline.sanitize(text), close: async () => {} };
  const pool = new Piscina({
    ...workerFile(),
    minThreads: 0,
    maxThreads: options.threads,
    // Every thread makes its sanitizer once, with these options (worker.ts).
    workerData: { maxChars: options.maxChars },
    // An idle thread ends after a while: a quiet Herald holds no threads.
    idleTimeout: 30_000,
  });
  return {
    sanitize(text) {
      if (text.length < options.minChars) return inline.sanitize(text);
      return pool.run(text) as Promise<SanitizeResult>;
    },
    close: () => pool.destroy(),
  };
}
