/**
 * `npm run bench`: Herald's performance table, measured from outside.
 *
 * How it measures (bench/README.md has the whole story):
 * - Every server is its own process (servers/*.ts: Herald from src/ of BENCH_HERALD_DIR or this
 *   checkout, a bare Fastify route, a raw `ws` server, a Socket.IO 4 server), started fresh for
 *   each measurement (Herald with a fresh SQLite folder), pinned to cpu 0 with taskset where it
 *   exists. Every load generator is another process (load/*.ts: autocannon for HTTP, a `ws`
 *   client pool for WebSocket, socket.io-client), pinned to cpu 1. They talk over IPC only.
 * - Every measurement has a warm-up (not counted); every comparison runs BENCH_ROUNDS (3) rounds,
 *   alternating the order of its sides (A B, then B A, …); each side is reported as the median
 *   with min and max over rounds, and comparisons as the ratio of medians.
 * - Every load loop is bounded in count and in time, and every wait on a child has a timeout;
 *   children are killed and temp folders removed on success, error and SIGINT.
 * - Loopback only (127.0.0.1).
 *
 * Usage:
 *   npm run bench                     full run (~8–10 min on 2 cores) → bench/results/<date>.json + -latency.svg
 *   npm run bench -- --smoke          every row in ~30–60 s, 1 round, short runs (BENCH_SMOKE=1 too);
 *                                     writes to BENCH_OUT or a temp folder; exits 1 if a row is missing
 *   npm run bench -- --only=http,ws   some scenarios only (http model ws publish fanout heap idle replay ack sanitizer redis)
 *   BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_WARMUP_SECONDS=2 BENCH_OUT=dir BENCH_HERALD_DIR=/other/checkout
 *   npm run bench:check [file]        budgets: exits 1 if one is missed
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { fmtLimit, judge, missingRows, type Row, type RowId } from './lib/budgets.js';
import {
  BENCH_DIR,
  detectPinning,
  installCleanup,
  type Message,
  Proc,
  REPO_ROOT,
  removeTempDir,
  tempDir,
} from './lib/procs.js';
import { dropKeys } from './lib/redis.js';
import { fmt, fmtSpread, round, type Spread, spread } from './lib/stats.js';
import { barChart } from './lib/svg.js';

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
const SMOKE = argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const ONLY = new Set(
  (argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? '').split(',').filter(Boolean),
);
const SCENARIOS = [
  'http',
  'model',
  'ws',
  'publish',
  'fanout',
  'heap',
  'idle',
  'replay',
  'ack',
  'sanitizer',
  'redis',
];
for (const s of ONLY)
  if (!SCENARIOS.includes(s)) throw new Error(`--only: unknown scenario ${s} (${SCENARIOS.join(' ')})`);
const wanted = (s: string) => ONLY.size === 0 || ONLY.has(s);

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`${name} must be a number from ${min} to ${max}`);
  return n;
}

const SECONDS = SMOKE ? 0.5 : envNumber('BENCH_SECONDS', 5, 1, 60);
const O = {
  smoke: SMOKE,
  seconds: SECONDS,
  rounds: SMOKE ? 1 : envNumber('BENCH_ROUNDS', 3, 1, 10),
  warmupSeconds: SMOKE ? 0.2 : envNumber('BENCH_WARMUP_SECONDS', 2, 0, 30),
  /** Publish latency runs twice as long: stalls are rare events. */
  publishSeconds: SMOKE ? 1 : 2 * SECONDS,
  httpConnections: 50,
  /** The model row: the local agent waits this long before its reply, as a fast real model would... */
  modelMs: 50,
  /** ...and each of its 50 clients pauses a random 0 to this many ms between its chats. */
  modelPauseMs: 100,
  wsSockets: 50,
  publishSessions: 200,
  publishRate: 1000,
  fanoutSockets: 100,
  fanoutUserWindow: 8,
  fanoutSessionWindow: 32,
  heapSockets: SMOKE ? 300 : 2000,
  idleSockets: SMOKE ? 1000 : 10_000,
  replayMessages: 1000,
  replayRepeats: SMOKE ? 2 : 5,
  ackSockets: 100,
  ackWindow: 100,
  sanitizerSeconds: SMOKE ? 0.5 : SECONDS,
};

const HERALD_DIR = path.resolve(process.env.BENCH_HERALD_DIR || REPO_ROOT);
const REDIS_URL = process.env.BENCH_REDIS_URL || process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const pinning = detectPinning();
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- servers and loads

type ServerKind = 'herald' | 'bare' | 'raw' | 'socketio';
const SERVER_SCRIPT: Record<ServerKind, string> = {
  herald: 'servers/herald.ts',
  bare: 'servers/bare-fastify.ts',
  raw: 'servers/raw-ws.ts',
  socketio: 'servers/socketio.ts',
};

interface HeraldOptions {
  agentMessages?: 'on' | 'off';
  store?: 'sqlite' | 'redis';
  /** The local agent's wait before it answers (HERALD_LOCAL_THINK_MS); 0 by default. */
  thinkMs?: number;
}

function heraldEnv(o: HeraldOptions, dataDir: string, redisKeyPrefix: string): Record<string, string> {
  return {
    HERALD_STORE: o.store ?? 'sqlite',
    HERALD_DATA_DIR: dataDir,
    ...(o.store === 'redis' && { REDIS_URL, HERALD_REDIS_KEY_PREFIX: redisKeyPrefix }),
    HERALD_AGENT: 'local',
    HERALD_LOCAL_THINK_MS: String(o.thinkMs ?? 0),
    HERALD_AGENT_MESSAGES: o.agentMessages ?? 'on',
    HERALD_CHAT_RATE_LIMIT: '0',
    HERALD_SESSION_RATE_LIMIT: '0',
    HERALD_MAX_CONNECTIONS_PER_PRINCIPAL: '0',
    HERALD_AGENT_RATE_LIMITS: '{"sanitization":0,"security":0,"status":0,"error":0}',
    HERALD_SHUTDOWN_GRACE_MS: '1000',
    LOG_LEVEL: 'silent',
  };
}

interface Server {
  kind: ServerKind;
  port: number;
  proc: Proc;
  stop(): Promise<void>;
}

async function startOnce(kind: ServerKind, o: HeraldOptions): Promise<Server> {
  const dataDir = kind === 'herald' ? tempDir('herald-bench-') : undefined;
  // On Redis every run has its own key prefix, deleted when the run's server stops.
  const redisKeyPrefix = `herald-bench:${path.basename(dataDir ?? 'x')}:`;
  const proc = new Proc({
    script: SERVER_SCRIPT[kind],
    label:
      kind === 'herald' ? `herald (${o.store ?? 'sqlite'}, agent messages ${o.agentMessages ?? 'on'})` : kind,
    cpu: pinning.serverCpu,
    pinning,
    nodeFlags: ['--expose-gc'],
    params: dataDir ? { env: heraldEnv(o, dataDir, redisKeyPrefix) } : {},
  });
  const stop = async () => {
    await proc.stop(5_000);
    if (dataDir) removeTempDir(dataDir);
    if (kind === 'herald' && o.store === 'redis') await dropRedisPrefix(redisKeyPrefix);
  };
  try {
    const m = await proc.next<Message & { port: number }>('listening', 30_000);
    return { kind, port: m.port, proc, stop };
  } catch (err) {
    proc.kill();
    await stop();
    throw err;
  }
}

/** Deletes a run's Redis keys; without a Redis there is nothing to delete. */
async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await dropKeys(redis, prefix);
  } catch {
    // No Redis: nothing was written there.
  } finally {
    redis.disconnect();
  }
}

/** Starts a server; a Herald that does not start is tried once more after 3 s (src/ may be mid-edit). */
async function startServer(kind: ServerKind, o: HeraldOptions = {}, retry = true): Promise<Server> {
  try {
    return await startOnce(kind, o);
  } catch (err) {
    if (!retry) throw err;
    log(`  ${kind} did not start (${firstLine(err)}); trying again in 3 s`);
    await sleep(3_000);
    return startOnce(kind, o);
  }
}

/** Runs one load generator to its result; it is killed if it has none within timeoutMs. */
async function runLoad<T>(
  script: string,
  params: Record<string, unknown>,
  timeoutMs: number,
  cpu = pinning.loadCpu,
) {
  const proc = new Proc({ script: `load/${script}`, label: `load ${script}`, cpu, pinning, params });
  try {
    const m = await proc.next<Message & { result: T }>('result', timeoutMs);
    return m.result;
  } finally {
    await proc.stop(3_000);
  }
}

interface ServerStats {
  cpuShare: number;
  loopDelayMs: { p50: number; p99: number; max: number };
  gc: {
    count: number;
    totalMs: number;
    maxMs: number;
    long: Array<{ at: number; ms: number; kind: string }>;
  };
  loopBlocks: Array<{ at: number; ms: number; onCpuMs?: number; runQueueMs?: number }>;
  threadOnCpuMs?: number;
  threadRunQueueMs?: number;
  rssBytes: number;
  [key: string]: unknown;
}

interface Measured<T> {
  load: T;
  server: ServerStats;
}

/** A fresh server, a load run against it (with the server's stats over the run), the server stopped. */
async function measure<T>(
  kind: ServerKind,
  o: HeraldOptions,
  script: string,
  params: Record<string, unknown>,
  seconds: number,
): Promise<Measured<T>> {
  const server = await startServer(kind, o);
  try {
    await server.proc.ask({ type: 'stats-reset' });
    const load = await runLoad<T>(
      script,
      { port: server.port, ...params },
      (seconds + O.warmupSeconds + 60) * 1000,
    );
    const stats = await server.proc.ask<Message & ServerStats>({ type: 'stats' });
    const { type: _type, ...server_ } = stats;
    if (stats.threadRunQueueMs !== undefined && typeof stats.elapsedMs === 'number')
      waitedForCore.push(stats.threadRunQueueMs / stats.elapsedMs);
    return { load, server: server_ as ServerStats };
  } finally {
    await server.stop();
  }
}

/** Rounds of A/B(/C…), the order reversed every other round. */
async function alternate<T>(
  variants: Array<{ name: string; run: () => Promise<T> }>,
): Promise<Record<string, T[]>> {
  const out: Record<string, T[]> = Object.fromEntries(variants.map((v) => [v.name, [] as T[]]));
  for (let r = 0; r < O.rounds; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      log(`  round ${r + 1}/${O.rounds}: ${v.name}`);
      out[v.name]!.push(await v.run());
    }
  }
  return out;
}

const firstLine = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
const ratio = (a: Spread, b: Spread) => a.median / b.median;
const pick = <T>(rounds: T[], f: (r: T) => number) => spread(rounds.map(f));

// ---------------------------------------------------------------- results

/** Per measured run: the share of its time the server's event loop thread waited for its core. */
const waitedForCore: number[] = [];
const rows = new Map<RowId, Row>();
const metrics: Record<string, number> = {};
const scenarios: Record<string, unknown> = {};
const chart: {
  http?: Record<'on' | 'off', Array<Spread>>;
  ws?: Record<'on' | 'off', Array<Spread>>;
  publish?: Record<'best-effort' | 'at-least-once', Array<Spread>>;
} = {};

const setRow = (id: RowId, label: string, result: string, status: Row['status'] = 'ok', note?: string) =>
  rows.set(id, { id, label, result, status, ...(note !== undefined && { note }) });
const setMetric = (name: string, value: number) => {
  metrics[name] = round(value);
};

const LABELS: Record<RowId, string> = {
  'http-on-off': 'HTTP chat throughput, agent messages on / off',
  'ws-on-off': 'WebSocket chat round trips, on / off',
  'http-vs-bare': 'HTTP chat, Herald off (and on) / a bare Fastify route with the same bodies',
  'http-model-on-off': `HTTP chat with a model that takes ${O.modelMs} ms, response time on / off`,
  'publish-latency': `publish → WebSocket receive at ${O.publishRate.toLocaleString('en-US')}/s over ${O.publishSessions} sessions`,
  fanout: `fan-out to ${O.fanoutSockets} sockets, frames/s, Herald / raw \`ws\` push`,
  'heap-idle': 'JS heap per idle WebSocket, Herald / raw `ws`',
  replay: `replay of ${O.replayMessages.toLocaleString('en-US')} stored messages on connect`,
  'idle-10k': `${O.idleSockets.toLocaleString('en-US')} idle WebSocket connections to Herald`,
  'ack-vs-socketio': 'at-least-once delivery with acks, Herald / Socket.IO 4 emit-with-ack',
  sanitizer: 'sanitizer, one 4 KB message (text, an e-mail, a URL, markup)',
  'sanitizer-mixed': 'sanitizer, 64 different 4 KB chat messages with PII, in turn',
  'sanitizer-worst': 'sanitizer, 100,000 characters of nested markup / plain text of the same length',
  'redis-http-on-off': 'Redis store: HTTP chat throughput, on / off',
  'redis-publish-latency': 'Redis store: publish → WebSocket receive latency',
};

async function scenario(id: string, rowIds: RowId[], fn: () => Promise<void>): Promise<void> {
  if (!wanted(id)) return;
  const t0 = Date.now();
  log(`\n${id}`);
  try {
    await fn();
  } catch (err) {
    log(`  ${id} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    for (const rowId of rowIds)
      if (!rows.has(rowId)) setRow(rowId, LABELS[rowId], `error: ${firstLine(err)}`, 'error', firstLine(err));
  }
  log(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

// ---------------------------------------------------------------- scenarios

interface LatencyMs {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
interface HttpChatResult {
  rps: number;
  requests: number;
  latencyMs: LatencyMs;
  errors: number;
  agentMessagesPerRequest: number;
}

/** What both HTTP chat loads (load/http-chat.ts, load/model-chat.ts) are given besides the port. */
const httpLoadParams = () => ({
  connections: O.httpConnections,
  warmupSeconds: O.warmupSeconds,
  seconds: O.seconds,
  maxRequests: 40_000 * O.seconds,
});

async function httpChat(store: 'sqlite' | 'redis'): Promise<void> {
  const params = httpLoadParams();
  const variants = [
    {
      name: 'on',
      run: () =>
        measure<HttpChatResult>('herald', { agentMessages: 'on', store }, 'http-chat.ts', params, O.seconds),
    },
    {
      name: 'off',
      run: () =>
        measure<HttpChatResult>('herald', { agentMessages: 'off', store }, 'http-chat.ts', params, O.seconds),
    },
  ];
  if (store === 'sqlite')
    variants.push({
      name: 'bare',
      run: () => measure<HttpChatResult>('bare', {}, 'http-chat.ts', params, O.seconds),
    });
  const raw = await alternate(variants);
  scenarios[store === 'sqlite' ? 'httpChat' : 'redisHttpChat'] = { params, rounds: raw };
  const rps = (v: string) => pick(raw[v]!, (m) => m.load.rps);
  const p99 = (v: string) => pick(raw[v]!, (m) => m.load.latencyMs.p99);
  const errors = (v: string) => raw[v]!.reduce((n, m) => n + m.load.errors, 0);
  const prefix = store === 'sqlite' ? 'http' : 'redis.http';
  setMetric(`${prefix}.onOff`, ratio(rps('on'), rps('off')));
  setMetric(`${prefix}.p99OnOff`, ratio(p99('on'), p99('off')));
  setMetric(`${prefix}.onRps`, rps('on').median);
  setMetric(`${prefix}.offRps`, rps('off').median);
  const agentMsgs = pick(raw.on!, (m) => m.load.agentMessagesPerRequest).median;
  const rowId = store === 'sqlite' ? 'http-on-off' : 'redis-http-on-off';
  setRow(
    rowId,
    LABELS[rowId],
    `**${fmt(ratio(rps('on'), rps('off')))}** — on ${fmtSpread(rps('on'))} req/s, off ${fmtSpread(rps('off'))} req/s; ` +
      `p99 on ${fmtSpread(p99('on'), ' ms')}, off ${fmtSpread(p99('off'), ' ms')}; ` +
      `${fmt(agentMsgs)} agent messages per answer; errors ${errors('on') + errors('off')}`,
  );
  const lat = (v: 'on' | 'off') =>
    (['p50', 'p90', 'p99'] as const).map((q) => pick(raw[v]!, (m) => m.load.latencyMs[q]));
  if (store === 'sqlite') {
    chart.http = { on: lat('on'), off: lat('off') };
    setMetric('http.offBare', ratio(rps('off'), rps('bare')));
    setMetric('http.onBare', ratio(rps('on'), rps('bare')));
    setMetric('http.bareRps', rps('bare').median);
    setRow(
      'http-vs-bare',
      LABELS['http-vs-bare'],
      `off / bare **${fmt(ratio(rps('off'), rps('bare')))}**, on / bare **${fmt(ratio(rps('on'), rps('bare')))}** — ` +
        `bare Fastify ${fmtSpread(rps('bare'))} req/s, p99 ${fmtSpread(p99('bare'), ' ms')}; errors ${errors('bare')}`,
    );
  }
}

/**
 * What agent messages add to a reply's response time when the model takes time, as every real
 * one does: 50 clients as in the HTTP row (half the chats making a summary, acks), the local
 * agent waiting O.modelMs before it answers, each client pausing a random while between chats
 * (load/model-chat.ts). The server is far from saturated, so this is the added time a user
 * waits, not the added CPU the 0 ms rows measure.
 */
async function modelChat(): Promise<void> {
  const params = { ...httpLoadParams(), pauseMs: O.modelPauseMs };
  const raw = await alternate(
    (['on', 'off'] as const).map((v) => ({
      name: v,
      run: () =>
        measure<HttpChatResult>(
          'herald',
          { agentMessages: v, thinkMs: O.modelMs },
          'model-chat.ts',
          params,
          O.seconds,
        ),
    })),
  );
  scenarios.modelChat = { params: { ...params, modelMs: O.modelMs }, rounds: raw };
  const mean = (v: string) => pick(raw[v]!, (m) => m.load.latencyMs.mean);
  const p99 = (v: string) => pick(raw[v]!, (m) => m.load.latencyMs.p99);
  const rps = (v: string) => pick(raw[v]!, (m) => m.load.rps);
  const errors = raw.on!.concat(raw.off!).reduce((n, m) => n + m.load.errors, 0);
  setMetric('model.meanOnOff', ratio(mean('on'), mean('off')));
  setMetric('model.p99OnOff', ratio(p99('on'), p99('off')));
  setMetric('model.addedMeanMs', mean('on').median - mean('off').median);
  setRow(
    'http-model-on-off',
    LABELS['http-model-on-off'],
    `mean **${fmt(ratio(mean('on'), mean('off')))}** (${fmt(mean('on').median - mean('off').median)} ms more) — ` +
      `mean on ${fmtSpread(mean('on'), ' ms')}, off ${fmtSpread(mean('off'), ' ms')}; ` +
      `p99 on ${fmtSpread(p99('on'), ' ms')}, off ${fmtSpread(p99('off'), ' ms')}; ` +
      `on ${fmtSpread(rps('on'))} req/s, off ${fmtSpread(rps('off'))} req/s; errors ${errors}`,
  );
}

interface WsChatResult {
  rps: number;
  roundTrips: number;
  latencyMs: LatencyMs;
  errors: number;
  agentMessagesPerRoundTrip: number;
}

async function wsChat(): Promise<void> {
  const params = {
    sockets: O.wsSockets,
    warmupSeconds: O.warmupSeconds,
    seconds: O.seconds,
    maxRoundTrips: 40_000 * (O.seconds + O.warmupSeconds),
  };
  const raw = await alternate(
    (['on', 'off'] as const).map((v) => ({
      name: v,
      run: () => measure<WsChatResult>('herald', { agentMessages: v }, 'ws-chat.ts', params, O.seconds),
    })),
  );
  scenarios.wsChat = { params, rounds: raw };
  const rps = (v: string) => pick(raw[v]!, (m) => m.load.rps);
  const p99 = (v: string) => pick(raw[v]!, (m) => m.load.latencyMs.p99);
  const errors = raw.on!.concat(raw.off!).reduce((n, m) => n + m.load.errors, 0);
  setMetric('ws.onOff', ratio(rps('on'), rps('off')));
  setMetric('ws.onRps', rps('on').median);
  setMetric('ws.offRps', rps('off').median);
  setRow(
    'ws-on-off',
    LABELS['ws-on-off'],
    `**${fmt(ratio(rps('on'), rps('off')))}** — on ${fmtSpread(rps('on'))}/s, off ${fmtSpread(rps('off'))}/s ` +
      `(${O.wsSockets} sockets); p99 on ${fmtSpread(p99('on'), ' ms')}, off ${fmtSpread(p99('off'), ' ms')}; errors ${errors}`,
  );
  const lat = (v: 'on' | 'off') =>
    (['p50', 'p90', 'p99'] as const).map((q) => pick(raw[v]!, (m) => m.load.latencyMs[q]));
  chart.ws = { on: lat('on'), off: lat('off') };
}

interface PublishResult {
  published: number;
  received: number;
  lost: number;
  duplicates: number;
  publishErrors: number;
  firstPublishError?: string;
  latencyMs: LatencyMs & { p999: number };
  publishAnswerMs: { p50: number; p99: number; max: number };
  overStall: number;
  stalls: Array<{ atS: number; atEpoch: number; maxMs: number; messages: number; spanMs: number }>;
  maxReceiveGapMs: number;
  maxPublisherBacklog: number;
  measureStartEpoch: number;
}

async function publishLatency(store: 'sqlite' | 'redis'): Promise<void> {
  const params = {
    sessions: O.publishSessions,
    rate: O.publishRate,
    warmupSeconds: O.warmupSeconds,
    seconds: O.publishSeconds,
    maxInFlight: 512,
    stallMs: 50,
  };
  const guarantees = ['best-effort', 'at-least-once'] as const;
  const raw = await alternate(
    guarantees.map((g) => ({
      name: g,
      run: async () => {
        const m = await measure<PublishResult>(
          'herald',
          { agentMessages: 'on', store },
          'publish-latency.ts',
          { ...params, guarantee: g },
          O.publishSeconds,
        );
        // What the server was doing at each stall: its event loop blocks (20 ms or more) and GC
        // pauses (10 ms or more) from 100 ms before the stall's first late message to its end.
        const near = (at: number, ms: number, s: PublishResult['stalls'][number]) =>
          at + ms >= s.atEpoch - 100 && at <= s.atEpoch + s.spanMs + s.maxMs;
        const stalls = m.load.stalls.map((s) => ({
          ...s,
          serverLoopBlocksNear: m.server.loopBlocks.filter((b) => near(b.at, b.ms, s)),
          serverGcNear: m.server.gc.long.filter((gc) => near(gc.at, gc.ms, s)),
        }));
        // Where the event loop's time went in the blocks around stalls (servers/common.ts).
        const blocks = m.server.loopBlocks.filter((b) => m.load.stalls.some((s) => near(b.at, b.ms, s)));
        const sum = (f: (b: (typeof blocks)[number]) => number) => blocks.reduce((n, b) => n + f(b), 0);
        const stallCause = {
          blocks: blocks.length,
          blockedMs: sum((b) => b.ms),
          intervalMs: sum((b) => b.ms + 10),
          onCpuMs: sum((b) => b.onCpuMs ?? 0),
          runQueueMs: sum((b) => b.runQueueMs ?? 0),
          gcMs: m.server.gc.long
            .filter((gc) => m.load.stalls.some((s) => near(gc.at, gc.ms, s)))
            .reduce((n, gc) => n + gc.ms, 0),
        };
        return { ...m, load: { ...m.load, stalls }, stallCause };
      },
    })),
  );
  scenarios[store === 'sqlite' ? 'publishLatency' : 'redisPublishLatency'] = { params, rounds: raw };
  const prefix = store === 'sqlite' ? 'publish' : 'redis.publish';
  const parts: string[] = [];
  let maxMs = 0;
  let runsWithStall = 0;
  for (const g of guarantees) {
    const rounds = raw[g]!;
    const key = g === 'best-effort' ? 'bestEffort' : 'atLeastOnce';
    const p99 = pick(rounds, (m) => m.load.latencyMs.p99);
    const p50 = pick(rounds, (m) => m.load.latencyMs.p50);
    const max = pick(rounds, (m) => m.load.latencyMs.max);
    const lost = rounds.reduce((n, m) => n + m.load.lost + m.load.publishErrors, 0);
    maxMs = Math.max(maxMs, max.max);
    runsWithStall += rounds.filter((m) => m.load.overStall > 0).length;
    setMetric(`${prefix}.${key}.p99`, p99.median);
    setMetric(`${prefix}.${key}.p99Worst`, p99.max);
    setMetric(`${prefix}.${key}.p50`, p50.median);
    setMetric(`${prefix}.${key}.maxMs`, max.max);
    parts.push(
      `${g} p99 **${fmtSpread(p99, ' ms')}**, p50 ${fmtSpread(p50, ' ms')}, max ${fmtSpread(max, ' ms')}${lost ? `, ${lost} lost` : ''}`,
    );
  }
  setMetric(`${prefix}.maxMs`, maxMs);
  const runs = guarantees.length * O.rounds;
  const rowId = store === 'sqlite' ? 'publish-latency' : 'redis-publish-latency';
  const all = guarantees.flatMap((g) => raw[g]!.map((m) => m.stallCause));
  const total = (k: keyof (typeof all)[number]) => all.reduce((n, c) => n + c[k], 0);
  const share = (k: 'onCpuMs' | 'runQueueMs') => `${fmt((100 * total(k)) / total('intervalMs'))}%`;
  const asleep = total('intervalMs') - total('onCpuMs') - total('runQueueMs');
  const cause =
    total('blocks') === 0
      ? ''
      : `; around the stalls the server's event loop was blocked ${fmt(total('blockedMs'))} ms in ${total('blocks')} block${total('blocks') === 1 ? '' : 's'}: ` +
        `${share('onCpuMs')} running, ${share('runQueueMs')} waiting for its core, ${fmt((100 * asleep) / total('intervalMs'))}% asleep in system calls; GC ${fmt(total('gcMs'))} ms`;
  setRow(
    rowId,
    LABELS[rowId],
    `${parts.join('; ')}; runs with a message over 50 ms: ${runsWithStall} of ${runs}${cause}`,
  );
  if (store === 'sqlite')
    chart.publish = {
      'best-effort': (['p50', 'p90', 'p99'] as const).map((q) =>
        pick(raw['best-effort']!, (m) => m.load.latencyMs[q]),
      ),
      'at-least-once': (['p50', 'p90', 'p99'] as const).map((q) =>
        pick(raw['at-least-once']!, (m) => m.load.latencyMs[q]),
      ),
    };
}

interface FanoutResult {
  framesPerSecond: number;
  loadCpuShare: number;
  publishesPerSecond: number;
  meanFrameBytes: number;
  framesExpected: number;
  framesReceived: number;
  errors: number;
  firstError?: string;
}

/**
 * Fan-out to the sockets: Herald with a userId target (one publish, a frame per socket), Herald
 * with one publish per session, and the floor: a raw ws server broadcasting one frame to every
 * socket per trigger. Both Herald ways are compared to the same raw broadcast.
 */
async function fanout(): Promise<void> {
  const base = {
    sockets: O.fanoutSockets,
    warmupSeconds: O.warmupSeconds,
    seconds: O.seconds,
    maxPublishes: 2_000_000,
  };
  const variant = (name: string, kind: 'herald' | 'raw', mode: 'user' | 'session') => ({
    name,
    run: () =>
      measure<FanoutResult>(
        kind,
        { agentMessages: 'on' },
        'fanout.ts',
        { ...base, kind, mode, window: mode === 'user' ? O.fanoutUserWindow : O.fanoutSessionWindow },
        O.seconds,
      ),
  });
  const raw = await alternate([
    variant('herald-user', 'herald', 'user'),
    variant('raw', 'raw', 'user'),
    variant('herald-session', 'herald', 'session'),
  ]);
  scenarios.fanout = {
    params: { ...base, userWindow: O.fanoutUserWindow, sessionWindow: O.fanoutSessionWindow },
    rounds: raw,
  };
  const fps = (v: string) => pick(raw[v]!, (m) => m.load.framesPerSecond);
  const cpu = (v: string) => `${fmt(pick(raw[v]!, (m) => m.server.cpuShare).median * 100)}%`;
  const loadCpu = (v: string) => `${fmt(pick(raw[v]!, (m) => m.load.loadCpuShare).median * 100)}%`;
  const bytes = (v: string) => pick(raw[v]!, (m) => m.load.meanFrameBytes).median;
  const errors = Object.values(raw).reduce((n, rs) => n + rs.reduce((k, m) => k + m.load.errors, 0), 0);
  setMetric('fanout.userRatio', ratio(fps('herald-user'), fps('raw')));
  setMetric('fanout.sessionRatio', ratio(fps('herald-session'), fps('raw')));
  setMetric('fanout.heraldUserFps', fps('herald-user').median);
  setMetric('fanout.heraldSessionFps', fps('herald-session').median);
  setMetric('fanout.rawFps', fps('raw').median);
  setRow(
    'fanout',
    LABELS.fanout,
    `userId target **${fmt(ratio(fps('herald-user'), fps('raw')))}**, per-session publishes **${fmt(ratio(fps('herald-session'), fps('raw')))}** — ` +
      `Herald ${fmtSpread(fps('herald-user'))} and ${fmtSpread(fps('herald-session'))}, raw ws broadcast ${fmtSpread(fps('raw'))} frames/s ` +
      `(${fmt(bytes('herald-user'))} B vs ${fmt(bytes('raw'))} B frames); CPU server/load: Herald ${cpu('herald-user')}/${loadCpu('herald-user')} and ` +
      `${cpu('herald-session')}/${loadCpu('herald-session')}, raw ${cpu('raw')}/${loadCpu('raw')}; errors ${errors}`,
  );
}

interface HeapRound {
  sockets: number;
  failed: number;
  connectMs: number;
  heapBefore: number;
  heapAfter: number;
  rssBefore: number;
  rssAfter: number;
  bytesPerSocket: number;
  rssPerSocket: number;
  stillOpen: number;
}

async function idleSockets(kind: 'herald' | 'raw', n: number, concurrency: number): Promise<HeapRound> {
  const server = await startServer(kind, { agentMessages: 'on' });
  try {
    type Heap = Message & { heapUsed: number; rss: number };
    const before = await server.proc.ask<Heap>({ type: 'heap' });
    const idle = new Proc({
      script: 'load/idle.ts',
      label: 'load idle.ts',
      cpu: pinning.loadCpu,
      pinning,
      params: { port: server.port, kind, n, concurrency, timeoutSeconds: 120 },
    });
    try {
      const opened = await idle.next<
        Message & { ms: number; opened: number; failed: number; firstError?: string }
      >('opened', 150_000);
      if (opened.opened === 0) throw new Error(`no socket opened: ${opened.firstError}`);
      await sleep(500);
      const after = await server.proc.ask<Heap>({ type: 'heap' });
      idle.send({ type: 'close' });
      const done = await idle.next<Message & { result: { stillOpen: number } }>('result', 30_000);
      return {
        sockets: opened.opened,
        failed: opened.failed,
        connectMs: opened.ms,
        heapBefore: before.heapUsed,
        heapAfter: after.heapUsed,
        rssBefore: before.rss,
        rssAfter: after.rss,
        bytesPerSocket: (after.heapUsed - before.heapUsed) / opened.opened,
        rssPerSocket: (after.rss - before.rss) / opened.opened,
        stillOpen: done.result.stillOpen,
      };
    } finally {
      await idle.stop(5_000);
    }
  } finally {
    await server.stop();
  }
}

async function heap(): Promise<void> {
  const raw = await alternate(
    (['herald', 'raw'] as const).map((kind) => ({
      name: kind,
      run: () => idleSockets(kind, O.heapSockets, 100),
    })),
  );
  scenarios.heapIdle = { params: { sockets: O.heapSockets }, rounds: raw };
  const per = (v: string) => pick(raw[v]!, (m) => m.bytesPerSocket / 1024);
  setMetric('heap.ratio', ratio(per('herald'), per('raw')));
  setMetric('heap.heraldKB', per('herald').median);
  setMetric('heap.rawKB', per('raw').median);
  setRow(
    'heap-idle',
    LABELS['heap-idle'],
    `**${fmt(ratio(per('herald'), per('raw')))}** — Herald ${fmtSpread(per('herald'), ' KB')}, raw ws ${fmtSpread(per('raw'), ' KB')} ` +
      `per socket (${O.heapSockets.toLocaleString('en-US')} sockets, heap after GC)`,
  );
}

async function idle10k(): Promise<void> {
  const r = await idleSockets('herald', O.idleSockets, 200);
  scenarios.idle10k = { params: { sockets: O.idleSockets, concurrency: 200 }, rounds: [r] };
  setMetric('idle.connectMs', r.connectMs);
  setMetric('idle.heapKB', r.bytesPerSocket / 1024);
  setMetric('idle.rssKB', r.rssPerSocket / 1024);
  setRow(
    'idle-10k',
    LABELS['idle-10k'],
    `${r.sockets.toLocaleString('en-US')} open in ${fmt(r.connectMs / 1000)} s (${fmt(r.sockets / (r.connectMs / 1000))}/s, 200 connecting at once), ` +
      `${r.failed} failed, ${r.stillOpen.toLocaleString('en-US')} still open after the heap reading; ` +
      `heap ${fmt(r.bytesPerSocket / 1024)} KB and RSS ${fmt(r.rssPerSocket / 1024)} KB per connection ` +
      `(heap ${fmt(r.heapAfter / 2 ** 20)} MB, RSS ${fmt(r.rssAfter / 2 ** 20)} MB); one run`,
  );
}

async function replay(): Promise<void> {
  const rounds: Array<{ replayMs: number[] }> = [];
  for (let r = 0; r < O.rounds; r++) {
    log(`  round ${r + 1}/${O.rounds}`);
    const server = await startServer('herald', { agentMessages: 'on' });
    try {
      rounds.push(
        await runLoad<{ replayMs: number[] }>(
          'replay.ts',
          { port: server.port, messages: O.replayMessages, warmups: 1, repeats: O.replayRepeats },
          120_000,
        ),
      );
    } finally {
      await server.stop();
    }
  }
  scenarios.replay = { params: { messages: O.replayMessages, repeats: O.replayRepeats, warmups: 1 }, rounds };
  const perRound = pick(rounds, (r) => spread(r.replayMs).median);
  setMetric('replay.ms', perRound.median);
  setRow(
    'replay',
    LABELS.replay,
    `**${fmtSpread(perRound, ' ms')}** from opening ?sessionId=…&after=0 to the last frame (median of ${O.replayRepeats} connects per round, after a warm-up connect)`,
  );
}

interface AckResult {
  perSecond: number;
  messages: number;
  latencyMs: LatencyMs;
  lost: number;
  duplicates: number;
  errors: number;
  firstError?: string;
  sent: number;
  serverAcked?: number;
}

async function ackVsSocketIo(): Promise<void> {
  const params = {
    sockets: O.ackSockets,
    window: O.ackWindow,
    warmupSeconds: O.warmupSeconds,
    seconds: O.seconds,
    maxMessages: 50_000 * (O.seconds + O.warmupSeconds),
  };
  const raw = await alternate(
    (['herald', 'socketio'] as const).map((kind) => ({
      name: kind,
      run: () => measure<AckResult>(kind, { agentMessages: 'on' }, 'ack.ts', { ...params, kind }, O.seconds),
    })),
  );
  scenarios.ackVsSocketIo = { params, rounds: raw };
  const rate = (v: string) => pick(raw[v]!, (m) => m.load.perSecond);
  const p50 = (v: string) => pick(raw[v]!, (m) => m.load.latencyMs.p50);
  const p99 = (v: string) => pick(raw[v]!, (m) => m.load.latencyMs.p99);
  const lost = (v: string) => raw[v]!.reduce((n, m) => n + m.load.lost + m.load.errors, 0);
  setMetric('ack.ratio', ratio(rate('herald'), rate('socketio')));
  setMetric('ack.heraldPerSecond', rate('herald').median);
  setMetric('ack.socketioPerSecond', rate('socketio').median);
  setMetric('ack.heraldP99', p99('herald').median);
  setMetric('ack.socketioP99', p99('socketio').median);
  setRow(
    'ack-vs-socketio',
    LABELS['ack-vs-socketio'],
    `**${fmt(ratio(rate('herald'), rate('socketio')))}** — Herald ${fmtSpread(rate('herald'))} msg/s, p50 ${fmtSpread(p50('herald'), ' ms')}, p99 ${fmtSpread(p99('herald'), ' ms')}; ` +
      `Socket.IO ${fmtSpread(rate('socketio'))} msg/s, p50 ${fmtSpread(p50('socketio'), ' ms')}, p99 ${fmtSpread(p99('socketio'), ' ms')} ` +
      `(${O.ackSockets} sockets, ${O.ackWindow} in flight, HTTP publish → receive → ack; lost ${lost('herald')} / ${lost('socketio')})`,
  );
}

interface SanitizerResult {
  messageBytes: number;
  calls: number;
  mbPerSecond: number;
  microseconds: { mean: number; p50: number; p99: number; max: number };
  cpuMicroseconds?: { p50: number; p99: number };
}

async function sanitizer(): Promise<void> {
  const rounds: SanitizerResult[] = [];
  for (let r = 0; r < O.rounds; r++) {
    log(`  round ${r + 1}/${O.rounds}`);
    rounds.push(
      await runLoad<SanitizerResult>(
        'sanitizer.ts',
        { warmupSeconds: SMOKE ? 0.2 : 1, seconds: O.sanitizerSeconds, maxIterations: 5_000_000 },
        (O.sanitizerSeconds + 30) * 1000,
        pinning.serverCpu,
      ),
    );
  }
  scenarios.sanitizer = { rounds };
  const mbps = pick(rounds, (r) => r.mbPerSecond);
  const p99 = pick(rounds, (r) => r.microseconds.p99);
  const p50 = pick(rounds, (r) => r.microseconds.p50);
  const cpuP99 = pick(rounds, (r) => r.cpuMicroseconds?.p99 ?? 0);
  setMetric('sanitizer.mbPerSecond', mbps.median);
  setMetric('sanitizer.p99us', p99.median);
  setMetric('sanitizer.cpuP99us', cpuP99.median);
  setRow(
    'sanitizer',
    LABELS.sanitizer,
    `**${fmtSpread(mbps, ' MB/s')}**, p99 **${fmtSpread(p99, ' µs')}**, p50 ${fmtSpread(p50, ' µs')} per ${rounds[0]?.messageBytes ?? 4096}-byte message (one core); CPU time p99 ${fmtSpread(cpuP99, ' µs')}`,
  );

  // Different messages every call, as real traffic: what one call keeps (the secret scanner's last
  // answers) does not help the next.
  const mixed: SanitizerResult[] = [];
  for (let r = 0; r < O.rounds; r++) {
    log(`  mixed messages, round ${r + 1}/${O.rounds}`);
    mixed.push(
      await runLoad<SanitizerResult>(
        'sanitizer.ts',
        {
          warmupSeconds: SMOKE ? 0.2 : 1,
          seconds: O.sanitizerSeconds,
          maxIterations: 5_000_000,
          messages: 'mixed',
        },
        (O.sanitizerSeconds + 30) * 1000,
        pinning.serverCpu,
      ),
    );
  }
  scenarios.sanitizerMixed = { rounds: mixed };
  const mixedMbps = pick(mixed, (r) => r.mbPerSecond);
  const mixedP99 = pick(mixed, (r) => r.microseconds.p99);
  const mixedP50 = pick(mixed, (r) => r.microseconds.p50);
  const mixedCpuP99 = pick(mixed, (r) => r.cpuMicroseconds?.p99 ?? 0);
  setMetric('sanitizer.mixedMbPerSecond', mixedMbps.median);
  setMetric('sanitizer.mixedP99us', mixedP99.median);
  setMetric('sanitizer.mixedCpuP99us', mixedCpuP99.median);
  setRow(
    'sanitizer-mixed',
    LABELS['sanitizer-mixed'],
    `**${fmtSpread(mixedMbps, ' MB/s')}**, p99 **${fmtSpread(mixedP99, ' µs')}**, p50 ${fmtSpread(mixedP50, ' µs')} per message (one core); CPU time p99 ${fmtSpread(mixedCpuP99, ' µs')}`,
  );

  // The worst case: shapes of markup that hurt a parser, against plain text, in one process.
  const worst: SanitizerWorstResult[] = [];
  for (let r = 0; r < O.rounds; r++) {
    log(`  worst case, round ${r + 1}/${O.rounds}`);
    worst.push(
      await runLoad<SanitizerWorstResult>(
        'sanitizer-worst.ts',
        {
          warmupSeconds: SMOKE ? 0.2 : 1,
          seconds: O.sanitizerSeconds,
          maxIterations: 10_000,
          chars: 100_000,
        },
        (O.sanitizerSeconds + 60) * 1000,
        pinning.serverCpu,
      ),
    );
  }
  scenarios.sanitizerWorst = { rounds: worst };
  const ratio = pick(worst, (r) => r.worstOverPlain);
  const plainMs = pick(worst, (r) => r.medianMs.plain ?? 0);
  const worstMs = pick(worst, (r) => r.medianMs[r.worstShape] ?? 0);
  setMetric('sanitizer.worstOverPlain', ratio.median);
  setRow(
    'sanitizer-worst',
    LABELS['sanitizer-worst'],
    `**${fmtSpread(ratio, '×')}** (worst shape ${worst[0]?.worstShape ?? '?'}: ${fmtSpread(worstMs, ' ms')}; plain ${fmtSpread(plainMs, ' ms')})`,
  );
}

interface SanitizerWorstResult {
  chars: number;
  calls: number;
  medianMs: Record<string, number>;
  worstShape: string;
  worstOverPlain: number;
}

async function redis(): Promise<void> {
  let probe: Server;
  try {
    probe = await startServer('herald', { agentMessages: 'on', store: 'redis' }, false);
  } catch (err) {
    const why = firstLine(err);
    if (/did not answer|not available/i.test(why)) {
      const note = /did not answer/i.test(why)
        ? `skipped: no Redis answers at ${REDIS_URL}`
        : 'skipped: the Redis store does not exist yet';
      setRow('redis-http-on-off', LABELS['redis-http-on-off'], note, 'skipped', why);
      setRow('redis-publish-latency', LABELS['redis-publish-latency'], note, 'skipped', why);
      log(`  ${note} (${why})`);
      return;
    }
    throw err;
  }
  await probe.stop();
  log(`  Redis store at ${REDIS_URL}`);
  await httpChat('redis');
  await publishLatency('redis');
}

// ---------------------------------------------------------------- output

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function outputBase(): { dir: string; base: string } {
  const date = new Date().toISOString().slice(0, 10);
  const dir = process.env.BENCH_OUT
    ? path.resolve(process.env.BENCH_OUT)
    : SMOKE
      ? mkdtempSync(path.join(os.tmpdir(), 'herald-bench-smoke-'))
      : path.join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  let base = date;
  for (let n = 2; existsSync(path.join(dir, `${base}.json`)); n++) base = `${date}-${n}`;
  return { dir, base };
}

function table(): string {
  const judged = judge(metrics);
  const lines = [
    `| comparison, same run | result: median (min–max) over ${O.rounds} round${O.rounds > 1 ? 's' : ''} | budget | goal |`,
    '| --- | --- | --- | --- |',
  ];
  for (const row of rows.values()) {
    const limits = judged.filter((j) => j.row === row.id);
    const cell = (kind: 'budget' | 'goal') =>
      limits
        .filter((l) => l[kind] !== undefined)
        .map((l) => {
          const verdict = kind === 'budget' ? l.budgetVerdict : l.goalVerdict;
          const word =
            verdict === 'met'
              ? 'met'
              : verdict === 'missed'
                ? kind === 'budget'
                  ? '**missed**'
                  : 'not met'
                : 'no data';
          return `${limits.length > 1 ? `${l.short} ` : ''}${fmtLimit(l, l[kind])}: ${word}`;
        })
        .join('; ') || '—';
    lines.push(
      `| ${row.label} | ${row.result.replace(/\|/g, '\\|')} | ${cell('budget')} | ${cell('goal')} |`,
    );
  }
  return lines.join('\n');
}

function svg(title: string): string {
  const groups = ['p50', 'p90', 'p99'];
  const none = [undefined, undefined, undefined];
  return barChart(
    title,
    `median of ${O.rounds} round${O.rounds > 1 ? 's' : ''}, whiskers min–max; server and load on separate cores; local agent at 0 ms; SQLite`,
    [
      {
        title: `HTTP chat, ${O.httpConnections} clients`,
        unit: 'ms',
        groups,
        series: [
          { name: 'agent messages on', color: '#2563eb', values: chart.http?.on ?? none },
          { name: 'agent messages off', color: '#9ca3af', values: chart.http?.off ?? none },
        ],
      },
      {
        title: `WebSocket chat, ${O.wsSockets} sockets`,
        unit: 'ms',
        groups,
        series: [
          { name: 'agent messages on', color: '#2563eb', values: chart.ws?.on ?? none },
          { name: 'agent messages off', color: '#9ca3af', values: chart.ws?.off ?? none },
        ],
      },
      {
        title: `publish → receive, ${O.publishRate}/s`,
        unit: 'ms',
        groups,
        series: [
          {
            name: 'best-effort (on; off has no publish)',
            color: '#16a34a',
            values: chart.publish?.['best-effort'] ?? none,
          },
          {
            name: 'at-least-once, acked',
            color: '#ea580c',
            values: chart.publish?.['at-least-once'] ?? none,
          },
        ],
      },
    ],
  );
}

// ---------------------------------------------------------------- main

installCleanup();
const startedAt = new Date();
const commit = git(['rev-parse', '--short=12', 'HEAD'], HERALD_DIR);
const dirty = Boolean(git(['status', '--porcelain', '--', 'src', 'package.json'], HERALD_DIR));
log(
  `herald bench${SMOKE ? ' (smoke)' : ''}: ${HERALD_DIR} at ${commit ?? '?'}${dirty ? ' + uncommitted changes' : ''}; ` +
    `${O.rounds} round(s) of ${O.seconds} s after ${O.warmupSeconds} s warm-up; pinning: ${pinning.why}`,
);
const loadAtStart = os.loadavg();

await scenario('http', ['http-on-off', 'http-vs-bare'], () => httpChat('sqlite'));
await scenario('model', ['http-model-on-off'], modelChat);
await scenario('ws', ['ws-on-off'], wsChat);
await scenario('publish', ['publish-latency'], () => publishLatency('sqlite'));
await scenario('fanout', ['fanout'], fanout);
await scenario('heap', ['heap-idle'], heap);
await scenario('idle', ['idle-10k'], idle10k);
await scenario('replay', ['replay'], replay);
await scenario('ack', ['ack-vs-socketio'], ackVsSocketIo);
await scenario('sanitizer', ['sanitizer', 'sanitizer-mixed', 'sanitizer-worst'], sanitizer);
await scenario('redis', ['redis-http-on-off', 'redis-publish-latency'], redis);

const finishedAt = new Date();
const { dir, base } = outputBase();
const jsonFile = path.join(dir, `${base}.json`);
const svgFile = path.join(dir, `${base}-latency.svg`);
const cpus = os.cpus();
const results = {
  schema: 1,
  date: base.slice(0, 10),
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
  smoke: SMOKE,
  only: ONLY.size ? [...ONLY] : undefined,
  machine: {
    cpus: cpus.length,
    model: cpus[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    loadavgAtStart: loadAtStart.map(round),
    loadavgAtEnd: os.loadavg().map(round),
    /** Per measured run, the share of its time the server's event loop thread waited for its core. */
    serverWaitedForCore: waitedForCore.length > 0 ? spread(waitedForCore.map(round)) : undefined,
  },
  node: process.version,
  herald: { dir: HERALD_DIR, commit, uncommittedChanges: dirty },
  bench: { commit: git(['rev-parse', '--short=12', 'HEAD'], REPO_ROOT) },
  config: {
    ...O,
    pinning,
    heraldEnv: heraldEnv(
      { agentMessages: 'on' },
      '<fresh temp folder per run>',
      '<fresh key prefix per run>',
    ),
  },
  metrics,
  rows: [...rows.values()],
  scenarios,
};
// Fractions to 3 significant digits (integers from 100 up): the raw rounds stay readable and small.
const rounded = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isInteger(value) ? round(value) : value;
writeFileSync(jsonFile, `${JSON.stringify(results, rounded, 2)}\n`);
// Results kept in the repo are linted with the rest (npm run lint): write them as Biome formats JSON.
if (!path.relative(REPO_ROOT, jsonFile).startsWith('..')) {
  try {
    execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', jsonFile], {
      cwd: REPO_ROOT,
      stdio: 'ignore',
    });
  } catch {
    log(`could not format ${jsonFile} with Biome: run npm run format before committing it`);
  }
}
writeFileSync(
  svgFile,
  svg(`Herald latency, agent messages on vs off — ${results.date}, ${commit ?? ''}${dirty ? '+' : ''}`),
);

console.log(`\n${table()}\n`);
if (waitedForCore.length > 0) {
  const w = spread(waitedForCore);
  console.log(
    `Other processes on the server core: the server's event loop thread waited for its core ${fmt(w.median * 100)}% of each run ` +
      `(median over ${w.values.length} runs, ${fmt(w.min * 100)}–${fmt(w.max * 100)}%); load average ${results.machine.loadavgAtStart[0]} at start, ${results.machine.loadavgAtEnd[0]} at end.\n`,
  );
}
console.log(`results: ${path.relative(process.cwd(), jsonFile) || jsonFile}`);
console.log(`chart:   ${path.relative(process.cwd(), svgFile) || svgFile}`);
log(`(${results.durationSeconds} s)`);

// A results file that cannot be read back, or lacks a row, fails the run (the CI smoke run relies on it).
const written = JSON.parse(readFileSync(jsonFile, 'utf8')) as { rows?: Row[] };
const missing = ONLY.size ? [] : missingRows(written.rows);
if (missing.length > 0) {
  console.error(`bench: rows missing or failed: ${missing.join(', ')}`);
  process.exit(1);
}
process.exit(0);
