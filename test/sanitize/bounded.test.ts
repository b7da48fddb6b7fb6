import fc from 'fast-check';
import { Parser } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { createSanitizer } from '../../src/sanitize/index.js';
import { createMarkupStage, MAX_PARSE_DEPTH, nesting } from '../../src/sanitize/stages/markup.js';

/**
 * The markup step's work is linear in its input (issue 10): proved by counting, not timing. What the
 * HTML parser is given is counted (characters, and the sum of its open-element stack's depth at each
 * start tag, which is what htmlparser2's stack costs it); text nested deeper than MAX_PARSE_DEPTH goes
 * to a one-pass tag stripper instead. Times are for `npm run bench` (the sanitizer-worst row).
 */
const SHAPES: Record<string, string> = {
  nestedDiv: '<div>',
  unclosedPairs: '<b><i>',
  strayEndTags: '<div></x>',
  nestedParagraphs: '<p>x',
  oddNames: '<a\u{1F600}></a>',
  deepThenClosed: `${'<span>'.repeat(MAX_PARSE_DEPTH)}x${'</span>'.repeat(MAX_PARSE_DEPTH)}`,
  unclosedAttribute: '<a href="',
  comments: '<!--',
  tagSoup: '<b x=1 onclick=y><i></b></i><table><td>',
};
const fill = (unit: string, n: number): string => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

/** Parser work for one run of the markup stage on `text`. */
const workOf = (text: string) => {
  const w = { parsedChars: 0, stackWork: 0, strippedChars: 0 };
  const stage = createMarkupStage(undefined, {
    onParse: (chars, stackWork) => {
      w.parsedChars += chars;
      w.stackWork += stackWork;
    },
    onStrip: (chars) => {
      w.strippedChars += chars;
    },
  });
  const out = stage.run(text, text).text;
  return { ...w, out };
};

describe('markup work is linear in the input', () => {
  it.each(Object.entries(SHAPES))(
    '%s: work per character is bounded and does not grow with length',
    (_name, unit) => {
      const small = workOf(fill(unit, 10_000));
      const large = workOf(fill(unit, 100_000));
      for (const [w, n] of [
        [small, 10_000],
        [large, 100_000],
      ] as const) {
        // Each character is handed to the parser or the stripper a bounded number of times…
        expect(w.parsedChars + w.strippedChars).toBeLessThanOrEqual(12 * n);
        // …and the parser's stack work per character is at most the depth cap.
        expect(w.stackWork).toBeLessThanOrEqual(MAX_PARSE_DEPTH * n);
      }
      // Ten times the text, at most about ten times the work (the worst shapes before: a hundred times).
      const total = (w: typeof small) => w.parsedChars + w.strippedChars + w.stackWork;
      expect(total(large)).toBeLessThanOrEqual(11 * Math.max(1, total(small)));
    },
  );

  it('nesting() never reports less depth than htmlparser2 reaches', () => {
    const piece = fc.constantFrom(
      '<b>',
      '</b>',
      '<i>',
      '</i>',
      '<p>',
      '</p>',
      '<div>',
      '</x>',
      '<br>',
      '<td>',
      '<table>',
      '<svg><g/>',
      '</svg>',
      '<a\u{1F600}>',
      '</a>',
      'x',
      '<!--',
      '-->',
      '<script>',
      '</script>',
      '<b/>',
      '<li>',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 80 }), (pieces) => {
        const text = pieces.join('');
        let max = 0;
        // htmlparser2's own stack of open elements (void elements never enter it).
        const stack = (): number => (parser as unknown as { stack: string[] }).stack.length;
        const parser: Parser = new Parser(
          {
            onopentag: () => {
              max = Math.max(max, stack());
            },
          },
          { decodeEntities: false },
        );
        parser.write(text);
        parser.end();
        expect(nesting(text).maxDepth).toBeGreaterThanOrEqual(max);
      }),
      { numRuns: 500, seed: 11 },
    );
  });

  it('text nested too deep is still stripped of every tag, script content included, and stays stable', () => {
    const sanitizer = createSanitizer({ maxChars: 200_000 });
    const deep = `${'<div>'.repeat(MAX_PARSE_DEPTH + 1)}<script>alert(1)</script><b onclick="x()">hello</b> a < b`;
    const r = sanitizer.sanitize(deep);
    expect(r.text).toBe('hello a < b');
    expect(r.counts.markup).toBeGreaterThan(MAX_PARSE_DEPTH);
    expect(r.stages.find((s) => s.stage === 'markup')!.kinds.script).toBe(1);
    expect(sanitizer.sanitize(r.text).text).toBe(r.text);
    for (const unit of Object.values(SHAPES)) {
      const once = sanitizer.sanitize(fill(unit, 20_000)).text;
      expect(once).not.toMatch(/<[a-z]/i);
      expect(sanitizer.sanitize(once).text).toBe(once);
    }
  });
});
