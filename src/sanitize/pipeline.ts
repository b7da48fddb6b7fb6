/**
 * The sanitization pipeline (docs/protocol.md, section 9): a fixed, named list of stages, run in the order
 * of {@link STAGE_NAMES}. Each stage gets the previous stage's output (and the text as received, which
 * only `injection` reads) and reports what it did; the result sums the reports.
 *
 * A sanitizer is built once (all regular expressions are compiled then) and is stateless between
 * calls, so one instance serves every message. Sanitizing its own output again changes nothing.
 *
 * Lengths and changed characters are counted in characters, i.e. Unicode code points (`chars.ts`).
 * The protocol's share of changed characters is "(characters removed or replaced, counted in the
 * original) / (original length)": each stage counts what it removed or replaced in its input, which
 * is the original text except for what earlier stages already changed; the `length` stage counts only
 * the original characters its cut removed (see `length.ts`). So that a stage that counts something a
 * second time cannot push the sum past what the original holds, the pipeline lowers a stage's
 * `charsChanged` to the original characters not yet counted: `changedChars <= originalLength` always.
 */
import { countChars } from './chars.js';
import type { Stage } from './stage.js';
import { createAnsiStage } from './stages/ansi.js';
import { createInjectionStage } from './stages/injection.js';
import { createInvisibleStage } from './stages/invisible.js';
import { createLengthStage } from './stages/length.js';
import { createMarkupStage } from './stages/markup.js';
import { createPiiStage } from './stages/pii.js';
import { createSecretScanner, createSecretsStage } from './stages/secrets.js';
import { createUnicodeStage } from './stages/unicode.js';
import {
  type SanitizeOptions,
  type SanitizeResult,
  STAGE_NAMES,
  type StageName,
  type StageReport,
} from './types.js';

export interface Sanitizer {
  sanitize(text: string): SanitizeResult;
}

export function createSanitizer(options: SanitizeOptions): Sanitizer {
  const { maxChars } = options;
  if (typeof maxChars !== 'number' || Number.isNaN(maxChars) || maxChars < 0) {
    throw new RangeError(`maxChars must be a number >= 0, got ${String(maxChars)}`);
  }
  const limit = Math.floor(maxChars);

  const secrets = createSecretScanner();
  // The stages that change text, in order; `length` re-runs them on its cut to keep idempotence.
  const transforming: Stage[] = [
    createUnicodeStage(),
    createAnsiStage(),
    createInvisibleStage(),
    createMarkupStage(secrets),
    createPiiStage(secrets),
    createSecretsStage(secrets),
  ];
  const transform = (text: string): string => {
    let out = text;
    for (const stage of transforming) out = stage.run(out, text).text;
    return out;
  };
  const stages: Stage[] = [
    ...transforming,
    createInjectionStage(),
    createLengthStage({ maxChars: limit, recheck: transform }),
  ];
  if (stages.some((stage, i) => stage.name !== STAGE_NAMES[i]) || stages.length !== STAGE_NAMES.length) {
    throw new Error('sanitize: stages out of order with STAGE_NAMES');
  }

  return {
    sanitize(input) {
      if (typeof input !== 'string') throw new TypeError('sanitize: text must be a string');
      const counts = {} as Record<StageName, number>;
      const reports: StageReport[] = [];
      const originalLength = countChars(input);
      let text = input;
      let changedChars = 0;
      for (const stage of stages) {
        const { text: next, report } = stage.run(text, input);
        text = next;
        const uncounted = originalLength - changedChars;
        const counted =
          report.charsChanged > uncounted ? { ...report, charsChanged: Math.max(0, uncounted) } : report;
        reports.push(counted);
        counts[stage.name] = counted.count;
        changedChars += counted.charsChanged;
      }
      return {
        text,
        originalLength,
        finalLength: countChars(text),
        changedChars,
        changedShare: originalLength ? Math.min(1, changedChars / originalLength) : 0,
        stages: reports,
        counts,
        injectionDetected: counts.injection > 0,
        secretsFound: counts.secrets,
        truncated: counts.length > 0,
      };
    },
  };
}

/**
 * The `ansi`, `invisible`, `pii` and `secrets` steps, in that order, as a plain text function: for
 * text that Herald did not receive as a user message but must not leak or disguise either (agent
 * message content and the strings in `data` published by producers). Terminal escapes, bidi
 * overrides, zero-width and control characters (but `\n` `\t` `\r`) go, as do PII and secrets.
 * Not `markup` (agent message content is plain text that clients render as text, so `<b>` stays),
 * nor `unicode` or `length`. Like the full pipeline, it is built once and is idempotent; each step
 * returns at once when its quick test finds nothing to do.
 */
export function createScrubber(): (text: string) => string {
  const secrets = createSecretScanner();
  const steps: Stage[] = [
    createAnsiStage(),
    createInvisibleStage(),
    createPiiStage(secrets),
    createSecretsStage(secrets),
  ];
  return (text) => {
    let out = text;
    for (const step of steps) out = step.run(out, text).text;
    return out;
  };
}
