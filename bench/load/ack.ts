/**
 * Acked delivery, Herald against Socket.IO 4, measured the same way:
 *
 *   load process ──HTTP POST──▶ server ──WebSocket──▶ client in the load process ──ack──▶ server
 *
 * - Herald: POST /api/agent-messages (at-least-once, target a session) → agent_message frame →
 *   the client sends {type:'ack',ids:[id]} at once.
 * - Socket.IO: POST /emit (servers/socketio.ts) → socket.timeout(10 s).emit('agent_message',
 *   message, callback) → the client's handler calls the ack callback at once → the server's
 *   callback runs.
 *
 * `sockets` clients, `window` messages in flight (a message leaves the window when its client has
 * received and acked it), round robin over the clients. Messages completed in the measured window
 * count; latency is from the POST being sent to the client having the message (and acking it).
 * The server side of the ack (Herald's stored ack, Socket.IO's callback) is checked after the run
 * from Herald's /metrics and the Socket.IO server's stats.
 */
import { io, type Socket } from 'socket.io-client';
import { now, params, send } from '../lib/child.js';
import { closeAll, HttpClient, openSocket, pool, STATUS_CONTENT } from '../lib/load.js';
import { percentiles } from '../lib/stats.js';

interface Params {
  port: number;
  kind: 'herald' | 'socketio';
  sockets: number;
  window: number;
  warmupSeconds: number;
  seconds: number;
  maxMessages: number;
}

const p = params<Params>();
const waiting = new Map<number, () => void>();
const startedAt = new Float64Array(p.maxMessages);
let measureStart = Number.POSITIVE_INFINITY;
let measureEnd = Number.POSITIVE_INFINITY;
const latencies: number[] = [];
let duplicates = 0;

const received = (k: number) => {
  const t = now();
  const resolve = waiting.get(k);
  if (!resolve) return void duplicates++;
  waiting.delete(k);
  if (startedAt[k]! >= measureStart && t <= measureEnd) latencies.push(t - startedAt[k]!);
  resolve();
};

const targets: Array<string | number> = [];
const closers: Array<() => Promise<void>> = [];
if (p.kind === 'herald') {
  const opened = await pool(p.sockets, 50, now() + 20_000, (i) =>
    openSocket(`ws://127.0.0.1:${p.port}/ws/chat`, {
      ready: true,
      onFrame: (data, ws) => {
        const frame = JSON.parse(data.toString()) as {
          type: string;
          message?: { id: string; data?: { k: number } };
        };
        if (frame.type !== 'agent_message' || frame.message?.data === undefined) return;
        ws.send(`{"type":"ack","ids":["${frame.message.id}"]}`);
        received(frame.message.data.k);
      },
    }).then((o) => ({ ...o, i })),
  );
  if (opened.failed > 0) throw new Error(`${opened.failed} sockets failed: ${opened.firstError}`);
  for (const o of opened.ok.sort((a, b) => a.i - b.i)) targets.push(o.sessionId!);
  closers.push(() => closeAll(opened.ok.map((o) => o.ws)));
} else {
  const clients: Socket[] = [];
  const opened = await pool(
    p.sockets,
    50,
    now() + 20_000,
    (i) =>
      new Promise<number>((resolve, reject) => {
        const socket = io(`http://127.0.0.1:${p.port}`, {
          transports: ['websocket'],
          query: { idx: String(i) },
          forceNew: true,
          reconnection: false,
          timeout: 10_000,
        });
        clients.push(socket);
        socket.on('agent_message', (message: { data?: { k: number } }, ack: () => void) => {
          ack();
          if (message.data) received(message.data.k);
        });
        socket.once('connect', () => resolve(i));
        socket.once('connect_error', reject);
      }),
  );
  if (opened.failed > 0) throw new Error(`${opened.failed} sockets failed: ${opened.firstError}`);
  for (let i = 0; i < p.sockets; i++) targets.push(i);
  closers.push(async () => {
    for (const c of clients) c.disconnect();
  });
}

const http = new HttpClient(p.port, Math.min(p.window, 64));
let next = 0;
let lost = 0;
let errors = 0;
let firstError: string | undefined;
let stop = false;

const one = async () => {
  const k = next++;
  const target = targets[k % targets.length]!;
  const arrived = new Promise<void>((resolve) => waiting.set(k, resolve));
  startedAt[k] = now();
  const path = p.kind === 'herald' ? '/api/agent-messages' : '/emit';
  const message = { agentType: 'status', content: STATUS_CONTENT, source: 'bench', data: { k } };
  const body =
    p.kind === 'herald'
      ? { target: { sessionId: target }, ...message, deliveryGuarantee: 'at-least-once' }
      : { target, content: STATUS_CONTENT, data: { k } };
  try {
    const answer = await http.post(path, body);
    if (answer.status !== 202) throw new Error(`${answer.status} ${answer.body.slice(0, 200)}`);
  } catch (err) {
    errors++;
    firstError ??= (err as Error).message;
    waiting.delete(k);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    arrived.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, 10_000, true);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    lost++;
    waiting.delete(k);
  }
};

const worker = async () => {
  while (!stop && next < p.maxMessages) await one();
};

const start = now();
measureStart = start + p.warmupSeconds * 1000;
measureEnd = measureStart + p.seconds * 1000;
const workers = Array.from({ length: p.window }, worker);
await new Promise((resolve) => setTimeout(resolve, measureEnd - now()));
stop = true;
await Promise.race([Promise.all(workers), new Promise((resolve) => setTimeout(resolve, 12_000))]);

// Herald's side of the acks, from its metrics (names as of this writing; absent is fine).
let serverAcked: number | undefined;
if (p.kind === 'herald') {
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const metrics = await http.request('GET', '/metrics');
    serverAcked = metrics.body
      .split('\n')
      .filter((line) => line.startsWith('herald_agent_messages_acked_total'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  } catch {
    serverAcked = undefined;
  }
}
for (const close of closers) await close();
http.close();

const l = percentiles(latencies);
await send({
  type: 'result',
  result: {
    kind: p.kind,
    messages: latencies.length,
    perSecond: latencies.length / p.seconds,
    latencyMs: { mean: l.mean, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max },
    sent: next,
    lost,
    duplicates,
    errors,
    firstError,
    serverAcked,
  },
});
process.exit(0);
