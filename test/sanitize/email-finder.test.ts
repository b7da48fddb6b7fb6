import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEmailFinder, EMAIL_SOURCE } from '../../src/sanitize/stages/pii.js';

/**
 * The pii step finds e-mail addresses from each `@` (createEmailFinder) instead of trying the
 * pattern at every position: it must find exactly what the pattern finds, match for match.
 */
const find = createEmailFinder();
const reference = (view: string) =>
  [...view.matchAll(new RegExp(EMAIL_SOURCE, 'gu'))].map((m) => [m.index, m[0]]);
const found = (view: string) => find(view).map((m) => [m.index, m[0]]);

// The pieces the pattern reacts to: ASCII, CJK letters and punctuation, bidi marks, astral and
// combining letters, Arabic, separators, `@`, `.`, `:`, lone surrogates.
const piece = fc.constantFrom(
  'a',
  'Z',
  '0',
  '.',
  '_',
  '%',
  '+',
  '-',
  '@',
  ':',
  '/',
  ' ',
  '\n',
  'é',
  'e\u0301',
  'ß',
  '中',
  '文',
  'ひ',
  'カ',
  '、',
  '。',
  '\u200E',
  '\u200F',
  '\u061C',
  'ب',
  '𝒜',
  '😀',
  '\uD800',
  '\uDC00',
  'jane.doe',
  'example',
  'com',
  'io',
  '用户',
  '例子',
  '中国',
  '.com',
  '@x.co',
  'git@',
  'a@b.c',
);
const text = fc
  .array(fc.oneof(piece, fc.string({ maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 3 })), {
    maxLength: 40,
  })
  .map((parts) => parts.join(''));

describe('e-mail finder', () => {
  it('finds what the pattern finds, on random text built from the pieces it reacts to', () => {
    fc.assert(
      fc.property(text, (view) => {
        expect(found(view)).toEqual(reference(view));
      }),
      { numRuns: 20_000 },
    );
  });

  it('finds what the pattern finds on hand-picked cases', () => {
    const cases = [
      'mail jane.doe@example.com now',
      'a@b.co b@c.de,c@d.fr',
      '用户@例子.中国',
      '邮箱x@y.cn谢谢',
      '中中a@b.com',
      '\u200Ejane@example.com\u200F',
      'ab\u200Ecd@x.com',
      'git@github.com:acme/app.git',
      'x@y@z.org',
      'a@b.com@c.org',
      '𝒜𝒜@𝒜.co',
      'user@localhost',
      `${'中'.repeat(50)}@ x`,
      `${'中'.repeat(50)}@x.com`,
    ];
    for (const view of cases) expect(found(view)).toEqual(reference(view));
  });

  it('is linear on a run of CJK letters before an @ (the pattern alone takes the square of its length)', () => {
    // 100,000 characters: the pattern tried at every position read the run again from each (minutes).
    for (const tail of ['@ x', '@x.com', '@']) {
      const view = `${'中'.repeat(100_000)}${tail}`;
      const start = performance.now();
      const n = find(view).length;
      expect(performance.now() - start).toBeLessThan(1_000);
      expect(n).toBe(tail === '@x.com' ? 1 : 0);
    }
  });
});
