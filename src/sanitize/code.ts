/**
 * Markdown code in a message: fenced code blocks (```` ``` ```` or `~~~`, closed by a fence of the
 * same character at least as long) and inline code spans (a backtick run closed by the next run of
 * the same length), found the way CommonMark finds them, in linear time. The `markup` stage leaves
 * what is inside them alone: code is text, not markup.
 *
 * Simplifications: an unclosed fence or backtick run protects nothing (it is read as text), inline
 * spans may cross blank lines, and indented code blocks are not recognised.
 */

/** A `[start, end)` range of UTF-16 offsets. */
export type CodeSpan = readonly [number, number];

const openFence = /^[ \t]{0,3}(`{3,}|~{3,})/gm;
const closeBackticks = /^[ \t]{0,3}(`{3,})[ \t\r]*$/gm;
const closeTildes = /^[ \t]{0,3}(~{3,})[ \t\r]*$/gm;
const backtickRun = /`+/g;

/** Inline code spans within `text[from, to)`, appended to `out`. */
function inlineSpans(text: string, from: number, to: number, out: CodeSpan[]): void {
  const runs: Array<[number, number]> = [];
  backtickRun.lastIndex = from;
  for (let m = backtickRun.exec(text); m !== null && m.index < to; m = backtickRun.exec(text)) {
    runs.push([m.index, Math.min(to, m.index + m[0].length)]);
  }
  if (runs.length < 2) return;
  // For each run, the index of the next run of the same length (or -1): one backward walk.
  const next = new Int32Array(runs.length).fill(-1);
  const lastOfLength = new Map<number, number>();
  for (let i = runs.length - 1; i >= 0; i--) {
    const len = runs[i]![1] - runs[i]![0];
    next[i] = lastOfLength.get(len) ?? -1;
    lastOfLength.set(len, i);
  }
  for (let i = 0; i < runs.length; i++) {
    const j = next[i]!;
    if (j < 0) continue; // no closing run: the backticks are literal
    out.push([runs[i]![0], runs[j]![1]]);
    i = j;
  }
}

/** Code blocks and spans in `text`, sorted and not overlapping. */
export function findCode(text: string): CodeSpan[] {
  const spans: CodeSpan[] = [];
  if (!text.includes('`') && !text.includes('~~~')) return spans;
  // Smallest fence length known to have no closing line after the current position, by character.
  const noClose: Record<string, number> = { '`': Infinity, '~': Infinity };
  let gapStart = 0;
  openFence.lastIndex = 0;
  for (let m = openFence.exec(text); m !== null; m = openFence.exec(text)) {
    const fence = m[1]!;
    const char = fence[0]!;
    const lineEnd = text.indexOf('\n', m.index);
    const end = lineEnd === -1 ? text.length : lineEnd;
    // The info string of a backtick fence holds no backtick (else the line is inline code).
    const info = char === '`' && text.slice(m.index + m[0].length, end).includes('`');
    if (info || lineEnd === -1 || fence.length >= noClose[char]!) {
      openFence.lastIndex = end;
      continue;
    }
    const close = char === '`' ? closeBackticks : closeTildes;
    close.lastIndex = lineEnd + 1;
    let found: RegExpExecArray | null = null;
    for (let c = close.exec(text); c !== null; c = close.exec(text)) {
      if (c[1]!.length >= fence.length) {
        found = c;
        break;
      }
    }
    if (found === null) {
      noClose[char] = fence.length;
      openFence.lastIndex = end;
      continue;
    }
    const start = m.index + m[0].length - fence.length;
    inlineSpans(text, gapStart, start, spans);
    const blockEnd = found.index + found[0].length;
    spans.push([start, blockEnd]);
    gapStart = blockEnd;
    openFence.lastIndex = blockEnd;
  }
  inlineSpans(text, gapStart, text.length, spans);
  return spans;
}
