import { describe, expect, it } from 'vitest';
import { createLengthStage } from '../../src/sanitize/stages/length.js';
import { run } from './helpers.js';

describe('length stage', () => {
  it('leaves text within the limit alone', () => {
    const out = run(createLengthStage({ maxChars: 5 }), 'hello');
    expect(out.text).toBe('hello');
    expect(out.report).toEqual({ stage: 'length', count: 0, charsChanged: 0, kinds: {} });
  });

  it('cuts to the limit and counts the removed characters', () => {
    const out = run(createLengthStage({ maxChars: 5 }), 'hello world');
    expect(out.text).toBe('hello');
    expect(out.report).toEqual({ stage: 'length', count: 1, charsChanged: 6, kinds: { truncated: 1 } });
  });

  it('never cuts a surrogate pair in half', () => {
    const out = run(createLengthStage({ maxChars: 2 }), 'a😀b');
    expect(out.text).toBe('a');
    expect(out.report.charsChanged).toBe(3);
  });

  it('does not leave half of an emoji ZWJ sequence, a skin tone or an accent', () => {
    const family = '👨‍👩‍👧';
    for (const maxChars of [3, 4, 6, 7]) {
      expect(run(createLengthStage({ maxChars }), `x${family}`).text).toBe('x');
    }
    expect(run(createLengthStage({ maxChars: 9 }), `x${family}!`).text).toBe(`x${family}`);
    expect(run(createLengthStage({ maxChars: 3 }), 'x👍🏽').text).toBe('x');
    expect(run(createLengthStage({ maxChars: 2 }), 'xe\u0301').text).toBe('x');
  });

  it('keeps a placeholder whole or drops it whole', () => {
    expect(run(createLengthStage({ maxChars: 11 }), 'see [SECRET] now').text).toBe('see ');
    expect(run(createLengthStage({ maxChars: 12 }), 'see [SECRET] now').text).toBe('see [SECRET]');
    expect(run(createLengthStage({ maxChars: 5 }), 'a [b] c [d').text).toBe('a [b]');
  });

  it('cuts to an empty string when the limit is 0', () => {
    expect(run(createLengthStage({ maxChars: 0 }), 'abc').text).toBe('');
  });

  it('moves the cut back before a fragment the recheck would change', () => {
    // The recheck stands in for the earlier stages: here, it would rewrite any "BAD" it sees.
    const recheck = (text: string) => text.replace(/BAD/g, '[X]');
    const out = run(createLengthStage({ maxChars: 7, recheck }), 'ok BADxxxx');
    expect(out.text).toBe('ok ');
    expect(recheck(out.text)).toBe(out.text);
  });
});
