/**
 * What a "character" is in Herald's limits (docs/protocol.md): a Unicode code point.
 * A surrogate pair (an emoji, a rare CJK ideograph) is one character; a lone surrogate is one too.
 * Everything that counts or cuts characters (the `length` step, `originalLength`, `finalLength`,
 * `changedChars`, the chat message limit) uses these helpers, so they all agree.
 */

/** Only a high surrogate can start a pair; one-byte strings cannot hold one, so this is instant. */
const HIGH_SURROGATE = /[\uD800-\uDBFF]/;

/** Code points in `text` (a surrogate pair counts once); faster than `[...text].length`. */
export function countChars(text: string): number {
  if (!HIGH_SURROGATE.test(text)) return text.length;
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * The UTF-16 index just after the first `chars` code points of `text` (`text.length` when it has
 * no more than that), so `text.slice(0, charOffset(text, n))` is the first `n` characters and never
 * ends in half a surrogate pair.
 */
export function charOffset(text: string, chars: number): number {
  if (chars <= 0) return 0;
  if (chars >= text.length) return text.length;
  if (!HIGH_SURROGATE.test(text)) return chars;
  let i = 0;
  for (let n = 0; n < chars && i < text.length; n++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      i += next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
    } else {
      i++;
    }
  }
  return i;
}
