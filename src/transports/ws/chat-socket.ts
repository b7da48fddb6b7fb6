/**
 * GET /ws/chat: one conversation over a WebSocket (contract section 4). The auth hook has
 * already run on the upgrade; here the socket gets `ready`, the replay of stored unacked
 * messages, then chat/ack/resume/ping frames. Chats on one socket are answered one at a time,
 * in order; acks, resumes and pings run in order on a chain of their own, never behind a reply.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type WebSocket from 'ws';
import type { Principal } from '../../auth/principal.js';
import { ChatFailure } from '../../chat/chat-service.js';
import { MAX_TIMER_MS } from '../../config/config.js';
import { CLOSE, HeraldError, invalidRequest, toHeraldError } from '../../errors/catalogue.js';
import type { Session } from '../../store/store.js';
import { wsAuthResult } from '../http/auth-hook.js';
import { type ClientFrame, frame, parseClientFrame } from './frames.js';
import { WsChannel } from './ws-channel.js';

interface WsQuery {
  sessionId?: string;
  after?: string;
}

export async function chatSocketRoutes(app: FastifyInstance): Promise<void> {
  app.route({
    method: 'GET',
    url: '/ws/chat',
    config: { scope: 'chat', wsAuth: true },
    // A plain GET (no Upgrade) gets a clear error rather than an empty 404.
    handler: async () => {
      throw invalidRequest('upgrade', 'this endpoint speaks WebSocket: send an Upgrade request');
    },
    wsHandler: (socket, request) => {
      void openConnection(app, socket, request);
    },
  });
}

async function openConnection(
  app: FastifyInstance,
  socket: WebSocket,
  request: FastifyRequest,
): Promise<void> {
  const { herald } = app;
  const log = request.log;
  socket.on('error', (err) => log.debug({ err }, 'websocket error'));

  // Until the session is known frames go straight out; after, through the channel's outbox.
  let channel: WsChannel | undefined;
  const send = (data: string) => {
    if (channel) channel.sendFrame(data);
    else if (socket.readyState === socket.OPEN) socket.send(data);
  };
  const sendError = (error: HeraldError, replyTo?: string) => {
    if (socket.readyState !== socket.OPEN) return;
    const data = frame({ ...error.toFrame(), ...(replyTo !== undefined && { replyTo }) });
    // An error that ends the connection goes out at once, ahead of anything still held
    // (a chunk being merged is not held: it goes first, as it would have unmerged).
    if (error.closeCode) {
      channel?.flushChunk();
      socket.send(data);
      socket.close(error.closeCode, error.code);
    } else send(data);
  };

  // Frames that arrive while the session is being resolved wait here, in order.
  const early: Array<WebSocket.RawData | { binary: true }> = [];
  const onEarly = (data: WebSocket.RawData, isBinary: boolean) =>
    early.push(isBinary ? { binary: true } : data);
  socket.on('message', onEarly);

  if (herald.shuttingDown) return socket.close(CLOSE.goingAway, 'server shutting down');
  const auth = wsAuthResult(request);
  if (auth instanceof HeraldError) return sendError(auth);
  const principal: Principal = auth;

  // A bad `after` is told in an error frame after `ready`, and the replay starts from 0:
  // only auth and session errors close on connect.
  const query = request.query as WsQuery;
  let after = 0;
  let badAfter: HeraldError | undefined;
  if (query.after !== undefined && query.after !== '') {
    if (/^[0-9]{1,15}$/.test(query.after)) after = Number(query.after);
    else badAfter = invalidRequest('after', 'must be a seq (an integer >= 0); replaying from 0');
  }
  let session: Session;
  try {
    session = await herald.sessions.resolve(principal, query.sessionId || undefined);
  } catch (err) {
    const error = toHeraldError(err);
    sendError(error);
    if (!error.closeCode) socket.close(CLOSE.policyViolation, error.code);
    return;
  }
  if (socket.readyState !== socket.OPEN) return;

  herald.metrics.connections.inc({ transport: 'ws' });
  // On shutdown, frames held for a slow reader (a finished reply, say) get a moment to go out.
  const connection = {
    close: async (code: number, reason: string) => {
      await channel?.drained(1_000);
      socket.close(code, reason);
    },
  };
  herald.connections.add(connection);
  const abort = new AbortController();

  // Liveness: a ping every interval; a peer that has not answered the previous one is dropped.
  let alive = true;
  socket.on('pong', () => {
    alive = true;
  });
  const pinger = setInterval(() => {
    if (!alive) return socket.terminate();
    alive = false;
    socket.ping();
  }, herald.config.wsPingIntervalMs);
  pinger.unref();

  // The socket keeps the principal it opened with; an expiring JWT closes it (contract 7).
  let expiry: NodeJS.Timeout | undefined;
  const expiresAt = principal.expiresAt;
  if (expiresAt !== undefined) {
    // setTimeout holds at most 2^31-1 ms (24.8 days); longer tokens check again when it fires.
    const armExpiry = () => {
      const left = expiresAt - Date.now();
      if (left <= 0) return sendError(new HeraldError('unauthorized', 'The token expired.'));
      expiry = setTimeout(armExpiry, Math.min(left, MAX_TIMER_MS));
      expiry.unref();
    };
    armExpiry();
  }

  channel = new WsChannel(socket, session.id, herald.config.wsMaxBufferedBytes);
  const wsChannel = channel;
  send(frame({ type: 'ready', sessionId: session.id, protocol: 1 }));
  if (badAfter) sendError(badAfter);
  let detach: (() => void) | undefined;

  let chats: Promise<void> = Promise.resolve();
  let control: Promise<unknown> = Promise.resolve();
  const handleFrame = (data: WebSocket.RawData | { binary: true }) => {
    if ('binary' in data && data.binary === true)
      return socket.close(CLOSE.unsupportedData, 'binary frames are not supported');
    let parsed: ClientFrame;
    try {
      parsed = parseClientFrame(data.toString());
    } catch (err) {
      return sendError(toHeraldError(err));
    }
    // ack, resume and ping run in order on their own chain, so a pong also says that every
    // ack and resume sent before it is done; chats have their own chain and never block them.
    switch (parsed.type) {
      case 'ping':
        control = control.then(() => {
          send(frame({ type: 'pong' }));
        });
        return;
      case 'ack': {
        const ids = parsed.ids;
        control = control
          .then(() => herald.router?.ack(session.id, ids))
          .catch((err) => sendError(toHeraldError(err)));
        return;
      }
      case 'resume': {
        const after = parsed.after;
        control = control
          .then(() => herald.router?.resume(wsChannel, after))
          .catch((err) => sendError(toHeraldError(err)));
        return;
      }
      case 'chat': {
        const chatFrame = parsed;
        chats = chats.then(() => runChat(chatFrame));
        return;
      }
    }
  };

  const runChat = async (f: Extract<ClientFrame, { type: 'chat' }>) => {
    if (socket.readyState !== socket.OPEN) return;
    try {
      const result = await herald.chat.handle(
        { principal, session, transport: 'ws', message: f.message, messageId: f.id, signal: abort.signal },
        {
          typing: (status) => send(frame({ type: 'typing', status })),
          chunk: (content, replyTo) => wsChannel.sendChunk(content, replyTo),
        },
      );
      send(frame({ type: 'complete', replyTo: result.messageId }));
    } catch (err) {
      const error = err instanceof ChatFailure ? err.error : toHeraldError(err);
      if (error.code === 'internal') log.error({ err }, 'websocket chat failed');
      sendError(error, f.id);
    }
  };

  socket.on('close', () => {
    clearInterval(pinger);
    clearTimeout(expiry);
    abort.abort();
    detach?.();
    herald.connections.delete(connection);
    herald.metrics.connections.dec({ transport: 'ws' });
  });

  if (herald.router) {
    try {
      detach = await herald.router.attach(wsChannel, after);
    } catch (err) {
      log.error({ err }, 'agent message replay failed');
    }
    if (socket.readyState !== socket.OPEN) detach?.();
  }
  // Frames sent before the replay finished are handled now, in the order they came.
  for (const data of early.splice(0)) handleFrame(data);
  socket.off('message', onEarly);
  socket.on('message', (data, isBinary) => handleFrame(isBinary ? { binary: true } : data));
}
