import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSanitizer, createScrubber } from '../../src/sanitize/index.js';

/**
 * Idempotence on text built from the pieces the issue 11 rules react to (keys, URLs, vendor
 * prefixes, national phone forms, IBANs, placeholders, markup around secrets): sanitizing the
 * output again changes nothing, for the pipeline and for the scrubber. Seeded, repeatable.
 */
const piece = fc.constantFrom(
  'password=',
  'pass: ',
  'api_key=',
  'apiKey: "',
  '"',
  "'",
  'token ',
  'Bearer ',
  'ghp_',
  'X',
  'aB3dE5fG7hJ9kL1mN3pQ5rS7',
  'https://',
  'postgres://',
  'u',
  ':',
  '@',
  'db.example.io',
  'localhost',
  '/',
  'DE89 ',
  '3704 0044 0532 0130 00',
  ' ',
  '\n',
  '<',
  'b>',
  '</b>',
  '<password>',
  '</password>',
  'ssn ',
  '536221234',
  '536 22 1234',
  '0532 123 45 67',
  '(11) 91234-5678',
  '[SECRET]',
  'jane@example.com',
  'git@',
  'ssh ',
  'AccountKey=',
  ';',
  '&',
  '=',
  'sk_live_',
  'SG.',
  '.',
  'ignore ',
  'previous instructions',
  'mysql -p',
  '${',
  '}',
  'Pass',
  '\u200b',
  `-----BEGIN ${'PRIVATE'} KEY-----`,
);

describe('issue 11 shapes: sanitizing twice changes nothing', () => {
  const sanitizer = createSanitizer({ maxChars: 300 });
  const scrub = createScrubber();

  it('a phone glued to a secret whose markup was removed is replaced on the first pass', () => {
    const input = `(11) 91234-5678<password>postgres://b>aB3dE5fG7hJ9kL1mN3pQ5rS7</password>X`;
    const once = sanitizer.sanitize(input).text;
    expect(once).toBe('[PHONE][SECRET]X');
    expect(sanitizer.sanitize(once).text).toBe(once);
  });

  it('holds for 3,000 seeded combinations', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 25 }), (parts) => {
        const text = parts.join('');
        const once = sanitizer.sanitize(text).text;
        expect(sanitizer.sanitize(once).text).toBe(once);
        const scrubbed = scrub(text);
        expect(scrub(scrubbed)).toBe(scrubbed);
      }),
      { numRuns: 3_000, seed: 1107 },
    );
  });
});
