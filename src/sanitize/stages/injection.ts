/**
 * Stage `injection`: prompt-injection phrases detected and counted; the text is not changed.
 *
 * Why: a message that tries to override the model's instructions ("ignore all previous
 * instructions"), switch it into a jailbreak persona ("you are now DAN", "developer mode"), fake a
 * system turn (`<|im_start|>system`, `[SYSTEM]`, `### system:`) or extract the system prompt is a
 * security event worth an alert, but it is still the user's message: it is kept as written and the
 * model's own defences apply. Blocking on a phrase list would only teach attackers the list.
 *
 * It looks at the text as received (the `original` argument), not at what earlier stages made of
 * it, but through a normalized view, because attackers hide phrases: NFKC (full-width and other
 * compatibility letters become plain ones), ANSI sequences and zero-width, bidi, tag and control
 * characters removed (`ig<U+200B>nore`), lower case; and, when the text has `<`, through the same
 * view of it with HTML comments and tags removed (`Ig<b></b>nore`, `pre<!-- -->vious`), counting
 * each kind at the larger of its two counts. Kinds: `override`, `jailbreak`, `roleplay`,
 * `system_tag`, `exfiltration`. `charsChanged` is always 0.
 */
import { type Stage, Tally, untouched } from '../stage.js';

/** Words that may stand between a verb and its object: "ignore all of the previous instructions". */
const FILLER = '(?:(?:all|any|every|each|the|these|those|my|your|of|about|everything)\\s+){0,4}';
const INSTRUCTIONS =
  '(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|programming|commands|context)\\b';
const EARLIER = '(?:previous|prior|above|earlier|preceding|former|foregoing|original|initial|system)';

const PATTERNS: Record<string, string[]> = {
  override: [
    `\\bignore\\s+${FILLER}${EARLIER}\\s+(?:[a-z]+\\s+)?${INSTRUCTIONS}`,
    `\\bdisregard\\s+(?:[\\w'-]+\\s+){0,5}?${INSTRUCTIONS}`,
    `\\bforget\\s+${FILLER}(?:${EARLIER}\\s+)?${INSTRUCTIONS}`,
    `\\boverride\\s+${FILLER}(?:${EARLIER}\\s+|safety\\s+)?${INSTRUCTIONS}`,
    '\\b(?:new|updated|revised)\\s+instructions\\s*:',
  ],
  jailbreak: [
    '\\byou\\s+are\\s+now\\s+dan\\b',
    '\\bdo\\s+anything\\s+now\\b',
    '\\bdan\\s+mode\\b',
    '\\bjailbr(?:ea|o)k',
    '\\bdeveloper\\s+mode\\b',
  ],
  roleplay: [
    "\\bpretend\\s+(?:that\\s+)?(?:you\\s+are|you're|to\\s+be)\\b",
    "\\bact\\s+as\\s+(?:[\\w'-]+\\s+){0,8}?(?:without|with\\s+no|free\\s+(?:of|from))\\s+(?:any\\s+)?(?:restrictions|limits|limitations|filters|rules|guidelines|censorship|boundaries|morals|ethics)\\b",
    "\\bfrom\\s+now\\s+on,?\\s+you\\s+(?:are|will\\s+be|'re)\\b",
    '\\brole-?\\s?play\\s+as\\b',
  ],
  system_tag: [
    '<\\|im_start\\|>\\s*system\\b',
    '<\\|(?:system|im_system|start_header_id)\\|>',
    '\\[\\s*/?\\s*(?:system|inst)\\s*\\]',
    '<\\s*system\\s*>',
    '<<\\s*sys\\s*>>',
    '(?:^|\\n)[ \\t]*#{1,6}[ \\t]*system(?:[ \\t]+(?:prompt|message))?[ \\t]*:',
  ],
  exfiltration: [
    '\\b(?:reveal|show|print|display|repeat|output|leak|dump|expose|share|tell\\s+me|give\\s+me|what\\s+(?:is|are|was|were))\\s+(?:me\\s+)?(?:your|the)\\s+(?:(?:full|entire|original|hidden|initial|secret|exact|complete|current)\\s+){0,2}(?:system\\s+(?:prompt|message|instructions)|(?:hidden|initial|secret|original)\\s+(?:prompt|instructions))\\b',
    '\\brepeat\\s+(?:everything|all|the\\s+(?:text|words|lines))\\s+above\\b',
  ],
};

export function createInjectionStage(): Stage {
  const nonAscii = /[^\x00-\x7F]/;
  const ansi = /(?:\x1B\[|\x9B)[0-?]*[ -/]*[@-~]|\x1B[ -/]*[0-~]/g;
  const hidden =
    /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF\uFFF9-\uFFFB]|\u034F|\p{Variation_Selector}|[\u{E0000}-\u{E007F}]/gu;
  const detectors = Object.entries(PATTERNS).map(([kind, sources]) => ({
    kind,
    re: new RegExp(sources.join('|'), 'g'),
  }));

  const view = (original: string): string => {
    let v = original;
    if (nonAscii.test(v)) v = v.normalize('NFKC');
    if (v.includes('\x1B') || v.includes('\x9B')) v = v.replace(ansi, '');
    return v.replace(hidden, '').toLowerCase();
  };

  /**
   * The text without HTML comments and tags, as the model receives it after `markup`
   * (`Ig<b></b>nore`, `pre<!-- -->vious`). Detection only, never output, so a rough cut is enough:
   * a comment runs to `-->` (or the end), a tag from `<` to the next `>` with no `<` in between.
   */
  const tag = /<[^<>]*>/g;
  const withoutMarkup = (text: string): string => {
    let out = '';
    let pos = 0;
    for (let open = text.indexOf('<!--'); open !== -1; open = text.indexOf('<!--', pos)) {
      const close = text.indexOf('-->', open + 4);
      out += text.slice(pos, open);
      pos = close === -1 ? text.length : close + 3;
    }
    return (out + text.slice(pos)).replace(tag, '');
  };

  /** Matches by kind in `view`. */
  const countKinds = (v: string): Map<string, number> => {
    const found = new Map<string, number>();
    for (const { kind, re } of detectors) {
      let n = 0;
      for (const _ of v.matchAll(re)) n++;
      if (n > 0) found.set(kind, n);
    }
    return found;
  };

  return {
    name: 'injection',
    run(text, original) {
      const found = countKinds(view(original));
      if (original.includes('<')) {
        // A phrase found in both views is counted once: by kind, the larger of the two counts.
        const stripped = withoutMarkup(original);
        if (stripped !== original) {
          for (const [kind, n] of countKinds(view(stripped)))
            found.set(kind, Math.max(n, found.get(kind) ?? 0));
        }
      }
      if (found.size === 0) return untouched('injection', text);
      const tally = new Tally('injection');
      // In detector order, as before.
      for (const { kind } of detectors) for (let i = found.get(kind) ?? 0; i > 0; i--) tally.add(kind, 0);
      return { text, report: tally.report() };
    },
  };
}
