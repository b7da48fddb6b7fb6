/**
 * The sanitization pipeline (contract section 8): a fixed, named list of stages, run in the order
 * of {@link STAGE_NAMES}. Each stage gets the previous stage's output (and the text as received, which
 * only `injection` reads) and reports what it did; the result sums the reports.
 *
 * A sanitizer is built once (all regular expressions are compiled then) and is stateless between
 * calls, so one instance serves every message. Sanitizing its own output again changes nothing.
 */
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
    createMarkupStage(),
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
      let text = input;
      let changedChars = 0;
      for (const stage of stages) {
        const { text: next, report } = stage.run(text, input);
        text = next;
        reports.push(report);
        counts[stage.name] = report.count;
        changedChars += report.charsChanged;
      }
      const originalLength = input.length;
      return {
        text,
        originalLength,
        finalLength: text.length,
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
 * Only the `pii` and `secrets` steps, as a plain text function: for text that Herald did not
 * receive as a user message but must not leak either (agent message content and data published by
 * producers). Like the full pipeline, it is built once and is idempotent.
 */
export function createScrubber(): (text: string) => string {
  const secrets = createSecretScanner();
  const pii = createPiiStage(secrets);
  const secretsStage = createSecretsStage(secrets);
  return (text) => secretsStage.run(pii.run(text, text).text, text).text;
}
