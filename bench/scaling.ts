/**
 * Figures for docs/scaling.md, several Heralds on one Redis (loopback, bounded):
 * - cross-instance publish → receive latency: two Herald processes A and B on one Redis key
 *   prefix; 100 WebSockets on A; POST /api/agent-messages to B at 500/s for 5 s (at-least-once,
 *   acked at once); latency = receive time − send time, one clock (this process);
 * - admissions per second one Redis sustains: 64 publishes in flight to B for 5 s;
 * - Redis bytes per session and per message (MEMORY USAGE over the run's keys) after 100
 *   sessions with 10 chats each, every chat making a sanitization summary, nothing acked.
 * Every key of the run is deleted at the end.
 *
 *   npm run bench:scaling
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { dropKeys } from './lib/redis.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `herald-scaling:${randomBytes(6).toString('hex')}:`;
const SECONDS = 5;
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

async function startHerald(): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HERALD_STORE: 'redis',
      REDIS_URL,
      HERALD_REDIS_KEY_PREFIX: PREFIX,
      HERALD_CHAT_RATE_LIMIT: '0',
      HERALD_SESSION_RATE_LIMIT: '0',
      HERALD_MAX_CONNECTIONS_PER_PRINCIPAL: '0',
      HERALD_AGENT_RATE_LIMITS: '{"sanitization":0,"security":0,"status":0,"error":0}',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Herald did not start in 20 s')), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('open development mode')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`Herald exited with ${code}`)));
  });
  return `127.0.0.1:${port}`;
}

const post = async (host: string, route: string, body: unknown) => {
  const res = await fetch(`http://${host}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

async function crossInstanceLatency(a: string, b: string): Promise<string> {
  const sockets: Array<{ ws: WebSocket; sessionId: string }> = [];
  const latencies: number[] = [];
  for (let i = 0; i < 100; i++) {
    const ws = new WebSocket(`ws://${a}/ws/chat`);
    const sessionId = await new Promise<string>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (raw) => {
        const f = JSON.parse(raw.toString());
        if (f.type === 'ready') resolve(f.sessionId);
        if (f.type === 'agent_message') {
          latencies.push(performance.now() - f.message.data.t);
          ws.send(JSON.stringify({ type: 'ack', ids: [f.message.id] }));
        }
      });
    });
    sockets.push({ ws, sessionId });
  }
  const total = 500 * SECONDS;
  const start = performance.now();
  const sends: Array<Promise<unknown>> = [];
  for (let k = 0; k < total; k++) {
    const due = start + (k * 1000) / 500;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sends.push(
      post(b, '/api/agent-messages', {
        target: { sessionId: sockets[k % sockets.length]!.sessionId },
        agentType: 'status',
        content: 'Deploy finished',
        source: 'scaling',
        deliveryGuarantee: 'at-least-once',
        data: { t: due },
      }),
    );
  }
  await Promise.all(sends);
  const until = performance.now() + 5_000;
  while (latencies.length < total && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  for (const { ws } of sockets) ws.close();
  latencies.sort((x, y) => x - y);
  return `cross-instance publish → receive at 500/s over 100 sessions: p50 ${pct(latencies, 0.5).toFixed(2)} ms, p99 ${pct(latencies, 0.99).toFixed(2)} ms, max ${latencies[latencies.length - 1]?.toFixed(1)} ms; ${latencies.length} of ${total} received`;
}

async function admissionsPerSecond(b: string): Promise<string> {
  const chat = await post(b, '/api/chat', { message: 'hi' });
  const sessions = [chat.body.sessionId as string];
  for (let i = 0; i < 63; i++) sessions.push((await post(b, '/api/chat', { message: 'hi' })).body.sessionId);
  let done = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    sessions.map(async (sessionId) => {
      while (performance.now() < end && done < 200_000) {
        const res = await post(b, '/api/agent-messages', {
          target: { sessionId },
          agentType: 'status',
          content: 'tick',
          source: 'scaling',
          deliveryGuarantee: 'at-least-once',
        });
        if (res.status === 202) done++;
      }
    }),
  );
  return `admissions through one Herald on one Redis, 64 in flight: ${Math.round(done / SECONDS)} per second`;
}

async function footprint(redis: Redis, a: string): Promise<string> {
  // A fresh prefix's worth of keys: only what these chats write is counted.
  const before = await usage(redis);
  let messages = 0;
  for (let s = 0; s < 100; s++) {
    let sessionId: string | undefined;
    for (let c = 0; c < 10; c++) {
      const res = await post(a, '/api/chat', {
        message: 'Please update my address, my e-mail is jane@example.com <b>thanks</b>',
        ...(sessionId && { sessionId }),
      });
      sessionId = res.body.sessionId;
      messages += (res.body.agent_messages as unknown[]).length > 0 ? 1 : 0;
    }
  }
  const after = await usage(redis);
  const bytes = after - before;
  return `Redis memory for 100 sessions × 10 chats (1,000 user messages, 1,000 replies, ${messages} pending summaries): ${(bytes / 1024 / 1024).toFixed(2)} MB, about ${Math.round(bytes / 100)} bytes per session of 10 chats, ${Math.round(bytes / 1000)} bytes per chat turn`;
}

async function usage(redis: Redis): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) total += Number((await redis.call('MEMORY', 'USAGE', key)) ?? 0);
  } while (cursor !== '0');
  return total;
}

const redis = new Redis(REDIS_URL);
try {
  const a = await startHerald();
  const b = await startHerald();
  console.log(`Heralds A ${a} and B ${b} on ${REDIS_URL}, key prefix ${PREFIX}`);
  console.log(await footprint(redis, a));
  console.log(await crossInstanceLatency(a, b));
  console.log(await admissionsPerSecond(b));
} finally {
  for (const child of children) child.kill('SIGTERM');
  await dropKeys(redis, PREFIX);
  await redis.quit();
}
