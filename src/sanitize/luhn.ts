/**
 * Luhn (mod 10) check, used to tell payment card numbers from other long digit runs: a 16-digit
 * order id that fails the check is not a card and is left alone.
 */

/** True when `digits` is a non-empty string of ASCII digits whose Luhn checksum is 0. */
export function isLuhnValid(digits: string): boolean {
  if (digits.length < 2) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    const d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      const twice = d * 2;
      sum += twice > 9 ? twice - 9 : twice;
    } else {
      sum += d;
    }
    double = !double;
  }
  return sum % 10 === 0;
}

/** The digit to append to `payload` (ASCII digits) so that the result passes {@link isLuhnValid}. */
export function luhnCheckDigit(payload: string): number {
  for (let d = 0; d <= 9; d++) {
    if (isLuhnValid(payload + d)) return d;
  }
  throw new RangeError('payload must be ASCII digits');
}
