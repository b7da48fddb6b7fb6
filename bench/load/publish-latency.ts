/**
 * Publish → WebSocket receive latency: `sessions` sockets on /ws/chat (each a new session, its
 * id from `ready`); a publisher in this same process (so one clock) posts
 * POST /api/agent-messages {"target":{"sessionId"},"agentType":"status",…,"data":{"k","t","w"}}
 * at `rate` per second, round robin over the sessions, over keep-alive connections with at most
 * `maxInFlight` publishes outstanding. `t` is the message's *scheduled* send time, so a server
 * stall that holds the publisher back still shows in the latency (no coordinated omission).
 * Each socket measures receive − t; at-least-once messages are acked at once.
 *
 * A stall is a run of messages (by scheduled time, gaps under 100 ms merged) whose latency is
 * over `stallMs`; each is reported with its offset in the run and its epoch time, to be matched
 * with the server's GC pauses and event loop delay (servers/common.ts `stats`).
 */
import { epochMs, now, params, send } from '../lib/child.js';
import { closeAll, HttpClient, openSocket, pool, STATUS_CONTENT } from '../lib/load.js';
import { percentiles } from '../lib/stats.js';

interface Params {
  port: number;
  sessions: number;
  rate: number;
  warmupSeconds: number;
  seconds: number;
  guarantee: 'best-effort' | 'at-least-once';
  maxInFlight: number;
  stallMs: number;
}

interface Frame {
  type: string;
  message?: { id: string; data?: { k: number; t: number; w: number } };
}

const p = params<Params>();
const warmupCount = Math.round(p.rate * p.warmupSeconds);
const total = warmupCount + Math.round(p.rate * p.seconds);
const scheduled = new Float64Array(total);
const latency = new Float64Array(total).fill(Number.NaN);
const receivedAt = new Float64Array(total).fill(Number.NaN);
let duplicates = 0;
let acksSent = 0;

const opened = await pool(p.sessions, 50, now() + 20_000, (i) =>
  openSocket(`ws://127.0.0.1:${p.port}/ws/chat`, {
    ready: true,
    onFrame: (data, ws) => {
      const t = now();
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type !== 'agent_message' || !frame.message?.data) return;
      const { k } = frame.message.data;
      if (p.guarantee !== 'best-effort') {
        ws.send(`{"type":"ack","ids":["${frame.message.id}"]}`);
        acksSent++;
      }
      if (!Number.isNaN(latency[k]!)) return void duplicates++;
      latency[k] = t - scheduled[k]!;
      receivedAt[k] = t;
    },
  }).then((o) => ({ ...o, i })),
);
if (opened.failed > 0)
  throw new Error(`${opened.failed} of ${p.sessions} sockets failed: ${opened.firstError}`);
const sessionIds = opened.ok.sort((a, b) => a.i - b.i).map((o) => o.sessionId!);

const http = new HttpClient(p.port, 32);
let sent = 0;
let inFlight = 0;
let publishErrors = 0;
let firstPublishError: string | undefined;
let maxBacklog = 0;
const publishMs: number[] = [];

const start = now() + 50;
for (let k = 0; k < total; k++) scheduled[k] = start + (k * 1000) / p.rate;
const measureStart = scheduled[warmupCount] ?? start;
const measureStartEpoch = epochMs() + (measureStart - now());

const publish = (k: number) => {
  inFlight++;
  const t0 = now();
  const body = {
    target: { sessionId: sessionIds[k % sessionIds.length] },
    agentType: 'status',
    content: STATUS_CONTENT,
    source: 'bench',
    deliveryGuarantee: p.guarantee,
    data: { k, t: scheduled[k], w: k < warmupCount ? 1 : 0 },
  };
  http
    .post('/api/agent-messages', body)
    .then((answer) => {
      if (answer.status !== 202) {
        publishErrors++;
        firstPublishError ??= `${answer.status} ${answer.body.slice(0, 200)}`;
      } else if (k >= warmupCount) publishMs.push(now() - t0);
    })
    .catch((err: Error) => {
      publishErrors++;
      firstPublishError ??= err.message;
    })
    .finally(() => {
      inFlight--;
    });
};

// The publisher: every 1 ms timer tick, send what is due (bounded by the in-flight window).
await new Promise<void>((resolve) => {
  const hardStop = start + (p.warmupSeconds + p.seconds) * 1000 + 10_000;
  const timer = setInterval(() => {
    const t = now();
    while (sent < total && scheduled[sent]! <= t && inFlight < p.maxInFlight) publish(sent++);
    const due = Math.min(total, Math.floor(((t - start) * p.rate) / 1000) + 1) - sent;
    maxBacklog = Math.max(maxBacklog, due);
    if (sent >= total || t > hardStop) {
      clearInterval(timer);
      resolve();
    }
  }, 1);
});

// Drain: wait (bounded) for what is still on its way.
const drainUntil = now() + 3_000;
const receivedMeasured = () => {
  let n = 0;
  for (let k = warmupCount; k < total; k++) if (!Number.isNaN(latency[k]!)) n++;
  return n;
};
while ((inFlight > 0 || receivedMeasured() < total - warmupCount - publishErrors) && now() < drainUntil)
  await new Promise((resolve) => setTimeout(resolve, 20));
await closeAll(opened.ok.map((o) => o.ws));
http.close();

// Latencies of the measured messages; stalls; the longest gap between two receives.
const measured: number[] = [];
let over = 0;
const stalls: Array<{ atS: number; atEpoch: number; maxMs: number; messages: number; spanMs: number }> = [];
let current: (typeof stalls)[number] | undefined;
let lastOver = Number.NEGATIVE_INFINITY;
for (let k = warmupCount; k < total; k++) {
  const l = latency[k]!;
  if (Number.isNaN(l)) continue;
  measured.push(l);
  if (l <= p.stallMs) continue;
  over++;
  const at = scheduled[k]!;
  if (current && at - lastOver < 100) {
    current.maxMs = Math.max(current.maxMs, l);
    current.messages++;
    current.spanMs = at - measureStart - current.atS * 1000;
  } else {
    current = {
      atS: (at - measureStart) / 1000,
      atEpoch: measureStartEpoch + (at - measureStart),
      maxMs: l,
      messages: 1,
      spanMs: 0,
    };
    stalls.push(current);
  }
  lastOver = at;
}
const receives = Array.from(receivedAt.subarray(warmupCount)).filter((t) => !Number.isNaN(t));
receives.sort((a, b) => a - b);
let maxGapMs = 0;
for (let i = 1; i < receives.length; i++) maxGapMs = Math.max(maxGapMs, receives[i]! - receives[i - 1]!);

const l = percentiles(measured);
const pub = percentiles(publishMs);
await send({
  type: 'result',
  result: {
    guarantee: p.guarantee,
    rate: p.rate,
    sessions: p.sessions,
    published: total - warmupCount,
    received: measured.length,
    lost: total - warmupCount - measured.length,
    duplicates,
    acksSent,
    publishErrors,
    firstPublishError,
    latencyMs: { mean: l.mean, p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p999, max: l.max },
    publishAnswerMs: { p50: pub.p50, p99: pub.p99, max: pub.max },
    overStall: over,
    stalls: stalls.slice(0, 50),
    maxReceiveGapMs: maxGapMs,
    maxPublisherBacklog: maxBacklog,
    measureStartEpoch,
  },
});
process.exit(0);
