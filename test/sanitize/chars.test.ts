import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { charOffset, countChars } from '../../src/sanitize/chars.js';

describe('countChars (lengths counted UTF-16 code units, not characters)', () => {
  it('counts code points: a surrogate pair is one character', () => {
    expect(countChars('')).toBe(0);
    expect(countChars('hello')).toBe(5);
    expect(countChars('😀')).toBe(1);
    expect(countChars('a😀b')).toBe(3);
    expect(countChars('👨‍👩‍👧')).toBe(5);
    expect(countChars('𝒜𝒷𝒸')).toBe(3);
    expect(countChars('日本語')).toBe(3);
  });

  it('counts a lone surrogate as one character', () => {
    expect(countChars('\uD800')).toBe(1);
    expect(countChars('\uDC00\uD800')).toBe(2);
    expect(countChars('a\uD83D')).toBe(2);
  });

  it('agrees with [...text].length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(countChars(text)).toBe([...text].length);
      }),
    );
  });
});

describe('charOffset', () => {
  it('gives the UTF-16 index after the first n code points', () => {
    expect(charOffset('a😀b', 0)).toBe(0);
    expect(charOffset('a😀b', 1)).toBe(1);
    expect(charOffset('a😀b', 2)).toBe(3);
    expect(charOffset('a😀b', 3)).toBe(4);
    expect(charOffset('a😀b', 10)).toBe(4);
    expect(charOffset('abc', 2)).toBe(2);
  });

  it('slices to exactly the first n characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.nat(40), (text, n) => {
        expect(text.slice(0, charOffset(text, n))).toBe([...text].slice(0, n).join(''));
      }),
    );
  });
});
