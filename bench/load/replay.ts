/**
 * Replay on connect: makes a session (a socket's `ready`, then closed), publishes `messages`
 * at-least-once messages into it while no socket is attached, then, `warmups + repeats` times,
 * times from opening ws://…/ws/chat?sessionId=…&after=0 until the last of them has arrived as an
 * agent_message frame. Nothing is acked, so every connect replays all of them again.
 */
import type WebSocket from 'ws';
import { now, params, send } from '../lib/child.js';
import { closeAll, HttpClient, openSocket, pool, STATUS_CONTENT } from '../lib/load.js';

interface Params {
  port: number;
  messages: number;
  warmups: number;
  repeats: number;
}

const p = params<Params>();
const base = `ws://127.0.0.1:${p.port}/ws/chat`;
const first = await openSocket(base, { ready: true });
const sessionId = first.sessionId!;
await closeAll([first.ws]);

const http = new HttpClient(p.port, 16);
const published = await pool(p.messages, 16, now() + 30_000, async (k) => {
  const answer = await http.post('/api/agent-messages', {
    target: { sessionId },
    agentType: 'status',
    content: STATUS_CONTENT,
    source: 'bench',
    deliveryGuarantee: 'at-least-once',
    data: { k },
  });
  if (answer.status !== 202)
    throw new Error(`publish answered ${answer.status}: ${answer.body.slice(0, 200)}`);
});
http.close();
if (published.failed > 0 || published.ok.length < p.messages)
  throw new Error(`published ${published.ok.length} of ${p.messages}: ${published.firstError}`);

const times: number[] = [];
for (let r = 0; r < p.warmups + p.repeats; r++) {
  let frames = 0;
  let done: (ms: number) => void = () => {};
  const arrived = new Promise<number>((resolve) => {
    done = resolve;
  });
  const t0 = now();
  let ws: WebSocket | undefined;
  try {
    const o = await openSocket(`${base}?sessionId=${encodeURIComponent(sessionId)}&after=0`, {
      ready: true,
      onFrame: (data) => {
        if (data.toString('latin1', 0, 23) !== '{"type":"agent_message"') return;
        if (++frames === p.messages) done(now() - t0);
      },
    });
    ws = o.ws;
    const ms = await Promise.race([
      arrived,
      new Promise<number>((resolve) => setTimeout(resolve, 10_000, -1)),
    ]);
    if (ms < 0) throw new Error(`replay: ${frames} of ${p.messages} frames within 10 s`);
    if (r >= p.warmups) times.push(ms);
  } finally {
    if (ws) await closeAll([ws]);
  }
}

await send({ type: 'result', result: { messages: p.messages, replayMs: times } });
process.exit(0);
