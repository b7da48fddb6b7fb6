/**
 * The floor for WebSocket push: a raw `ws` 8 server on a plain node:http server. It accepts
 * sockets on any path (and holds idle ones, for the heap comparison), and on
 * POST /push {"target":"all"|<index>,"content":"…","data":{…}} builds one frame shaped like
 * Herald's agent_message frame (same fields, same sizes) and sends it to every socket or to
 * the socket at that index, then answers 202. That is the least a push server does per publish:
 * read an HTTP body, make one frame, write it to the sockets.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { agentMessageLike, onJsonPost, serve } from './common.js';

interface PushBody {
  target?: 'all' | number;
  content?: string;
  data?: Record<string, unknown>;
}

await serve(async () => {
  const sockets: WebSocket[] = [];
  let framesSent = 0;
  let seq = 0;
  const server = http.createServer((req, res) =>
    onJsonPost<PushBody>(req, res, '/push', (body) => {
      const targets =
        body.target === 'all' || body.target === undefined
          ? sockets
          : sockets.length
            ? [sockets[body.target % sockets.length]!]
            : [];
      const frame = JSON.stringify({
        type: 'agent_message',
        message: agentMessageLike({
          content: body.content ?? '',
          deliveryGuarantee: 'best-effort',
          sessionId: `sess_${randomBytes(16).toString('base64url').slice(0, 26)}`,
          seq: ++seq,
          data: body.data,
        }),
        attempt: 1,
      });
      for (const ws of targets)
        if (ws.readyState === WebSocket.OPEN) {
          ws.send(frame);
          framesSent++;
        }
      res.writeHead(202, { 'content-type': 'application/json' }).end(`{"sent":${targets.length}}`);
    }),
  );
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('error', () => {});
    ws.on('close', () => {
      const i = sockets.indexOf(ws);
      if (i >= 0) sockets.splice(i, 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    counters: () => ({ framesSent, sockets: sockets.length }),
    resetCounters: () => {
      framesSent = 0;
    },
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});
