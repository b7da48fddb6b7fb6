/**
 * Stage `ansi`: ANSI / ECMA-48 escape sequences removed.
 *
 * Why: text pasted from a terminal carries colour codes, cursor moves, window-title and hyperlink
 * (OSC 8) sequences. They are invisible in a browser, noise to the model, and can rewrite what an
 * operator sees when the text reaches a terminal (log tailing). The whole sequence is removed, not
 * only the ESC byte, so no `[31m` debris is left behind. A lone ESC or C1 byte that starts no
 * sequence is left to the `invisible` stage, which removes control characters.
 */
import { countChars } from '../chars.js';
import { renormalize, type Stage, Tally, untouched } from '../stage.js';

export function createAnsiStage(): Stage {
  const quick = /[\x1B\x90\x98\x9B\x9D\x9E\x9F]/;
  // Every alternative is a fixed prefix followed by character classes with disjoint ranges, so
  // matching is linear: no nested quantifiers, nothing to backtrack into. String bodies stop at the
  // next sequence introducer, so an unterminated OSC cannot make every later one rescan the text.
  const sequence = new RegExp(
    [
      // CSI: ESC [ (or 8-bit 0x9B), parameter bytes, intermediate bytes, one final byte.
      '(?<csi>(?:\\x1B\\[|\\x9B)[0-?]*[ -/]*[@-~])',
      // OSC: ESC ] (or 0x9D) … terminated by BEL or ST (ESC \ or 0x9C).
      '(?<osc>(?:\\x1B\\]|\\x9D)[^\\x07\\x1B\\x90\\x98\\x9B-\\x9F]*(?:\\x07|\\x1B\\\\|\\x9C))',
      // DCS, SOS, PM, APC: ESC P/X/^/_ (or 8-bit) … terminated by ST.
      '(?<str>(?:\\x1B[PX^_]|[\\x90\\x98\\x9E\\x9F])[^\\x1B\\x90\\x98\\x9B-\\x9F]*(?:\\x1B\\\\|\\x9C))',
      // Any other escape: ESC, intermediate bytes, one final byte (charset selection, ESC 7, ESC c…).
      // Not with a space as intermediate (ECMA-35 allows it, for announcers nobody pastes): an ESC
      // before a space is a stray one, and taking the next word's first character as a final
      // byte would glue two words (`A6 ESC 6011…` would become `A6011…`, hiding a card number).
      '(?<esc>\\x1B[!-/]*[0-~])',
    ].join('|'),
    'g',
  );

  return {
    name: 'ansi',
    run(text) {
      if (!quick.test(text)) return untouched('ansi', text);
      const tally = new Tally('ansi');
      const out = text.replace(sequence, (match: string, ...rest: unknown[]) => {
        const groups = rest[rest.length - 1] as Record<string, string | undefined>;
        const kind = groups.csi ? 'csi' : groups.osc ? 'osc' : groups.str ? 'string' : 'escape';
        tally.add(kind, countChars(match));
        return '';
      });
      if (tally.count === 0) return untouched('ansi', text);
      return { text: renormalize(out), report: tally.report() };
    },
  };
}
