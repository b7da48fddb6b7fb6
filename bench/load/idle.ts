/**
 * Idle sockets: opens `n` WebSockets (Herald: /ws/chat, each until its `ready` frame, so the
 * session exists and the connection is fully set up; raw ws: until open) with `concurrency`
 * connects in flight, reports `opened` with the time it took, then holds them, sending nothing,
 * until the parent says `close` (it measures the server's heap meanwhile).
 */
import { next, now, params, send } from '../lib/child.js';
import { closeAll, openSocket, pool } from '../lib/load.js';

interface Params {
  port: number;
  kind: 'herald' | 'raw';
  n: number;
  concurrency: number;
  timeoutSeconds: number;
}

const p = params<Params>();
const url = p.kind === 'herald' ? `ws://127.0.0.1:${p.port}/ws/chat` : `ws://127.0.0.1:${p.port}/`;
const t0 = now();
const opened = await pool(p.n, p.concurrency, t0 + p.timeoutSeconds * 1000, () =>
  openSocket(url, { ready: p.kind === 'herald', timeoutMs: 20_000 }).then((o) => o.ws),
);
const ms = now() - t0;
let closedEarly = 0;
for (const ws of opened.ok) ws.on('close', () => closedEarly++);
await send({
  type: 'opened',
  ms,
  opened: opened.ok.length,
  failed: opened.failed + (p.n - opened.ok.length - opened.failed),
  firstError: opened.firstError,
});
await next('close');
const stillOpen = opened.ok.length - closedEarly;
await closeAll(opened.ok, 5_000);
await send({ type: 'result', result: { stillOpen } });
process.exit(0);
