/**
 * The shape every sanitization stage has, and small helpers they share.
 *
 * A stage is a pure function of its input (plus, for `injection`, the text as received): it never
 * keeps state between calls, so one pipeline instance can serve every message.
 */
import type { StageName, StageReport } from './types.js';

export interface StageOutput {
  text: string;
  report: StageReport;
}

export interface Stage {
  readonly name: StageName;
  /**
   * @param text the output of the previous stage
   * @param original the message exactly as received (only `injection` looks at it)
   */
  run(text: string, original: string): StageOutput;
}

/** Per-call tally of what a stage did, turned into a {@link StageReport} at the end. */
export class Tally {
  count = 0;
  charsChanged = 0;
  readonly kinds: Record<string, number> = {};

  constructor(readonly stage: StageName) {}

  /** Records one thing acted on, of `kind`, that removed or replaced `chars` characters (code points). */
  add(kind: string, chars: number): void {
    this.count += 1;
    this.charsChanged += chars;
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
  }

  report(): StageReport {
    return { stage: this.stage, count: this.count, charsChanged: this.charsChanged, kinds: this.kinds };
  }
}

/** The report of a stage that did nothing. */
export function untouched(stage: StageName, text: string): StageOutput {
  return { text, report: { stage, count: 0, charsChanged: 0, kinds: {} } };
}

const NON_ASCII = /[^\x00-\x7F]/;

/**
 * Removing characters can leave a base letter next to a combining mark that used to be separated
 * from it (`e<U+200B><U+0301>`), i.e. text that is no longer NFC. Stages that remove characters call
 * this so that the pipeline's output stays NFC and a second pass has nothing left to normalize.
 */
export function renormalize(text: string): string {
  return NON_ASCII.test(text) ? text.normalize('NFC') : text;
}
