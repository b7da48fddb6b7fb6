/**
 * The sanitizer in a worker thread (see off-loop.ts): piscina loads this module in each of its
 * threads and calls the default export with each message. One sanitizer per thread, made on
 * its first message.
 */
import { createSanitizer, type Sanitizer } from './pipeline.js';
import type { SanitizeResult } from './types.js';

let sanitizer: Sanitizer | undefined;
let madeFor: number | undefined;

export default function sanitizeInWorker(task: { text: string; maxChars: number }): SanitizeResult {
  if (!sanitizer || madeFor !== task.maxChars) {
    sanitizer = createSanitizer({ maxChars: task.maxChars });
    madeFor = task.maxChars;
  }
  return sanitizer.sanitize(task.text);
}
