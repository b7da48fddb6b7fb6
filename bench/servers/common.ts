/**
 * What every server child does the same way: listen on 127.0.0.1, port 0; report the port;
 * answer `heap` (heap after two full GCs, needs --expose-gc) and `stats` (CPU used, event loop
 * delay, event loop blocks and GC pauses since the last `stats-reset`, with the times of long
 * blocks and pauses, so a latency
 * stall seen by the load generator can be matched to what the server was doing); `close`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { epochMs, fail, on, send } from '../lib/child.js';

export interface Started {
  port: number;
  close(): Promise<void>;
  /** Server-specific counters, added to `stats`. */
  counters?(): Record<string, unknown>;
  resetCounters?(): void;
}

interface GcPause {
  /** Epoch milliseconds at the start of the pause. */
  at: number;
  ms: number;
  kind: string;
}

const GC_KINDS: Record<number, string> = { 1: 'major', 2: 'minor', 4: 'incremental', 8: 'weakcb' };
/** Pauses at least this long are listed one by one. */
const LONG_GC_MS = 10;
/** Event loop blocks at least this long are listed one by one. */
const BLOCK_MS = 20;

interface Block {
  /** Epoch milliseconds when the timer should have fired. */
  at: number;
  /** How late the 10 ms timer fired. */
  ms: number;
  /**
   * Over the timer's interval (block + 10 ms), from the kernel's schedstat of the event loop
   * thread: time running on the CPU, and time runnable but waiting for the CPU (another process
   * had the core). The rest was spent asleep: in a blocking system call (disk, a lock).
   */
  onCpuMs?: number;
  runQueueMs?: number;
}

/** The event loop thread's [on-CPU ms, run-queue wait ms] since boot (Linux), or undefined. */
function schedstat(): [number, number] | undefined {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return run === undefined || wait === undefined ? undefined : [run / 1e6, wait / 1e6];
  } catch {
    return undefined;
  }
}

export async function serve(start: () => Promise<Started>): Promise<void> {
  let started: Started;
  try {
    started = await start();
  } catch (err) {
    return void (await fail(err));
  }

  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // Event loop blocks of BLOCK_MS or more, with their times: a 10 ms timer that fires late.
  let blocks: Block[] = [];
  let tick = performance.now();
  let sched = schedstat();
  let sched0 = sched;
  const watchdog = setInterval(() => {
    const t = performance.now();
    const late = t - tick - 10;
    const now = schedstat();
    if (late >= BLOCK_MS && blocks.length < 200)
      blocks.push({
        at: performance.timeOrigin + tick + 10,
        ms: late,
        ...(now && sched && { onCpuMs: now[0] - sched[0], runQueueMs: now[1] - sched[1] }),
      });
    tick = t;
    sched = now;
  }, 10);
  let gc = { count: 0, totalMs: 0, maxMs: 0, long: [] as GcPause[] };
  let cpu = process.cpuUsage();
  let since = performance.now();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      if (entry.duration >= LONG_GC_MS && gc.long.length < 200) {
        const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
        gc.long.push({
          at: performance.timeOrigin + entry.startTime,
          ms: entry.duration,
          kind: GC_KINDS[kind] ?? String(kind),
        });
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  const reset = () => {
    loop.reset();
    gc = { count: 0, totalMs: 0, maxMs: 0, long: [] };
    blocks = [];
    sched0 = schedstat();
    cpu = process.cpuUsage();
    since = performance.now();
    started.resetCounters?.();
  };
  on('stats-reset', async () => {
    reset();
    await send({ type: 'stats-reset' });
  });
  on('stats', async () => {
    const used = process.cpuUsage(cpu);
    const elapsedMs = performance.now() - since;
    await send({
      type: 'stats',
      at: epochMs(),
      elapsedMs,
      cpuShare: (used.user + used.system) / 1000 / elapsedMs,
      loopDelayMs: {
        p50: loop.percentile(50) / 1e6,
        p99: loop.percentile(99) / 1e6,
        max: loop.max / 1e6,
      },
      gc,
      loopBlocks: blocks,
      // The event loop thread over the whole window: on the CPU, and waiting for it.
      ...(() => {
        const now = schedstat();
        return now && sched0
          ? { threadOnCpuMs: now[0] - sched0[0], threadRunQueueMs: now[1] - sched0[1] }
          : {};
      })(),
      rssBytes: process.memoryUsage.rss(),
      ...started.counters?.(),
    });
  });
  on('heap', async () => {
    const gcNow = (globalThis as { gc?: () => void }).gc;
    if (!gcNow) throw new Error('heap needs node --expose-gc');
    gcNow();
    await new Promise((resolve) => setImmediate(resolve));
    gcNow();
    const m = process.memoryUsage();
    await send({
      type: 'heap',
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      rss: m.rss,
      external: m.external,
    });
  });
  on('close', async () => {
    observer.disconnect();
    clearInterval(watchdog);
    loop.disable();
    await Promise.race([started.close(), new Promise((resolve) => setTimeout(resolve, 3_000))]);
    process.exit(0);
  });
  await send({ type: 'listening', port: started.port, pid: process.pid });
}

/**
 * Calls `handle` with the parsed JSON body of a POST to `path`; anything else gets 404, a body
 * that is not JSON 400. For the baseline servers (raw ws, Socket.IO).
 */
export function onJsonPost<T>(
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
  path: string,
  handle: (body: T) => void,
): void {
  if (req.method !== 'POST' || req.url !== path) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: T;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
    } catch {
      res.writeHead(400).end();
      return;
    }
    handle(body);
  });
}

/** An agent message of Herald's shape and size, for the baselines to send. */
export function agentMessageLike(fields: {
  content: string;
  deliveryGuarantee: string;
  sessionId: string;
  seq: number;
  data?: unknown;
}): Record<string, unknown> {
  const at = new Date();
  return {
    id: `am_${randomBytes(16).toString('base64url').slice(0, 26)}`,
    role: 'assistant',
    content: fields.content,
    timestamp: at.toISOString(),
    agentType: 'status',
    priority: 'low',
    ttl: 60000,
    expiresAt: new Date(at.getTime() + 60_000).toISOString(),
    deliveryGuarantee: fields.deliveryGuarantee,
    source: 'bench',
    sessionId: fields.sessionId,
    seq: fields.seq,
    ...(fields.data !== undefined && { data: fields.data }),
  };
}
