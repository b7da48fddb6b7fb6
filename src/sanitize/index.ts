/** The sanitization module's public surface (docs/protocol.md, section 9). */
export { charOffset, countChars } from './chars.js';
export {
  createInjectionClassifier,
  type InjectionClassifier,
  readVerdict,
  type Verdict,
  withClassifier,
} from './classifier.js';
export { createSanitizer, createScrubber, type Sanitizer } from './pipeline.js';
export type { SanitizeOptions, SanitizeResult, StageName, StageReport } from './types.js';
export { STAGE_NAMES } from './types.js';
