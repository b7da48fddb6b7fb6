/**
 * Stage `invisible`: zero-width, bidi-control and control characters removed (but `\n`, `\t`, `\r`).
 *
 * Why: invisible characters let a message say something other than what it shows. Zero-width
 * characters split words so filters miss them (`ig<U+200B>nore`), bidi overrides make text render
 * in a different order than it is read by the model ("Trojan Source"), Unicode tag characters carry
 * whole hidden instructions ("ASCII smuggling"), and control characters corrupt logs and terminals.
 *
 * What is kept, because it is part of how real text is written and removing it would change what
 * the user wrote:
 * - U+200D ZERO WIDTH JOINER between two emoji (Extended_Pictographic, optionally after a skin-tone
 *   modifier or U+FE0F): it glues 👨‍👩‍👧, 🏳️‍🌈 and 👩🏽‍💻 together. Elsewhere it is removed.
 * - U+200C ZWNJ and U+200D ZWJ between two letters of a script that uses them for shaping (Arabic
 *   and Persian, Syriac, and the Indic scripts): Persian `می‌خواهم` needs its ZWNJ. Between Latin
 *   letters, where they only ever serve to hide words, they are removed.
 * - Tag characters U+E0020–U+E007F inside an emoji tag sequence (🏴 + tags + U+E007F, the flags of
 *   England, Scotland and Wales). Elsewhere they are removed.
 * - U+200E LRM, U+200F RLM and U+061C ALM next to a Hebrew or Arabic letter (either side): bidi
 *   marks are ordinary typography there. Elsewhere they are removed; bidi embeddings, overrides and
 *   isolates (U+202A–U+202E, U+2066–U+2069) are removed everywhere.
 * - U+200B ZERO WIDTH SPACE and U+00AD SOFT HYPHEN between letters of Thai, Lao, Khmer or Myanmar,
 *   which are written without spaces and use them to mark word (and line-break) boundaries.
 * Lone surrogates (broken UTF-16, which cannot be stored or sent as UTF-8) are removed too.
 */
import { countChars } from '../chars.js';
import { renormalize, type Stage, Tally, untouched } from '../stage.js';

/** Scripts whose shaping uses ZWJ/ZWNJ (Script_Extensions, so their combining marks count too). */
const JOINING =
  '[\\p{scx=Arabic}\\p{scx=Syriac}\\p{scx=Nko}\\p{scx=Devanagari}\\p{scx=Bengali}\\p{scx=Gurmukhi}' +
  '\\p{scx=Gujarati}\\p{scx=Oriya}\\p{scx=Tamil}\\p{scx=Telugu}\\p{scx=Kannada}\\p{scx=Malayalam}' +
  '\\p{scx=Sinhala}\\p{scx=Khmer}\\p{scx=Myanmar}]';

/** Right-to-left letters (Hebrew, Arabic and its supplements and presentation forms); not digits. */
const RTL_RANGES =
  '\\u0590-\\u05FF\\u0600-\\u06FF\\u0750-\\u077F\\u08A0-\\u08FF\\uFB50-\\uFDFF\\uFE70-\\uFEFF';
/** One RTL letter or mark before / after the current position (two look-arounds on one character). */
const RTL_BEFORE = `(?<=[${RTL_RANGES}])(?<=[\\p{L}\\p{M}])`;
const RTL_AFTER = `(?=[${RTL_RANGES}])(?=[\\p{L}\\p{M}])`;
/** Scripts written without spaces between words, where U+200B and U+00AD mark word breaks. */
const NO_SPACE = '[\\p{scx=Thai}\\p{scx=Lao}\\p{scx=Khmer}\\p{scx=Myanmar}]';

/** Zero-width and other invisible format characters. */
const ZERO_WIDTH = '\\u200B\\u200C\\u200D\\u2060-\\u2064\\uFEFF\\u00AD\\u180E\\u206A-\\u206F\\uFFF9-\\uFFFB';
/** Bidi embeddings, overrides, isolates and marks. */
const BIDI = '\\u202A-\\u202E\\u2066-\\u2069\\u200E\\u200F\\u061C';
/** C0 and C1 controls and DEL, except tab, line feed and carriage return. */
const CONTROL = '\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F';
const TAGS = '\\u{E0000}-\\u{E007F}';

/** Passes over the text at most (see `run`). */
const MAX_PASSES = 4;

export function createInvisibleStage(): Stage {
  const quick = new RegExp(`[${ZERO_WIDTH}${BIDI}${CONTROL}${TAGS}]|\\p{Cs}`, 'u');
  const pattern = new RegExp(
    [
      // Kept (returned unchanged): emoji tag sequences, emoji ZWJ, shaping joiners.
      `(?<keep>\\u{1F3F4}[\\u{E0020}-\\u{E007E}]+\\u{E007F}` +
        '|(?<=[\\p{Extended_Pictographic}\\p{Emoji_Modifier}]\\uFE0F?)\\u200D(?=\\p{Extended_Pictographic})' +
        `|(?<=${JOINING})[\\u200C\\u200D](?=${JOINING})` +
        // Bidi marks (LRM, RLM, ALM) next to an RTL letter: typography in Hebrew and Arabic text.
        `|${RTL_BEFORE}[\\u200E\\u200F\\u061C]|[\\u200E\\u200F\\u061C]${RTL_AFTER}` +
        // Word separators (ZWSP, soft hyphen) between letters of Thai, Lao, Khmer, Myanmar.
        `|(?<=${NO_SPACE})[\\u200B\\u00AD](?=${NO_SPACE}))`,
      // Removed.
      `(?<zw>[${ZERO_WIDTH}])`,
      `(?<bidi>[${BIDI}])`,
      `(?<control>[${CONTROL}])`,
      `(?<tag>[${TAGS}])`,
      '(?<surrogate>\\p{Cs})',
    ].join('|'),
    'gu',
  );
  const kindOf = (groups: Record<string, string | undefined>): string =>
    groups.zw !== undefined
      ? 'zero_width'
      : groups.bidi !== undefined
        ? 'bidi'
        : groups.control !== undefined
          ? 'control'
          : groups.tag !== undefined
            ? 'tag_char'
            : 'lone_surrogate';

  return {
    name: 'invisible',
    run(text) {
      if (!quick.test(text)) return untouched('invisible', text);
      const tally = new Tally('invisible');
      const remove = (match: string, ...rest: unknown[]) => {
        const groups = rest[rest.length - 1] as Record<string, string | undefined>;
        if (groups.keep !== undefined) return match;
        tally.add(kindOf(groups), countChars(match));
        return '';
      };
      // What is kept depends on its neighbours, and a removal changes them: a joiner kept before
      // a bidi mark (`्` ZWJ ALM) stands alone once the mark goes. So again until nothing more
      // goes, which a pass or two settles; each pass only removes, and the passes are bounded.
      let out = text.replace(pattern, remove);
      for (let pass = 1; pass < MAX_PASSES && tally.count > 0; pass++) {
        const before = tally.count;
        out = out.replace(pattern, remove);
        if (tally.count === before) break;
      }
      if (tally.count === 0) return untouched('invisible', text);
      return { text: renormalize(out), report: tally.report() };
    },
  };
}
