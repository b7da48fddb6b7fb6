/**
 * Socket.IO 4 (what users would pick instead of Herald for acked delivery), WebSocket transport
 * only, no per-message deflate. Clients connect with ?idx=<n>. On
 * POST /emit {"target":<idx>,"content":"…","data":{…}} the server builds a message of Herald's
 * agent message shape and emits it with an ack callback (socket.timeout(10 s).emit(…, cb)),
 * answers 202 at once (as Herald's publish does), and records the emit → ack callback time.
 * Nothing is stored: a message whose socket is gone is lost, which is the difference to Herald's
 * at-least-once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { percentiles } from '../lib/stats.js';
import { agentMessageLike, onJsonPost, serve } from './common.js';

interface EmitBody {
  target?: number;
  content?: string;
  data?: Record<string, unknown>;
}

await serve(async () => {
  const byIdx = new Map<number, Socket>();
  let emitted = 0;
  let acked = 0;
  let timedOut = 0;
  let seq = 0;
  // Emit → ack callback times (ms), bounded.
  const ackMs = new Float64Array(2_000_000);
  let ackCount = 0;

  // engine.io answers its own path (/socket.io/) before this handler is called.
  const server = http.createServer((req, res) =>
    onJsonPost<EmitBody>(req, res, '/emit', (body) => {
      const socket = byIdx.get(body.target ?? -1);
      if (!socket) {
        res.writeHead(404).end();
        return;
      }
      const message = agentMessageLike({
        content: body.content ?? '',
        deliveryGuarantee: 'at-least-once',
        sessionId: `sess_${socket.id}`,
        seq: ++seq,
        data: body.data,
      });
      const t0 = performance.now();
      emitted++;
      socket.timeout(10_000).emit('agent_message', message, (err: Error | null) => {
        if (err) timedOut++;
        else {
          acked++;
          if (ackCount < ackMs.length) ackMs[ackCount++] = performance.now() - t0;
        }
      });
      res.writeHead(202, { 'content-type': 'application/json' }).end(`{"id":"${message.id}"}`);
    }),
  );
  const io = new Server(server, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    httpCompression: false,
  });
  io.on('connection', (socket) => {
    const idx = Number(socket.handshake.query.idx);
    if (Number.isInteger(idx)) byIdx.set(idx, socket);
    socket.on('disconnect', () => {
      if (byIdx.get(idx) === socket) byIdx.delete(idx);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    counters: () => {
      const p = percentiles(ackMs.subarray(0, ackCount));
      return { emitted, acked, timedOut, emitToAckMs: { p50: p.p50, p99: p.p99, max: p.max, n: p.n } };
    },
    resetCounters: () => {
      emitted = acked = timedOut = ackCount = 0;
    },
    close: async () => {
      io.disconnectSockets(true);
      await io.close();
    },
  };
});
