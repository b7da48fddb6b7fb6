/**
 * The sanitization pipeline's public types (docs/protocol.md, section 9). Every length and count of
 * characters here is in Unicode code points (see `chars.ts`), the unit of the protocol's limits.
 */

/** The fixed, ordered stage names. `injection` looks at the text as received and changes nothing. */
export const STAGE_NAMES = [
  'unicode',
  'ansi',
  'invisible',
  'markup',
  'pii',
  'secrets',
  'injection',
  'length',
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** What one stage did. */
export interface StageReport {
  stage: StageName;
  /** Number of things the stage acted on (tags removed, e-mails replaced, phrases found…). */
  count: number;
  /**
   * Characters (code points) removed or replaced by this stage, counted in the stage's input; for
   * `length`, the original characters its cut removed (see `stages/length.ts`). In a result, never
   * more than the original characters that earlier stages did not count.
   */
  charsChanged: number;
  /** Counts by kind, e.g. { email: 2, card: 1 } for pii, { script: 1, tag: 3 } for markup. */
  kinds: Record<string, number>;
}

export interface SanitizeResult {
  /** The clean text: what the model and the timeline see. */
  text: string;
  /** Characters (code points) in the message as received. */
  originalLength: number;
  /** Characters (code points) in `text`. */
  finalLength: number;
  /** Characters removed or replaced, counted in the original (sum over stages), <= originalLength. */
  changedChars: number;
  /** changedChars / originalLength, between 0 and 1 (0 for an empty input). */
  changedShare: number;
  /** One report per stage, in STAGE_NAMES order. */
  stages: StageReport[];
  /** count by stage name. */
  counts: Record<StageName, number>;
  injectionDetected: boolean;
  secretsFound: number;
  truncated: boolean;
}

export interface SanitizeOptions {
  /** Cut the sanitized text to this many characters, i.e. code points (the `length` stage). */
  maxChars: number;
}
