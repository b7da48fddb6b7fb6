/**
 * Another user's latency while an abuse runs (issue 10's fairness bound): a WebSocket client in a
 * worker thread, so its own event loop is not the server's (a test process runs both, and a client
 * on the server's loop would wait for the same work twice). It sends `ping` frames one after the
 * other, each as soon as the previous `pong` came back, and records each round trip.
 *
 * `measureUnderAbuse` first takes the probe's p99 with nothing else running (the machine's own
 * noise: other processes on a shared machine can deschedule this one for tens of milliseconds),
 * then its p99 while the abuse runs; a test bounds what the abuse adds.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain JavaScript given as a string: runs the same under vitest and tsx, with `ws` found from here.
// The worker pings without a pause; `{ take: n }` answers the round trips since the last take once
// there are at least n of them (after the round trip in flight), `{ stop: true }` closes it.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require(workerData.ws);
const socket = new WebSocket(workerData.url, { headers: workerData.headers });
let rtts = [];
let sentAt = 0;
let want;
let stopping = false;
const ping = () => {
  sentAt = performance.now();
  socket.send('{"type":"ping"}');
};
socket.on('message', (raw) => {
  const frame = JSON.parse(raw.toString());
  if (frame.type === 'ready') {
    parentPort.postMessage({ ready: true });
    ping();
  } else if (frame.type === 'pong') {
    rtts.push(performance.now() - sentAt);
    if (want !== undefined && rtts.length >= want) {
      parentPort.postMessage({ rtts });
      rtts = [];
      want = undefined;
    }
    ping();
  }
});
socket.on('error', (err) => parentPort.postMessage({ error: String(err) }));
socket.on('close', (code) => { if (!stopping) parentPort.postMessage({ error: 'closed ' + code }); });
parentPort.on('message', (message) => {
  if (message.stop) {
    stopping = true;
    socket.close();
  } else want = message.take;
});
`;

export interface PingProbe {
  /** The round trips (ms) since the last take, once there are at least `atLeast` (default 1). */
  take(atLeast?: number): Promise<number[]>;
  /** Closes its socket and ends the worker. */
  stop(): Promise<void>;
}

/** Starts a probe on `url` (a /ws/chat URL) and resolves once its socket is ready and pinging. */
export function startPingProbe(url: string, token?: string): Promise<PingProbe> {
  const ws = createRequire(import.meta.url).resolve('ws');
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const worker = new Worker(SOURCE, { eval: true, workerData: { url, headers, ws } });
  // A test that fails before stop() must not be kept waiting for it.
  worker.unref();
  let onRtts: ((rtts: number[]) => void) | undefined;
  let onError: ((err: Error) => void) | undefined;
  return new Promise((resolve, reject) => {
    onError = reject;
    worker.on('error', (err) => onError?.(err));
    worker.on('message', (message: { ready?: true; rtts?: number[]; error?: string }) => {
      if (message.error) onError?.(new Error(`ping probe: ${message.error}`));
      else if (message.rtts) onRtts?.(message.rtts);
      else if (message.ready)
        resolve({
          take: (atLeast = 1) =>
            new Promise<number[]>((done, fail) => {
              onRtts = done;
              onError = fail;
              worker.postMessage({ take: atLeast });
            }),
          stop: async () => {
            onError = undefined;
            worker.postMessage({ stop: true });
            await worker.terminate();
          },
        });
    });
  });
}

/** The 99th percentile (nearest rank) of round trips. */
export function p99(rtts: readonly number[]): number {
  const sorted = [...rtts].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
}

/** One line for a test's output: how many round trips and their p50, p99 and max. */
export function describeRtts(rtts: readonly number[]): string {
  const sorted = [...rtts].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * q) - 1)] ?? Number.NaN;
  return `${rtts.length} pings, p50 ${at(0.5).toFixed(1)} ms, p99 ${p99(rtts).toFixed(1)} ms, max ${at(1).toFixed(1)} ms`;
}

/** Another user's round trips while `abuse` runs, and without it just before. */
export async function measureUnderAbuse(
  wsUrl: string,
  token: string,
  abuse: () => Promise<void>,
): Promise<{ idle: number[]; abused: number[]; tookMs: number }> {
  const probe = await startPingProbe(wsUrl, token);
  try {
    await probe.take(1);
    // 2,000 round trips: a few hundred milliseconds on a quiet machine, about as long as an abuse here.
    const idle = await probe.take(2_000);
    const started = performance.now();
    await abuse();
    const tookMs = performance.now() - started;
    return { idle, abused: await probe.take(1), tookMs };
  } finally {
    await probe.stop();
  }
}
