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
    // Limits are in code points: 'a😀b' is 3 characters (4 UTF-16 units).
    const one = run(createLengthStage({ maxChars: 1 }), 'a😀b');
    expect(one.text).toBe('a');
    expect(one.report.charsChanged).toBe(2);
    const two = run(createLengthStage({ maxChars: 2 }), 'a😀b');
    expect(two.text).toBe('a😀');
    expect(two.report.charsChanged).toBe(1);
  });

  it('does not leave half of an emoji ZWJ sequence, a skin tone or an accent', () => {
    // 'x' + 👨 ZWJ 👩 ZWJ 👧: 6 code points (9 UTF-16 units).
    const family = '👨‍👩‍👧';
    for (const maxChars of [1, 2, 3, 4, 5]) {
      expect(run(createLengthStage({ maxChars }), `x${family}`).text).toBe('x');
    }
    expect(run(createLengthStage({ maxChars: 6 }), `x${family}!`).text).toBe(`x${family}`);
    expect(run(createLengthStage({ maxChars: 2 }), 'x👍🏽').text).toBe('x');
    expect(run(createLengthStage({ maxChars: 2 }), 'xe\u0301').text).toBe('x');
  });

  it('keeps a placeholder whole or drops it whole', () => {
    expect(run(createLengthStage({ maxChars: 11 }), 'see [SECRET] now').text).toBe('see ');
    expect(run(createLengthStage({ maxChars: 12 }), 'see [SECRET] now').text).toBe('see [SECRET]');
    expect(run(createLengthStage({ maxChars: 5 }), 'a [b] c [d').text).toBe('a [b]');
  });

  it('counts only the original characters it cut: a placeholder cut adds nothing (changedShare overshot)', () => {
    // 'see [SECRET] now' cut to 'see ': 12 characters cut, 8 of them a placeholder that the secrets
    // stage already counted in full.
    const out = run(createLengthStage({ maxChars: 11 }), 'see [SECRET] now');
    expect(out.text).toBe('see ');
    expect(out.report).toEqual({ stage: 'length', count: 1, charsChanged: 4, kinds: { truncated: 1 } });
    const onlyPlaceholders = run(createLengthStage({ maxChars: 8 }), '[EMAIL] [EMAIL]');
    expect(onlyPlaceholders.text).toBe('[EMAIL] ');
    expect(onlyPlaceholders.report.charsChanged).toBe(0);
    expect(onlyPlaceholders.report.count).toBe(1);
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
