/**
 * The sanitizer in a worker thread (see off-loop.ts): piscina loads this module in each of its
 * threads and calls the default export with each message. One sanitizer per thread, made with
 * the options the pool was given.
 */
import { workerData } from 'piscina';
import { createSanitizer } from './pipeline.js';
import type { SanitizeResult } from './types.js';

const sanitizer = createSanitizer({ maxChars: (workerData as { maxChars: number }).maxChars });

export default function sanitizeInWorker(text: string): SanitizeResult {
  return sanitizer.sanitize(text);
}
