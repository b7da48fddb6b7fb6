/** Builders shared by the agent tests. */
import type { AgentRequest, ChatTurn } from '../../src/agents/model-agent.js';
import {
  type SanitizeResult,
  STAGE_NAMES,
  type StageName,
  type StageReport,
} from '../../src/sanitize/types.js';

type StageInput = Partial<
  Record<StageName, { count: number; kinds?: Record<string, number>; chars?: number }>
>;

/** A SanitizeResult for `text`, with the given stage reports (all others zero). */
export function sanitization(
  text: string,
  stages: StageInput = {},
  extra: Partial<SanitizeResult> = {},
): SanitizeResult {
  const reports: StageReport[] = STAGE_NAMES.map((stage) => ({
    stage,
    count: stages[stage]?.count ?? 0,
    charsChanged: stages[stage]?.chars ?? 0,
    kinds: stages[stage]?.kinds ?? {},
  }));
  const changedChars = reports.reduce((n, r) => n + r.charsChanged, 0);
  const originalLength = text.length + changedChars;
  const counts = Object.fromEntries(reports.map((r) => [r.stage, r.count])) as Record<StageName, number>;
  return {
    text,
    originalLength,
    finalLength: text.length,
    changedChars,
    changedShare: originalLength === 0 ? 0 : changedChars / originalLength,
    stages: reports,
    counts,
    injectionDetected: counts.injection > 0,
    secretsFound: counts.secrets,
    truncated: counts.length > 0,
    ...extra,
  };
}

export function agentRequest(
  text: string,
  options: { signal?: AbortSignal; history?: ChatTurn[]; sanitization?: SanitizeResult } = {},
): AgentRequest {
  return {
    sessionId: 'sess_test',
    messageId: 'm_1',
    text,
    history: options.history ?? [],
    sanitization: options.sanitization ?? sanitization(text),
    signal: options.signal ?? new AbortController().signal,
  };
}

export async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const delta of iterable) out.push(delta);
  return out;
}

/** Runs `fn` and returns what it threw (fails when it does not throw). */
export async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
