/**
 * The rows of the performance table (docs/performance.md), and the budgets and goals each is held to.
 * bench/run.ts fills `metrics` (named numbers) and `rows`; bench/check.ts judges them here.
 * A budget missed fails `npm run bench:check`; a goal not met is only reported.
 */

/** Every row a results file must have (a row may say "skipped", with why, but must be there). */
export const ROW_IDS = [
  'http-on-off',
  'ws-on-off',
  'http-vs-bare',
  'http-model-on-off',
  'publish-latency',
  'fanout',
  'heap-idle',
  'replay',
  'idle-10k',
  'ack-vs-socketio',
  'sanitizer',
  'sanitizer-mixed',
  'sanitizer-worst',
  'redis-http-on-off',
  'redis-publish-latency',
] as const;
export type RowId = (typeof ROW_IDS)[number];

export interface Row {
  id: RowId;
  label: string;
  /** What was measured, for the table. */
  result: string;
  status: 'ok' | 'skipped' | 'error';
  /** Why skipped, or the error. */
  note?: string;
}

export interface Limit {
  row: RowId;
  /** What is compared, in words. */
  what: string;
  /** The same, in a few words, for a table cell. */
  short: string;
  metric: string;
  op: '>=' | '<=';
  budget?: number;
  goal?: number;
  unit?: string;
}

export const LIMITS: Limit[] = [
  {
    row: 'http-on-off',
    what: 'HTTP chat req/s, on / off',
    metric: 'http.onOff',
    short: 'req/s',
    op: '>=',
    budget: 0.95,
    goal: 0.99,
  },
  {
    row: 'http-on-off',
    what: 'HTTP chat p99, on / off',
    metric: 'http.p99OnOff',
    short: 'p99',
    op: '<=',
    goal: 1.02,
  },
  {
    row: 'ws-on-off',
    what: 'WebSocket chat round trips/s, on / off',
    metric: 'ws.onOff',
    short: 'round trips/s',
    op: '>=',
    budget: 0.95,
    goal: 0.99,
  },
  {
    row: 'http-vs-bare',
    what: 'HTTP chat req/s, Herald on / bare Fastify',
    metric: 'http.onBare',
    short: 'on / bare',
    op: '>=',
    goal: 0.25,
  },
  // Herald's promise in its own terms: what agent messages add to a chat's response time (5%,
  // aiming at 1%), with a model that takes time. The 0 ms rows above judge the CPU they cost.
  {
    row: 'http-model-on-off',
    what: 'HTTP chat mean response time with a 50 ms model, on / off',
    metric: 'model.meanOnOff',
    short: 'mean',
    op: '<=',
    budget: 1.05,
    goal: 1.01,
  },
  {
    row: 'http-model-on-off',
    what: 'HTTP chat p99 response time with a 50 ms model, on / off',
    metric: 'model.p99OnOff',
    short: 'p99',
    op: '<=',
    goal: 1.02,
  },
  // The budget holds for the worst round, so a stall in any run that moves the p99 fails it.
  {
    row: 'publish-latency',
    what: 'publish → receive p99, best-effort, worst round',
    metric: 'publish.bestEffort.p99Worst',
    short: 'best-effort p99, worst run',
    op: '<=',
    budget: 50,
    unit: 'ms',
  },
  {
    row: 'publish-latency',
    what: 'publish → receive p99, at-least-once, worst round',
    metric: 'publish.atLeastOnce.p99Worst',
    short: 'at-least-once p99, worst run',
    op: '<=',
    budget: 50,
    unit: 'ms',
  },
  {
    row: 'publish-latency',
    what: 'publish → receive p99, best-effort, median',
    metric: 'publish.bestEffort.p99',
    short: 'best-effort p99',
    op: '<=',
    goal: 5,
    unit: 'ms',
  },
  {
    row: 'publish-latency',
    what: 'publish → receive p99, at-least-once, median',
    metric: 'publish.atLeastOnce.p99',
    short: 'at-least-once p99',
    op: '<=',
    goal: 5,
    unit: 'ms',
  },
  {
    row: 'publish-latency',
    what: 'longest publish → receive, any run (no stall over 50 ms)',
    metric: 'publish.maxMs',
    short: 'max, any run',
    op: '<=',
    goal: 50,
    unit: 'ms',
  },
  {
    row: 'fanout',
    what: 'fan-out frames/s, Herald userId target / raw ws broadcast',
    metric: 'fanout.userRatio',
    short: 'userId',
    op: '>=',
    budget: 0.5,
    goal: 0.7,
  },
  {
    row: 'fanout',
    what: 'fan-out frames/s, Herald per-session publishes / raw ws broadcast',
    metric: 'fanout.sessionRatio',
    short: 'per session',
    op: '>=',
    budget: 0.5,
    goal: 0.7,
  },
  {
    row: 'heap-idle',
    what: 'JS heap per idle WebSocket, Herald / raw ws',
    metric: 'heap.ratio',
    short: 'ratio',
    op: '<=',
    budget: 2,
    goal: 1.5,
  },
  {
    row: 'replay',
    what: 'replay of 1,000 stored messages on connect',
    metric: 'replay.ms',
    short: 'median',
    op: '<=',
    budget: 50,
    goal: 20,
    unit: 'ms',
  },
  {
    row: 'sanitizer',
    what: 'sanitizer p99, one 4 KB message (issue 11)',
    metric: 'sanitizer.p99us',
    short: 'p99',
    op: '<=',
    goal: 1000,
    unit: 'µs',
  },
  {
    row: 'sanitizer-mixed',
    what: 'sanitizer p99, 4 KB chat messages with PII, each different (issue 11)',
    metric: 'sanitizer.mixedP99us',
    short: 'p99',
    op: '<=',
    goal: 1000,
    unit: 'µs',
  },
  {
    row: 'sanitizer-worst',
    what: 'sanitizer, 100,000 characters of the worst markup shape / plain text of the same length',
    metric: 'sanitizer.worstOverPlain',
    short: 'time ratio',
    op: '<=',
    budget: 25,
    goal: 10,
  },
];

export type Verdict = 'met' | 'missed' | 'no data';

export interface Judged extends Limit {
  value: number | undefined;
  budgetVerdict?: Verdict;
  goalVerdict?: Verdict;
}

const holds = (value: number, op: Limit['op'], limit: number) =>
  op === '>=' ? value >= limit : value <= limit;

export function judge(metrics: Record<string, number | null | undefined>): Judged[] {
  return LIMITS.map((limit) => {
    const raw = metrics[limit.metric];
    const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
    const verdict = (bound: number | undefined): Verdict | undefined =>
      bound === undefined
        ? undefined
        : value === undefined
          ? 'no data'
          : holds(value, limit.op, bound)
            ? 'met'
            : 'missed';
    return { ...limit, value, budgetVerdict: verdict(limit.budget), goalVerdict: verdict(limit.goal) };
  });
}

/** Rows a results file lacks, or has only as errors. */
export function missingRows(rows: ReadonlyArray<Pick<Row, 'id' | 'status'>> | undefined): RowId[] {
  const ok = new Set((rows ?? []).filter((r) => r.status !== 'error').map((r) => r.id));
  return ROW_IDS.filter((id) => !ok.has(id));
}

export const fmtLimit = (l: Limit, bound: number | undefined): string =>
  bound === undefined ? '—' : `${l.op === '>=' ? '≥' : '≤'} ${bound}${l.unit ? ` ${l.unit}` : ''}`;
