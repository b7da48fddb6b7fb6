/**
 * HTTP chat as users make it when the model takes time: `connections` clients, each keeping its
 * own session, acking the agent messages of its previous answer, and pausing a random
 * 0–`pauseMs` before its next message (a person reading), every second message holding an
 * e-mail address. Clients start at random moments, so chats arrive spread out rather than all
 * in the same millisecond, and each response time is taken with the monotonic clock to the
 * microsecond (autocannon keeps whole milliseconds, too coarse for what this row measures).
 * A warm-up first (not counted); every client stops at the deadline or the request cap.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { params, send } from '../lib/child.js';
import { chatMessage, HttpClient, type HttpLoadParams } from '../lib/load.js';

interface Params extends HttpLoadParams {
  /** Each client pauses a random 0 to this many ms between its chats. */
  pauseMs: number;
}

const p = params<Params>();
const http = new HttpClient(p.port, p.connections);

interface Phase {
  latencies: number[];
  errors: number;
  agentMessages: number;
}

async function client(index: number, phase: () => Phase | undefined, done: () => boolean): Promise<void> {
  let n = index * 1000;
  let sessionId: string | undefined;
  let ack: string[] | undefined;
  await delay(Math.random() * p.pauseMs);
  while (!done()) {
    n++;
    const body: Record<string, unknown> = { message: chatMessage(n) };
    if (sessionId) body.sessionId = sessionId;
    if (ack && ack.length > 0) body.ack = ack;
    const started = performance.now();
    const at = phase();
    try {
      const answer = await http.request('POST', '/api/chat', body);
      const ms = performance.now() - started;
      if (answer.status !== 200) throw new Error(`status ${answer.status}`);
      const parsed = JSON.parse(answer.body) as { sessionId: string; agent_messages?: Array<{ id: string }> };
      sessionId = parsed.sessionId;
      ack = parsed.agent_messages?.map((m) => m.id);
      if (at && at === phase()) {
        at.latencies.push(ms);
        at.agentMessages += ack?.length ?? 0;
      }
    } catch {
      if (at) at.errors++;
      sessionId = undefined;
      ack = undefined;
    }
    await delay(Math.random() * p.pauseMs);
  }
}

const warmup: Phase = { latencies: [], errors: 0, agentMessages: 0 };
const measured: Phase = { latencies: [], errors: 0, agentMessages: 0 };
const t0 = performance.now();
const measureFrom = t0 + p.warmupSeconds * 1000;
const measureTo = measureFrom + p.seconds * 1000;
const hardStop = setTimeout(() => process.exit(2), (p.warmupSeconds + p.seconds + 30) * 1000);
const phase = () => {
  const now = performance.now();
  return now < measureFrom ? warmup : now < measureTo ? measured : undefined;
};
const done = () => performance.now() >= measureTo || measured.latencies.length >= p.maxRequests;
await Promise.all(Array.from({ length: p.connections }, (_, i) => client(i, phase, done)));
clearTimeout(hardStop);

const sorted = [...measured.latencies].sort((a, b) => a - b);
const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))] ?? 0;
const requests = sorted.length;
await send({
  type: 'result',
  result: {
    requests,
    durationS: p.seconds,
    rps: requests / p.seconds,
    latencyMs: {
      mean: requests ? sorted.reduce((a, b) => a + b, 0) / requests : 0,
      p50: q(0.5),
      p90: q(0.9),
      p99: q(0.99),
      max: sorted[requests - 1] ?? 0,
    },
    errors: measured.errors,
    agentMessagesPerRequest: requests ? measured.agentMessages / requests : 0,
  },
});
process.exit(0);
