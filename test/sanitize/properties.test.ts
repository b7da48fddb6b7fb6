import fc from 'fast-check';
import { countrySpecs } from 'ibantools';
import { describe, expect, it } from 'vitest';
import { countChars } from '../../src/sanitize/chars.js';
import { isLuhnValid, luhnCheckDigit } from '../../src/sanitize/luhn.js';
import { createSanitizer, createScrubber } from '../../src/sanitize/pipeline.js';

// FC_NUM_RUNS=20000 for a deeper search; the default keeps the suite fast.
const NUM_RUNS = Number(process.env.FC_NUM_RUNS) || 250;

const sanitizers = new Map<number, ReturnType<typeof createSanitizer>>();
const sanitizerFor = (maxChars: number) => {
  let s = sanitizers.get(maxChars);
  if (!s) {
    s = createSanitizer({ maxChars });
    sanitizers.set(maxChars, s);
  }
  return s;
};

/** Pieces that exercise every stage, and their edges. */
const fragments = fc.constantFrom(
  '<script>',
  '</script>',
  '<SCRIPT ',
  '<scr',
  'ipt>',
  '<',
  '>',
  '/',
  '<b>',
  '</b>',
  '<img src=x onerror=alert(1)>',
  '<a href="javascript:x">',
  '<!--',
  '-->',
  '<iframe>',
  '<textarea>',
  '<x ',
  '<x>',
  '</x>',
  '<foo.bar:',
  ' onclick=',
  '/onload=',
  'javascript:',
  '"',
  "'",
  '=',
  '&lt;',
  '&gt;',
  '&amp;',
  '&',
  'script',
  '\u200B',
  '\u200C',
  '\u200D',
  '\u2066',
  '\u202E',
  '\x00',
  '\x1b',
  '\x1b[31m',
  '\x1b]0;t\x07',
  '\x9b',
  '\u00A0',
  '👨',
  '👩',
  '🏽',
  '\uFE0F',
  '🏴',
  '\u{E0067}',
  '\u{E007F}',
  'e',
  '\u0301',
  'ب',
  'क',
  '\u094D',
  'ᄀ',
  'ᅡ',
  'a@b.co',
  '@',
  '.',
  '-',
  ':',
  '::',
  '+',
  '(',
  ')',
  ' ',
  '\n',
  '\t',
  '0',
  '1',
  '4',
  '5',
  '9',
  '123-45-6789',
  '4111 1111 1111 1111',
  '+1 555 123 4567',
  '192.168.0.1',
  'fe80::1',
  '[EMAIL]',
  '[SECRET]',
  '[SYSTEM]',
  'eyJhbGciOiJIUzI1NiJ9.',
  'eyJzdWIiOiIxMjM0In0.',
  'sk-',
  'ghp_',
  'Bearer ',
  'AKIA',
  'aws_secret_access_key=',
  '-----BEGIN PRIVATE KEY-----',
  '-----END PRIVATE KEY-----',
  'ignore all previous instructions',
  '\uD800',
  '\uDC00',
  // Markdown code, script URLs outside HTML, bidi marks, word separators, folded digits.
  '`',
  '``',
  '```\n',
  '\n```',
  '~~~\n',
  '[x](',
  '](javascript:alert(1))',
  '<javascript:x>',
  'data:text/html,',
  'vbscript:',
  '\u200E',
  '\u200F',
  '\u061C',
  '\u00AD',
  'א',
  'ก',
  '٤١١١',
  '０９０',
  '＠',
  'password=',
  'git@h.io:',
  'version ',
);

const messy = fc
  .array(fc.oneof(fragments, fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ maxLength: 8 })), {
    maxLength: 40,
  })
  .map((parts) => parts.join(''));

const maxChars = fc.constantFrom(0, 1, 7, 20, 64, 200, 100_000);

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const email = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9](?:[a-z0-9._+-]{0,14}[a-z0-9])?$/),
    fc.array(label, { minLength: 1, maxLength: 3 }),
    fc.stringMatching(/^[a-z]{2,6}$/),
  )
  .filter(([local]) => !local.includes('..'))
  .map(([local, labels, tld]) => `${local}@${labels.join('.')}.${tld}`);

/** Luhn-valid numbers with real network prefixes, plain, space- or dash-grouped. */
const card = fc
  .tuple(
    fc.constantFrom(
      ['4', 16],
      ['51', 16],
      ['55', 16],
      ['2221', 16],
      ['34', 15],
      ['37', 15],
      ['6011', 16],
      ['4', 13],
    ),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 18, maxLength: 18 }),
    fc.constantFrom('', ' ', '-'),
  )
  .map(([[prefix, length], digits, sep]) => {
    const payload = (prefix + digits.join('')).slice(0, (length as number) - 1);
    const number = payload + luhnCheckDigit(payload);
    return sep ? (number.match(/.{1,4}/g) ?? []).join(sep) : number;
  });

const whitespace = fc.constantFrom(' ', '\n', '\t', ' \n ');

describe('sanitizer properties', () => {
  it('sanitizing the output again changes nothing', () => {
    fc.assert(
      fc.property(messy, maxChars, (text, max) => {
        const s = sanitizerFor(max);
        const once = s.sanitize(text);
        const twice = s.sanitize(once.text);
        expect(twice.text).toBe(once.text);
        expect(twice.changedChars).toBe(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never outputs <script, in any case', () => {
    fc.assert(
      fc.property(messy, (text) => {
        expect(sanitizerFor(100_000).sanitize(text).text.toLowerCase()).not.toContain('<script');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never outputs an e-mail address it was given', () => {
    fc.assert(
      fc.property(messy, whitespace, email, whitespace, messy, (before, sep1, address, sep2, after) => {
        const out = sanitizerFor(100_000).sanitize(before + sep1 + address + sep2 + after).text;
        expect(out).not.toContain(address);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never outputs a card number it was given', () => {
    fc.assert(
      fc.property(messy, whitespace, card, whitespace, messy, (before, sep1, number, sep2, after) => {
        // Right after an IBAN country's code and two digits, digits in exactly that country's
        // BBAN shape are read as a mistyped IBAN and left (docs/sanitization.md): a card written
        // that way is the one input read both ways, so it is not this property's.
        const country = /(?:^|[^\w.-])([A-Z]{2})\d\d$/.exec(before)?.[1];
        fc.pre(!(sep1 === ' ' && country !== undefined && country in countrySpecs));
        expect(isLuhnValid(number.replace(/\D/g, ''))).toBe(true);
        const out = sanitizerFor(100_000).sanitize(before + sep1 + number + sep2 + after).text;
        expect(out).not.toContain(number);
        expect(out).not.toContain(number.replace(/\D/g, ''));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('keeps changedShare in [0, 1] and the output within maxChars', () => {
    fc.assert(
      fc.property(messy, maxChars, (text, max) => {
        const result = sanitizerFor(max).sanitize(text);
        expect(result.changedShare).toBeGreaterThanOrEqual(0);
        expect(result.changedShare).toBeLessThanOrEqual(1);
        // Lengths are in characters, i.e. code points.
        expect(countChars(result.text)).toBeLessThanOrEqual(max);
        expect(result.finalLength).toBe([...result.text].length);
        expect(result.originalLength).toBe([...text].length);
        expect(result.changedChars).toBe(result.stages.reduce((sum, s) => sum + s.charsChanged, 0));
        expect(result.changedChars).toBeLessThanOrEqual(result.originalLength);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('removes elements of any name that carry an event handler', () => {
    // Elements whose content is not text (removed with it) are left out.
    const rawText = [
      'script',
      'style',
      'textarea',
      'noscript',
      'iframe',
      'xmp',
      'noembed',
      'noframes',
      'title',
    ];
    const name = fc
      .stringMatching(/^[a-zA-Z][a-zA-Z0-9:.-]{0,8}$/)
      .filter((n) => !rawText.includes(n.toLowerCase()) && n.toLowerCase() !== 'plaintext');
    const sep = fc.constantFrom(' ', '\n', '\t', '/', ' x="1" ', " y='>' ", '\n\t/');
    const handler = fc.stringMatching(/^on[a-z]{1,12}$/);
    const value = fc.constantFrom('alert(1)', '"alert(1)"', "'x()'", ' = y()');
    const close = fc.boolean();
    fc.assert(
      fc.property(name, sep, handler, value, close, (n, s, h, v, c) => {
        const tag = `<${n}${s}${h}=${v}>`;
        const out = sanitizerFor(100_000).sanitize(`before ${tag}inner${c ? `</${n}>` : ''} after`);
        expect(out.text).toBe(`before inner after`);
        expect(out.counts.markup).toBeGreaterThan(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the scrubber is idempotent and leaves no escape, bidi or control character', () => {
    const scrub = createScrubber();
    fc.assert(
      fc.property(messy, (text) => {
        const once = scrub(text);
        expect(scrub(once)).toBe(once);
        expect(once).not.toMatch(/[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]/);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('leaves plain printable text without markup, digits or special characters unchanged', () => {
    const plain = fc.string({ unit: 'grapheme', maxLength: 60 }).map((s) => s.normalize('NFC'));
    fc.assert(
      fc.property(plain, (text) => {
        fc.pre(!/[<>&@:\d\u00A0\u202F\u2007[\]]/.test(text));
        fc.pre(!/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/u.test(text));
        expect(sanitizerFor(100_000).sanitize(text).text).toBe(text);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
