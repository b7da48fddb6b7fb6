import { describe, expect, it } from 'vitest';
import { isLuhnValid, luhnCheckDigit } from '../../src/sanitize/luhn.js';

describe('luhn', () => {
  it('accepts well-known valid test card numbers', () => {
    for (const n of [
      '4111111111111111',
      '5555555555554444',
      '378282246310005',
      '6011111111111117',
      '79927398713',
    ]) {
      expect(isLuhnValid(n)).toBe(true);
    }
  });

  it('rejects a number with one digit changed', () => {
    expect(isLuhnValid('4111111111111112')).toBe(false);
    expect(isLuhnValid('1234567890123456')).toBe(false);
  });

  it('rejects non-digits and too-short input', () => {
    expect(isLuhnValid('')).toBe(false);
    expect(isLuhnValid('0')).toBe(false);
    expect(isLuhnValid('4111 1111 1111 1111')).toBe(false);
    expect(isLuhnValid('41111111111a1111')).toBe(false);
  });

  it('computes the check digit that makes a payload valid', () => {
    expect(luhnCheckDigit('411111111111111')).toBe(1);
    expect(luhnCheckDigit('7992739871')).toBe(3);
    expect(isLuhnValid(`453201511283036${luhnCheckDigit('453201511283036')}`)).toBe(true);
    expect(() => luhnCheckDigit('12a')).toThrow(RangeError);
  });
});
