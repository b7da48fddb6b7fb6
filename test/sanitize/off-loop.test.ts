/**
 * The sanitizer off the event loop: long messages go to a worker thread and come back with the
 * same result as on the loop; short ones stay on the loop; 0 threads keeps everything there.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createOffLoopSanitizer } from '../../src/sanitize/off-loop.js';
import { createSanitizer } from '../../src/sanitize/pipeline.js';

const MAX = 100_000;
const nested = `${'<div><b>'.repeat(2_000)}mail jane@example.com, card 4111 1111 1111 1111 <script>x()</script>`;
const plain = 'hello there, reach me at jane@example.com';

describe('sanitizing off the event loop', () => {
  const offLoop = createOffLoopSanitizer({ maxChars: MAX, minChars: 1_000, threads: 1 });
  afterAll(() => offLoop.close());
  const onLoop = createSanitizer({ maxChars: MAX });

  it('gives a long message the same result in a worker as on the loop', async () => {
    const result = offLoop.sanitize(nested);
    expect(result).toBeInstanceOf(Promise);
    const fromWorker = await result;
    expect(fromWorker).toEqual(onLoop.sanitize(nested));
    expect(fromWorker.text).not.toContain('jane@example.com');
    expect(fromWorker.text).not.toContain('<script');
  });

  it('keeps a short message on the loop (no promise)', () => {
    const result = offLoop.sanitize(plain);
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toEqual(onLoop.sanitize(plain));
  });

  it('keeps everything on the loop with 0 threads', () => {
    const inline = createOffLoopSanitizer({ maxChars: MAX, minChars: 1, threads: 0 });
    const result = inline.sanitize(nested);
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toEqual(onLoop.sanitize(nested));
  });
});
