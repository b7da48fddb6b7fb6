/**
 * Stage `length`: the sanitized text cut to the configured maximum (kind `truncated`), counted in
 * characters, i.e. Unicode code points (see `chars.ts`), as every length in Herald is.
 *
 * Why: downstream limits (model context, storage, the timeline) are set for the chat message limit;
 * placeholders can make a sanitized message a little longer than the raw one, so the cut happens
 * last, on what will actually be stored and sent.
 *
 * The cut never splits a surrogate pair, and steps back over combining marks, variation selectors,
 * skin-tone modifiers, emoji tag characters and a joiner, so it does not leave half a character
 * or half an emoji ZWJ sequence; nor does it leave half a placeholder (`[EMA`). A cut can also leave a fragment that earlier stages would now treat
 * differently (the first 16 digits of a longer number can pass the Luhn check); when a `recheck`
 * is given (the pipeline passes its earlier stages), the cut moves back to before such a fragment,
 * so that sanitizing the output again changes nothing.
 */
import { charOffset, countChars } from '../chars.js';
import { type Stage, Tally, untouched } from '../stage.js';

export interface LengthStageOptions {
  /** The most characters (code points) to keep. */
  maxChars: number;
  /** Runs the text through the earlier stages; the cut is moved until this returns its input. */
  recheck?: (text: string) => string;
}

/** How far back the cut may step to keep a character together; beyond it, only pairs are kept. */
const MAX_STEP_BACK = 32;
const MAX_RECHECKS = 8;
/** Longest placeholder, `[SECRET]`. */
const PLACEHOLDER_MAX = 8;
/** The placeholders that the `pii` and `secrets` stages put in place of what they replaced. */
const PLACEHOLDERS = /\[(?:EMAIL|PHONE|SSN|CARD|IBAN|IP|SECRET)\]/g;

/**
 * What a cut adds to `changedChars`, which the protocol counts in the original message: the original
 * characters whose sanitized counterparts were all cut off and that no earlier stage counted yet.
 * Of the text cut off, a character that earlier stages left alone stands for itself (one original
 * character, not counted yet), while a placeholder stands for a value the `pii` or `secrets` stage
 * already counted in full, so it adds nothing. Hence: code points cut minus the code points of the
 * placeholders among them. The cut never splits a placeholder, so this is exact for plain text and
 * placeholders; a space that was a non-breaking space, or a letter that NFC composed, would be
 * counted a second time, which the pipeline bounds (no stage counts more than the original
 * characters not counted yet). A literal `[EMAIL]` that the user typed is taken for a placeholder.
 */
const originalCharsCut = (cutOff: string): number => {
  let placeholderChars = 0;
  if (cutOff.includes('[')) for (const m of cutOff.matchAll(PLACEHOLDERS)) placeholderChars += m[0].length;
  return countChars(cutOff) - placeholderChars;
};

export function createLengthStage(options: LengthStageOptions): Stage {
  const { maxChars, recheck } = options;
  // Characters that belong to the character before them: marks (including variation selectors),
  // skin-tone modifiers, emoji tag characters, and the joiner itself.
  const placeholder = /\[[A-Z]{2,6}\]/y;
  const extending = /^(?:[\p{M}\p{Emoji_Modifier}\u{E0020}-\u{E007F}]|\u200D)/u;

  const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
  const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

  /** A cut position <= `limit` that splits no surrogate pair and, if it can, no character. */
  const safeCut = (text: string, limit: number): number => {
    let cut = Math.min(limit, text.length);
    if (cut === text.length) return cut;
    // Keep a placeholder of an earlier stage (`[EMAIL]`, `[SECRET]`…) whole or drop it whole.
    const open = text.lastIndexOf('[', cut - 1);
    if (open >= 0 && cut - open < PLACEHOLDER_MAX) {
      placeholder.lastIndex = open;
      if (placeholder.test(text) && placeholder.lastIndex > cut) cut = open;
    }
    const pairSafe = (at: number): number =>
      at > 0 && at < text.length && isHigh(text.charCodeAt(at - 1)) && isLow(text.charCodeAt(at))
        ? at - 1
        : at;
    cut = pairSafe(cut);
    const start = cut;
    while (cut > 0 && start - cut < MAX_STEP_BACK) {
      const next = text.codePointAt(cut);
      const before = text.charCodeAt(cut - 1);
      const splitsCharacter =
        (next !== undefined && extending.test(String.fromCodePoint(next))) || before === 0x200d;
      if (!splitsCharacter) return cut;
      cut = pairSafe(cut - 1);
    }
    return cut > 0 ? cut : start;
  };

  return {
    name: 'length',
    run(text) {
      if (text.length <= maxChars || countChars(text) <= maxChars) return untouched('length', text);
      let out = text.slice(0, safeCut(text, charOffset(text, maxChars)));
      if (recheck) {
        for (let i = 0; i < MAX_RECHECKS; i++) {
          const again = recheck(out);
          if (again === out || out.length === 0) break;
          // Cut before the first character the earlier stages would change.
          let d = 0;
          while (d < out.length && d < again.length && out.charCodeAt(d) === again.charCodeAt(d)) d++;
          out = out.slice(0, safeCut(out, Math.min(d, out.length - 1)));
        }
      }
      const tally = new Tally('length');
      tally.add('truncated', originalCharsCut(text.slice(out.length)));
      return { text: out, report: tally.report() };
    },
  };
}
