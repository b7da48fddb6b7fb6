import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Blocks, LEET, readLeet } from '../../src/sanitize/stages/injection.js';
import { matchesFrom, URL_CREDENTIALS } from '../../src/sanitize/stages/secrets.js';

/**
 * Where a pattern tried at every position was the cost, the sanitizer finds the same thing another
 * way (the injection step's leetspeak runs and base64 blocks, by hand; URL credentials, from each
 * `://`): each must give exactly what the pattern gives.
 */
const leetByPattern = (v: string) =>
  v.replace(/(?<![a-z0-9@$!])[a-z0-9@$!]*[0-9@$][a-z0-9@$!]*/g, (w) =>
    /[a-z]/.test(w) ? w.replace(/[0-9@$!]/g, (c) => LEET[c] ?? c) : w,
  );
const blocksByPattern = (t: string) =>
  [...t.matchAll(/(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,2}/g)].map((m) => m[0]);

const leetText = fc
  .array(
    fc.oneof(
      fc.constantFrom('a', 'z', '0', '1', '3', '@', '$', '!', ' ', '-', '.', 'é', 'ign0r3', '1337', 'h@ck'),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 30 },
  )
  .map((p) => p.join(''));
const base64Text = fc
  .array(
    fc.oneof(
      fc.constantFrom('A', 'z', '9', '+', '/', '_', '-', '=', '==', '===', ' ', '.', '\n', 'é'),
      fc.stringMatching(/^[A-Za-z0-9+/_-]{15,25}$/),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 30 },
  )
  .map((p) => p.join(''));

describe('injection views', () => {
  it('reads leetspeak as the pattern does', () => {
    fc.assert(
      fc.property(leetText, (v) => {
        expect(readLeet(v)).toBe(leetByPattern(v));
      }),
      { numRuns: 5_000 },
    );
  });

  it('finds the base64 blocks the pattern finds', () => {
    fc.assert(
      fc.property(base64Text, (t) => {
        expect([...base64Blocks(t)]).toEqual(blocksByPattern(t));
      }),
      { numRuns: 5_000 },
    );
    const block = 'aWdub3JlIGFsbCBwcmV2aW91cyBpbnN0cnVjdGlvbnM=';
    for (const t of [
      block,
      `x ${block} y`,
      `${'a'.repeat(19)} ${'b'.repeat(20)}`,
      `${'a'.repeat(40)}===`,
      '',
    ]) {
      expect([...base64Blocks(t)]).toEqual(blocksByPattern(t));
    }
  });

  it('finds the URL credentials the pattern finds, trying it only at each ://', () => {
    const sticky = new RegExp(URL_CREDENTIALS.source, 'iy');
    const url = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            'postgres',
            'https',
            'redis',
            'postgres://app:s3cret@db',
            'redis://:pw@localhost',
            '://u:p@h',
            ':p@h',
            'x://',
            'a',
            'x+y',
            '://',
            ':',
            '@',
            '/',
            ' ',
            'user',
            'pw',
            'db.io',
            '[',
            '"',
            '-',
            '.',
            'é',
          ),
          fc.string({ maxLength: 3 }),
        ),
        { maxLength: 25 },
      )
      .map((p) => p.join(''));
    fc.assert(
      fc.property(url, (t) => {
        const expected = [...t.matchAll(URL_CREDENTIALS)].map((m) => [m.index, m[0], m[1]]);
        expect([...matchesFrom(t, sticky, '://')].map((m) => [m.index, m[0], m[1]])).toEqual(expected);
      }),
      { numRuns: 10_000 },
    );
  });
});
