/**
 * Fan-out: `sockets` sockets, then publishes as fast as the server answers, with `window`
 * publishes in flight, and frames received per second across all sockets.
 *
 * - Herald, mode `user`: POST /api/agent-messages {"target":{"userId":"anonymous"}, …}: every
 *   socket is a session of the one open-mode user, so each publish is one frame per socket.
 * - Herald, mode `session`: the same message with {"target":{"sessionId"}}, round robin.
 * - raw ws (the floor), mode `user`: POST /push {"target":"all"}, one frame to every socket;
 *   mode `session`: {"target":<index>}, one frame to one socket (not used by run.ts).
 *
 * Messages are best-effort status messages (no store row per session and no acks: the push path
 * alone). Only frames that start as an agent_message frame are counted (no JSON parse, so the
 * receiver costs the same for both servers); those received in the measured window count.
 */
import { now, params, send } from '../lib/child.js';
import { closeAll, HttpClient, openSocket, pool, STATUS_CONTENT } from '../lib/load.js';

interface Params {
  port: number;
  kind: 'herald' | 'raw';
  mode: 'user' | 'session';
  sockets: number;
  window: number;
  warmupSeconds: number;
  seconds: number;
  maxPublishes: number;
}

const p = params<Params>();
const PREFIX = Buffer.from('{"type":"agent_message"');
let measureStart = Number.POSITIVE_INFINITY;
let measureEnd = Number.POSITIVE_INFINITY;
let frames = 0;
let framesAll = 0;
let bytes = 0;

const url = p.kind === 'herald' ? `ws://127.0.0.1:${p.port}/ws/chat` : `ws://127.0.0.1:${p.port}/`;
const opened = await pool(p.sockets, 50, now() + 20_000, (i) =>
  openSocket(url, {
    ready: p.kind === 'herald',
    onFrame: (data) => {
      if (data.length < PREFIX.length || data.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) !== 0)
        return;
      framesAll++;
      const t = now();
      if (t >= measureStart && t <= measureEnd) {
        frames++;
        bytes += data.length;
      }
    },
  }).then((o) => ({ ...o, i })),
);
if (opened.failed > 0)
  throw new Error(`${opened.failed} of ${p.sockets} sockets failed: ${opened.firstError}`);
const sessionIds = opened.ok.sort((a, b) => a.i - b.i).map((o) => o.sessionId);

const http = new HttpClient(p.port, p.window);
let publishes = 0;
let answeredInWindow = 0;
let errors = 0;
let firstError: string | undefined;
let stop = false;
let next = 0;

const body = (i: number): [string, unknown] => {
  if (p.kind === 'raw')
    return ['/push', { target: p.mode === 'user' ? 'all' : i % p.sockets, content: STATUS_CONTENT }];
  const target =
    p.mode === 'user' ? { userId: 'anonymous' } : { sessionId: sessionIds[i % sessionIds.length] };
  return [
    '/api/agent-messages',
    {
      target,
      agentType: 'status',
      content: STATUS_CONTENT,
      source: 'bench',
      deliveryGuarantee: 'best-effort',
    },
  ];
};

const worker = async () => {
  while (!stop && publishes < p.maxPublishes) {
    publishes++;
    const [path, b] = body(next++);
    try {
      const answer = await http.post(path, b);
      if (answer.status !== 202) {
        errors++;
        firstError ??= `${answer.status} ${answer.body.slice(0, 200)}`;
      } else {
        const t = now();
        if (t >= measureStart && t <= measureEnd) answeredInWindow++;
      }
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
  }
};

const start = now();
measureStart = start + p.warmupSeconds * 1000;
measureEnd = measureStart + p.seconds * 1000;
const workers = Array.from({ length: p.window }, worker);
await new Promise((resolve) => setTimeout(resolve, measureStart - now()));
const cpu = process.cpuUsage();
await new Promise((resolve) => setTimeout(resolve, measureEnd - now()));
const used = process.cpuUsage(cpu);
stop = true;
await Promise.race([Promise.all(workers), new Promise((resolve) => setTimeout(resolve, 5_000))]);
// A moment for frames already on their way (they do not count: the window is over).
await new Promise((resolve) => setTimeout(resolve, 200));
await closeAll(opened.ok.map((o) => o.ws));
http.close();

const fan = p.mode === 'user' ? p.sockets : 1;
await send({
  type: 'result',
  result: {
    kind: p.kind,
    mode: p.mode,
    sockets: p.sockets,
    framesPerSecond: frames / p.seconds,
    /** This process's CPU over the measured window, as a share of one core. */
    loadCpuShare: (used.user + used.system) / 1e6 / p.seconds,
    publishesPerSecond: answeredInWindow / p.seconds,
    meanFrameBytes: frames ? bytes / frames : 0,
    publishes,
    framesExpected: (publishes - errors) * fan,
    framesReceived: framesAll,
    errors,
    firstError,
  },
});
process.exit(0);
