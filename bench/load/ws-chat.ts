/**
 * WebSocket chat round trips: `sockets` sockets on /ws/chat, each: wait for `ready`, send
 * {type:'chat',id,message}, read frames until {type:'complete'}, ack every agent_message at
 * once with {type:'ack',ids:[id]}, and send the next chat. Every second message holds an
 * e-mail address. Round trips completed in the measured window count (a warm-up window before
 * it does not). Bounded in time (warm-up + seconds, then a bounded drain) and in count.
 */
import type WebSocket from 'ws';
import { now, params, send } from '../lib/child.js';
import { chatMessage, closeAll, openSocket, pool } from '../lib/load.js';
import { percentiles } from '../lib/stats.js';

interface Params {
  port: number;
  sockets: number;
  warmupSeconds: number;
  seconds: number;
  maxRoundTrips: number;
}

const p = params<Params>();
const url = `ws://127.0.0.1:${p.port}/ws/chat`;

let sent = 0;
let measureStart = Number.POSITIVE_INFINITY;
let measureEnd = Number.POSITIVE_INFINITY;
let stopping = false;
let outstanding = 0;
let errors = 0;
let agentMessages = 0;
const latencies: number[] = [];

interface Conn {
  ws?: WebSocket;
  n: number;
  sentAt: number;
  busy: boolean;
}

const sendChat = (c: Conn) => {
  if (stopping || sent >= p.maxRoundTrips || !c.ws) return;
  sent++;
  c.n++;
  c.busy = true;
  outstanding++;
  c.sentAt = now();
  c.ws.send(JSON.stringify({ type: 'chat', id: `c${c.n}`, message: chatMessage(c.n) }));
};

const finish = (c: Conn, ok: boolean) => {
  if (!c.busy) return;
  c.busy = false;
  outstanding--;
  const t = now();
  if (ok && c.sentAt >= measureStart && t <= measureEnd) latencies.push(t - c.sentAt);
  if (!ok) errors++;
  sendChat(c);
};

const conns: Conn[] = Array.from({ length: p.sockets }, () => ({ n: 0, sentAt: 0, busy: false }));
const opened = await pool(p.sockets, 25, now() + 15_000, async (i) => {
  const c = conns[i]!;
  const { ws } = await openSocket(url, {
    ready: true,
    onFrame: (data, socket) => {
      const frame = JSON.parse(data.toString()) as {
        type: string;
        message?: { id: string };
        replyTo?: string;
      };
      switch (frame.type) {
        case 'agent_message':
          agentMessages++;
          socket.send(JSON.stringify({ type: 'ack', ids: [frame.message!.id] }));
          break;
        case 'complete':
          finish(c, true);
          break;
        case 'error':
          if (frame.replyTo !== undefined) finish(c, false);
          else errors++;
          break;
      }
    },
  });
  c.ws = ws;
  ws.on('close', () => finish(c, false));
  return ws;
});
if (opened.failed > 0)
  throw new Error(`${opened.failed} of ${p.sockets} sockets failed: ${opened.firstError}`);

const start = now();
measureStart = start + p.warmupSeconds * 1000;
measureEnd = measureStart + p.seconds * 1000;
for (const c of conns) sendChat(c);
await new Promise((resolve) => setTimeout(resolve, measureEnd - now()));
stopping = true;
const drainUntil = now() + 3_000;
while (outstanding > 0 && now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 10));
await closeAll(opened.ok);

const l = percentiles(latencies);
await send({
  type: 'result',
  result: {
    roundTrips: latencies.length,
    durationS: p.seconds,
    rps: latencies.length / p.seconds,
    latencyMs: { mean: l.mean, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max },
    errors,
    agentMessagesPerRoundTrip: sent ? agentMessages / sent : 0,
  },
});
process.exit(0);
