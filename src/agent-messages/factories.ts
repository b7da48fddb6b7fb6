/**
 * One factory per agent type for the messages Herald itself makes. Content is plain text
 * with light Markdown and never repeats a removed value: only counts and kinds.
 */
import type { SanitizeResult, StageReport } from '../sanitize/types.js';
import type { AgentMessageInput } from './schema.js';

const STAGE_VERBS: Record<string, string> = {
  unicode: 'normalized',
  ansi: 'removed',
  invisible: 'removed',
  markup: 'removed',
  pii: 'replaced',
  secrets: 'replaced',
  injection: 'detected',
  length: 'cut',
};

const kindsText = (kinds: Record<string, number>): string =>
  Object.entries(kinds)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind.replaceAll('_', ' ')} ${n}`)
    .join(', ');

/**
 * Kinds the markup step reports on top of its count (attributes and links of what it removed),
 * told apart so the kinds in parentheses add up to the count.
 */
const ALSO_KINDS = new Set(['event_handler', 'js_url']);

function stageLine(report: StageReport): string {
  const counted: Record<string, number> = {};
  const also: Record<string, number> = {};
  for (const [kind, n] of Object.entries(report.kinds)) (ALSO_KINDS.has(kind) ? also : counted)[kind] = n;
  const told = Object.values(counted).reduce((a, b) => a + b, 0);
  if (told < report.count && told > 0) counted.other = (counted.other ?? 0) + report.count - told;
  const kinds = kindsText(counted);
  const extra = kindsText(also);
  return (
    `- ${report.stage}: ${report.count} ${STAGE_VERBS[report.stage] ?? 'changed'}${kinds ? ` (${kinds})` : ''}` +
    (extra ? `, with ${extra}` : '')
  );
}

/** True when a sanitization summary is due (docs/protocol.md, section 3). */
export function needsSummary(result: SanitizeResult, threshold: number): boolean {
  return (
    result.changedShare > threshold ||
    result.counts.markup > 0 ||
    result.counts.pii > 0 ||
    result.counts.secrets > 0
  );
}

/** True when a security alert is due (docs/protocol.md, section 3). */
export const needsSecurityAlert = (result: SanitizeResult): boolean =>
  result.secretsFound > 0 || result.injectionDetected;

/** The metrics that go into `data`: lengths, share changed, counts by stage and kind. */
export function sanitizationData(result: SanitizeResult): Record<string, unknown> {
  const kinds: Record<string, Record<string, number>> = {};
  for (const s of result.stages) if (s.count > 0) kinds[s.stage] = s.kinds;
  return {
    originalLength: result.originalLength,
    finalLength: result.finalLength,
    changedChars: result.changedChars,
    changedShare: Math.round(result.changedShare * 10_000) / 10_000,
    counts: result.counts,
    kinds,
    truncated: result.truncated,
  };
}

export function sanitizationSummary(result: SanitizeResult, correlationId: string): AgentMessageInput {
  const percent = (result.changedShare * 100).toFixed(1);
  const lines = result.stages.filter((s) => s.count > 0 && s.stage !== 'injection').map(stageLine);
  return {
    agentType: 'sanitization',
    source: 'sanitization-pipeline',
    correlationId,
    content: [
      '🛡️ **Sanitization Summary**',
      '',
      `Your message was cleaned before the assistant read it: ${percent}% of characters changed ` +
        `(${result.originalLength} → ${result.finalLength} characters).`,
      ...lines,
    ].join('\n'),
    data: sanitizationData(result),
  };
}

export function securityAlert(result: SanitizeResult, correlationId: string): AgentMessageInput {
  const found: string[] = [];
  const secrets = result.stages.find((s) => s.stage === 'secrets');
  const injection = result.stages.find((s) => s.stage === 'injection');
  if (secrets && secrets.count > 0)
    found.push(
      `${secrets.count} secret${secrets.count === 1 ? '' : 's'} (${kindsText(secrets.kinds)}) replaced by [SECRET]; ` +
        'if it was real, rotate it now.',
    );
  if (injection && injection.count > 0)
    found.push(
      `a possible prompt-injection attempt (${kindsText(injection.kinds)}); the assistant was not given extra trust.`,
    );
  return {
    agentType: 'security',
    source: 'sanitization-pipeline',
    correlationId,
    content: ['⚠️ **Security Alert**', '', ...found.map((f) => `- Found ${f}`)].join('\n'),
    data: {
      secrets: secrets?.count ?? 0,
      secretKinds: secrets?.kinds ?? {},
      injection: injection?.count ?? 0,
      injectionKinds: injection?.kinds ?? {},
    },
  };
}

export function slowReplyStatus(correlationId: string, waitedMs: number): AgentMessageInput {
  return {
    agentType: 'status',
    source: 'chat',
    correlationId,
    content: '⏳ Still working on your reply…',
    data: { waitedMs },
  };
}

export function upstreamError(correlationId: string, reason: string): AgentMessageInput {
  return {
    agentType: 'error',
    source: 'model-agent',
    correlationId,
    content: `❌ **The model service failed** (${reason.replace(/^The model service failed:?\s*/i, '') || 'no details'}). Your message was kept; please try again.`,
    data: { code: 'upstream_failed' },
  };
}
