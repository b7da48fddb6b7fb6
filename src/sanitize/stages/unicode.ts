/**
 * Stage `unicode`: NFC normalization, and non-breaking spaces to plain spaces.
 *
 * Why: the same visible text can be encoded several ways (`é` as one code point or as `e` plus a
 * combining accent). Every later stage, and the model, must see one canonical form, or a filter that
 * matches one spelling misses the other. Non-breaking spaces (U+00A0, U+202F, U+2007) look like
 * spaces but are not whitespace to most word-boundary logic, so they are made ordinary spaces.
 */
import { countChars } from '../chars.js';
import { type Stage, Tally, untouched } from '../stage.js';

export function createUnicodeStage(): Stage {
  const nonAscii = /[^\x00-\x7F]/;
  const nbsp = /[\u00A0\u202F\u2007]/g;
  // A base character with its combining marks (or a run of marks with no base): the unit whose
  // normalization is compared to tell how many characters NFC changed.
  const cluster = /\P{M}\p{M}*|\p{M}+/gu;

  return {
    name: 'unicode',
    run(text) {
      if (!nonAscii.test(text)) return untouched('unicode', text);
      const tally = new Tally('unicode');
      const normalized = text.normalize('NFC');
      if (normalized !== text) {
        const before = tally.count;
        for (const m of text.matchAll(cluster)) {
          const c = m[0];
          if (c.normalize('NFC') !== c) tally.add('normalized', countChars(c));
        }
        // Compositions across clusters (conjoining Hangul jamo) are not seen above; still count them.
        if (tally.count === before)
          tally.add('normalized', Math.max(1, countChars(text) - countChars(normalized)));
      }
      const out = normalized.replace(nbsp, () => {
        tally.add('nbsp', 1);
        return ' ';
      });
      return { text: out, report: tally.report() };
    },
  };
}
