/**
 * GET /ws/chat: one conversation over a WebSocket (docs/protocol.md, section 5). The auth hook has
 * already run on the upgrade; here the socket gets `ready`, the replay of stored unacked
 * messages, then chat/ack/resume/ping frames. Chats on one socket are answered one at a time,
 * in order; acks, resumes and pings run in order on a chain of their own, never behind a reply.
 *
 * Idle sockets are the common case, so one costs little: a ChatConnection (liveness, expiry,
 * dispatch) and its WsChannel, listeners shared by every socket of the app, one ping sweep for
 * all of them instead of a timer each, and nothing of the upgrade request kept. JS heap per idle
 * socket, 2,000 sockets: with one long closure per connection (the upgrade's request, reply and
 * response kept alive, an interval per socket, ~10 closures) 9.8 KB in the bench's heap row
 * (a new session each, SQLite, tsx), 7.7 KB compiled on one session; with this design 4.6 KB
 * and 3.8 KB. A bare `ws` server: 2.7-3.0 KB.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import WebSocket from 'ws';
import type { Principal } from '../../auth/principal.js';
import { ChatFailure } from '../../chat/chat-service.js';
import { MAX_TIMER_MS } from '../../config/config.js';
import type { HeraldContext } from '../../context.js';
import { CLOSE, HeraldError, invalidRequest, toHeraldError } from '../../errors/catalogue.js';
import { WsQuery } from '../../protocol/frames.js';
import { PROTOCOL_VERSION, SEQ_QUERY_PATTERN } from '../../protocol/limits.js';
import type { Session } from '../../store/store.js';
import { wsAuthResult } from '../http/auth-hook.js';
import { type KeptReader, KeptReplies, type KeptReply, keptLimits } from '../kept-replies.js';
import { type ClientFrame, frame, parseClientFrame } from './frames.js';
import { WsChannel } from './ws-channel.js';

const { OPEN } = WebSocket;
/** Stands for a binary frame that arrived early (it closes the socket when its turn comes). */
const BINARY = Symbol('binary frame');
const SETTLED: Promise<unknown> = Promise.resolve();
const SEQ = new RegExp(SEQ_QUERY_PATTERN);
const PONG = frame({ type: 'pong' });
const TYPING_ON = frame({ type: 'typing', status: true });
const TYPING_OFF = frame({ type: 'typing', status: false });
/**
 * The scope a chat socket is let in with (the route's). A socket keeps who its principal is,
 * how it proved it and until when, with this one scope: every frame it takes needs no other,
 * and it does not keep a set of scopes of its own for as long as it is open.
 */
const SOCKET_SCOPES: ReadonlySet<string> = new Set(['chat']);

/** A kept reply's key: its principal, session and message id. */
const keyOf = (sub: string, sessionId: string, messageId: string) =>
  `${sub}\u0000${sessionId}\u0000${messageId}`;

/** The name of a WebSocket reply among its session's kept replies on Redis (src/engine/redis-replies.ts). */
const nameOf = (messageId: string) => `m:${messageId}`;

const notKept = () =>
  new HeraldError('not_found', 'No reply to resume: it ended too long ago, or was never kept.', {
    fields: ['replyTo'],
  });

/** A kept WebSocket reply's last part: the error frame that ended it (without replyTo), or '' when complete. */
function endOf(error: HeraldError | undefined): string {
  if (!error) return '';
  const { replyTo: _r, ...rest } = error.toFrame();
  return JSON.stringify(rest);
}

const WS_DOCS = {
  querystring: WsQuery,
  response: {
    101: {
      description: 'Switching Protocols: the WebSocket (its frames: /docs/asyncapi.json)',
      type: 'null',
    },
  },
};

export async function chatSocketRoutes(app: FastifyInstance): Promise<void> {
  const sockets = new ChatSockets(app.herald, app.log);
  app.addHook('onClose', async () => sockets.replies.close());
  app.route({
    method: 'GET',
    url: '/ws/chat',
    // The query is read by the socket itself (its faults are frames, not HTTP answers); the API
    // documents show its schema (`config.docs`), the frames are in /docs/asyncapi.json.
    config: { scope: 'chat', wsAuth: true, docs: WS_DOCS },
    // The upgrade is answered on the socket itself (ws writes the 101), never through the HTTP
    // response Node made for the request; left attached, the socket would keep that response,
    // the request and Fastify's reply alive for as long as the connection lasts.
    preHandler: (request, reply, done) => {
      const response = reply.raw;
      if (request.ws && response.socket) response.detachSocket(response.socket);
      done();
    },
    // A plain GET (no Upgrade) gets a clear error rather than an empty 404.
    handler: async () => {
      throw invalidRequest('upgrade', 'this endpoint speaks WebSocket: send an Upgrade request');
    },
    wsHandler: (socket, request) => {
      sockets.open(socket, request);
    },
  });
}

/**
 * A socket error, for the app's errorHandler and every chat socket alike: a client's protocol
 * fault (a frame over the limit, bad UTF-8) is the client's, and ws has already closed with the
 * right code, so it is not worth an error line; anything else is logged. Then the socket goes.
 */
export function onSocketError(log: FastifyBaseLogger, err: Error, socket: WebSocket, reqId?: string): void {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('WS_ERR_'))
    log.debug({ code, reqId }, 'websocket protocol error');
  else log.error({ err, reqId }, 'websocket handler failed');
  socket.terminate();
}

/**
 * The open chat sockets of one app: the listeners every socket shares (ws calls a listener
 * with the socket as `this`, so one function serves them all), and liveness — one ping sweep
 * for every socket each HERALD_WS_PING_INTERVAL_MS, as ws's README suggests, rather than an
 * interval per socket. A socket pinged by one sweep that has not answered by the next is
 * dropped: a dead peer goes within two intervals, as before.
 */
class ChatSockets {
  private readonly live = new Map<WebSocket, ChatConnection>();
  /** Resumable replies (`resumable: true`), kept past their socket and keepMs after their end. */
  readonly replies: KeptReplies;
  /** The chats in flight that a `stop` may name, by keyOf. */
  readonly inflight = new Map<string, AbortController>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly onMessage: (this: WebSocket, data: WebSocket.RawData, isBinary: boolean) => void;
  private readonly onPong: (this: WebSocket) => void;
  private readonly onClose: (this: WebSocket) => void;
  private readonly onError: (this: WebSocket, err: Error) => void;

  constructor(
    readonly herald: HeraldContext,
    readonly log: FastifyBaseLogger,
  ) {
    this.replies = new KeptReplies(keptLimits(herald.config), true);
    const { live } = this;
    this.onMessage = function (data, isBinary) {
      live.get(this)?.receive(isBinary ? BINARY : data);
    };
    this.onPong = function () {
      const connection = live.get(this);
      if (connection) connection.alive = true;
    };
    this.onClose = function () {
      live.get(this)?.closed();
    };
    this.onError = function (err) {
      onSocketError(log, err, this, live.get(this)?.reqId);
    };
  }

  open(socket: WebSocket, request: FastifyRequest): void {
    const connection = new ChatConnection(this, socket, request.id);
    this.live.set(socket, connection);
    // @fastify/websocket routes socket errors to the app's errorHandler through a listener that
    // holds the request and reply for the socket's whole life. The shared listener above does
    // the same without them.
    const fromPlugin = socket.listeners('error') as Array<(err: Error) => void>;
    socket.on('error', this.onError);
    for (const listener of fromPlugin) socket.off('error', listener);
    socket.on('message', this.onMessage);
    socket.on('pong', this.onPong);
    socket.on('close', this.onClose);
    this.sweepTimer ??= setInterval(sweep, this.herald.config.wsPingIntervalMs, this);
    this.sweepTimer.unref();
    connection.open(request).catch((err) => {
      this.log.error({ err, reqId: connection.reqId }, 'websocket connection failed');
      socket.terminate();
    });
  }

  remove(socket: WebSocket): void {
    this.live.delete(socket);
    if (this.live.size === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** Drops every socket that missed the last ping and pings the others. */
  sweep(): void {
    for (const [socket, connection] of this.live) {
      if (!connection.alive) {
        socket.terminate();
        continue;
      }
      connection.alive = false;
      socket.ping();
    }
  }
}

function sweep(sockets: ChatSockets): void {
  sockets.sweep();
}

/** One chat socket: opening (auth, session, replay), dispatch of its frames, token expiry, close. */
class ChatConnection {
  /** Liveness: cleared by each sweep's ping, set again by the pong. */
  alive = true;
  /** Frames that arrive while the session is resolved and the replay runs wait here, in order. */
  private early: Array<WebSocket.RawData | typeof BINARY> | undefined = [];
  /**
   * The outbox once the session is known; until then frames go straight out. Set together with
   * the entry in herald.connections and the connections gauge.
   */
  private channel: WsChannel | undefined;
  private principal!: Principal;
  private session!: Session;

  /** The session once resolved (the connection set closes a deleted session's sockets). */
  get sessionId(): string | undefined {
    return (this.session as Session | undefined)?.id;
  }
  private detach: (() => void) | undefined;
  /** Gives back this socket's place among its principal's live connections. */
  private release: (() => void) | undefined;
  private expiry: NodeJS.Timeout | undefined;
  /** Made by the first chat; aborted on close. */
  private abort: AbortController | undefined;
  /** The kept replies this socket reads, detached on close. */
  private readonly reading = new Map<KeptReply, KeptReader>();
  /** The replies made on other instances this socket reads (Redis), closed on close. */
  private readonly readingElsewhere = new Set<{ close(): void }>();
  private chats: Promise<unknown> = SETTLED;
  private control: Promise<unknown> = SETTLED;

  constructor(
    private readonly sockets: ChatSockets,
    private readonly socket: WebSocket,
    readonly reqId: string,
  ) {}

  /** The request is used here and not kept: nothing of it lives as long as the socket. */
  async open(request: FastifyRequest): Promise<void> {
    const { herald } = this.sockets;
    const socket = this.socket;
    if (herald.shuttingDown) return socket.close(CLOSE.goingAway, 'server shutting down');
    const auth = wsAuthResult(request);
    if (auth instanceof HeraldError) return this.sendError(auth);
    // A place among the principal's live connections, given back when the socket closes.
    try {
      this.release = herald.liveConnections.take(auth.sub);
    } catch (err) {
      this.sendError(toHeraldError(err));
      return socket.close(CLOSE.tryAgainLater, 'rate_limited');
    }
    if (socket.readyState !== OPEN) return this.release();

    // A bad `after` is told in an error frame after `ready`, and the replay starts from 0:
    // only auth and session errors close on connect.
    const query = request.query as WsQuery;
    let after = 0;
    let badAfter: HeraldError | undefined;
    if (query.after !== undefined && query.after !== '') {
      if (SEQ.test(query.after)) after = Number(query.after);
      else badAfter = invalidRequest('after', 'must be a seq (an integer >= 0); replaying from 0');
    }
    let session: Session;
    try {
      session = await herald.sessions.resolve(auth, query.sessionId || undefined);
    } catch (err) {
      const error = toHeraldError(err);
      this.sendError(error);
      // The store unreachable or the new-session limit reached: try again later (1013).
      const later = error.code === 'unavailable' || error.code === 'rate_limited';
      if (!error.closeCode) socket.close(later ? CLOSE.tryAgainLater : CLOSE.policyViolation, error.code);
      return;
    }
    if (socket.readyState !== OPEN) return;

    // The socket keeps the principal it opened with; an expiring JWT closes it (docs/protocol.md, section 2).
    this.principal = { sub: auth.sub, scopes: SOCKET_SCOPES, via: auth.via, expiresAt: auth.expiresAt };
    this.session = session;
    const channel = new WsChannel(socket, session.id, herald.config.wsMaxBufferedBytes, request.raw.socket);
    this.channel = channel;
    herald.metrics.connections.inc({ transport: 'ws' });
    herald.connections.add(this);
    if (auth.expiresAt !== undefined) this.armExpiry();
    let readySent = false;
    const sendReady = () => {
      if (readySent) return;
      readySent = true;
      channel.sendFrame(frame({ type: 'ready', sessionId: session.id, protocol: PROTOCOL_VERSION }));
      if (badAfter) this.sendError(badAfter);
    };
    if (herald.router) {
      try {
        // `ready` goes out once this instance hears the session's wake-ups, before the replay.
        const detach = await herald.router.attach(channel, after, sendReady);
        if (socket.readyState === OPEN) this.detach = detach;
        else detach();
      } catch (err) {
        this.sockets.log.error({ err, reqId: this.reqId }, 'agent message replay failed');
      } finally {
        sendReady();
      }
    } else sendReady();
    // Frames sent before the replay finished are handled now, in the order they came.
    const early = this.early ?? [];
    this.early = undefined;
    for (const data of early) this.handle(data);
  }

  /** Shutdown: frames held for a slow reader (a finished reply, say) get a moment to go out. */
  async close(code: number, reason: string): Promise<void> {
    await this.channel?.drained(1_000);
    this.socket.close(code, reason);
  }

  /** The socket closed. */
  closed(): void {
    this.sockets.remove(this.socket);
    this.release?.();
    clearTimeout(this.expiry);
    this.abort?.abort();
    for (const [reply, reader] of this.reading) reply.detach(reader);
    this.reading.clear();
    for (const reading of this.readingElsewhere) reading.close();
    this.readingElsewhere.clear();
    this.detach?.();
    if (!this.channel) return;
    const { herald } = this.sockets;
    herald.connections.delete(this);
    herald.metrics.connections.dec({ transport: 'ws' });
  }

  // Expiry ------------------------------------------------------------------------------------

  private armExpiry(): void {
    const left = this.principal.expiresAt! - Date.now();
    if (left <= 0) {
      this.sendError(new HeraldError('unauthorized', 'The token expired.'));
      return;
    }
    // setTimeout holds at most 2^31-1 ms (24.8 days); longer tokens check again when it fires.
    this.expiry = setTimeout(ChatConnection.expire, Math.min(left, MAX_TIMER_MS), this);
    this.expiry.unref();
  }

  private static expire(connection: ChatConnection): void {
    connection.armExpiry();
  }

  // Dispatch ----------------------------------------------------------------------------------

  receive(data: WebSocket.RawData | typeof BINARY): void {
    if (this.early) this.early.push(data);
    else this.handle(data);
  }

  private handle(data: WebSocket.RawData | typeof BINARY): void {
    if (data === BINARY) {
      this.socket.close(CLOSE.unsupportedData, 'binary frames are not supported');
      return;
    }
    let parsed: ClientFrame;
    try {
      parsed = parseClientFrame(data.toString());
    } catch (err) {
      this.sendError(toHeraldError(err));
      return;
    }
    // ack, resume and ping run in order on their own chain, so a pong also says that every
    // ack and resume sent before it is done; chats have their own chain and never block them.
    const { router } = this.sockets.herald;
    switch (parsed.type) {
      case 'ping':
        this.control = this.control.then(() => this.send(PONG));
        return;
      case 'ack': {
        const ids = parsed.ids;
        this.control = this.control
          .then(() => router?.ack(this.session.id, ids))
          .catch((err) => this.sendError(toHeraldError(err)));
        return;
      }
      case 'resume': {
        const after = parsed.after;
        this.control = this.control
          .then(() => this.channel && router?.resume(this.channel, after))
          .catch((err) => this.sendError(toHeraldError(err)));
        return;
      }
      case 'chat': {
        const chat = parsed;
        this.chats = this.chats.then(() => this.runChat(chat));
        return;
      }
      case 'resume_reply': {
        const { replyTo, offset } = parsed;
        this.control = this.control
          .then(() => this.resumeReply(replyTo, offset))
          .catch((err) => this.sendError(toHeraldError(err), replyTo));
        return;
      }
      case 'stop': {
        const { replyTo } = parsed;
        const key = keyOf(this.principal.sub, this.session.id, replyTo);
        // Made here, or (on Redis) a resumable reply made on another instance.
        const { replies } = this.sockets.herald;
        this.control = this.control
          .then(async () => {
            const own = this.sockets.inflight.get(key);
            if (own) own.abort();
            else await replies?.stop(this.session.id, nameOf(replyTo));
          })
          .catch((err) => this.sendError(toHeraldError(err)));
        return;
      }
    }
  }

  /** A reader of a kept reply on this socket: chunks, then complete or the error frame. */
  private readerFor(replyTo: string): KeptReader {
    const channel = this.channel!;
    return {
      part: (text) => channel.sendChunk(text, replyTo),
      // The last part is the error frame that ended the reply (endOf), or empty: complete.
      end: (last) =>
        channel.sendFrame(
          last === '' ? frame({ type: 'complete', replyTo }) : frame({ ...JSON.parse(last), replyTo }),
        ),
    };
  }

  /** The rest of a kept reply from `offset`, or `not_found` naming `replyTo`. */
  private async resumeReply(replyTo: string, offset: number): Promise<void> {
    if (!this.channel) return;
    const reply = this.sockets.replies.get(keyOf(this.principal.sub, this.session.id, replyTo));
    const reader = this.readerFor(replyTo);
    if (reply?.attach(reader, offset)) {
      this.reading.set(reply, reader);
      return;
    }
    // Made on another instance (Redis), or nowhere.
    const { replies } = this.sockets.herald;
    let elsewhere: { close(): void } | undefined;
    let finished = false;
    const over = () => {
      finished = true;
      if (elsewhere) this.readingElsewhere.delete(elsewhere);
    };
    elsewhere =
      reply === undefined && replies
        ? await replies.read(this.session.id, nameOf(replyTo), offset, {
            part: reader.part,
            end: (last) => {
              over();
              reader.end(last);
            },
            // No longer kept, or its maker went away: the client has what it has.
            gone: () => {
              over();
              this.sendError(notKept(), replyTo);
            },
          })
        : undefined;
    if (!elsewhere) {
      this.sendError(notKept(), replyTo);
      return;
    }
    if (this.socket.readyState !== OPEN) elsewhere.close();
    else if (!finished) this.readingElsewhere.add(elsewhere);
  }

  private async runChat(f: Extract<ClientFrame, { type: 'chat' }>): Promise<void> {
    const channel = this.channel;
    if (this.socket.readyState !== OPEN || !channel) return;
    this.abort ??= new AbortController();
    // A chat with an id can be stopped; a resumable one also outlives the socket (kept-replies.ts).
    const key = f.id === undefined ? undefined : keyOf(this.principal.sub, this.session.id, f.id);
    const own = key === undefined ? undefined : new AbortController();
    const { replies } = this.sockets.herald;
    const kept =
      f.resumable && key
        ? this.sockets.replies.start(
            key,
            () => own!.abort(),
            () =>
              replies?.open(
                this.session.id,
                nameOf(f.id!),
                { stop: () => own!.abort(), touch: () => kept?.touch() },
                { keepEnded: true },
              ),
          )
        : undefined;
    if (kept) {
      const reader = this.readerFor(f.id!);
      kept.attach(reader, 0);
      this.reading.set(kept, reader);
    }
    // Without a kept reply, the chat also stops with the socket.
    const signal = !own
      ? this.abort.signal
      : kept
        ? own.signal
        : AbortSignal.any([own.signal, this.abort.signal]);
    if (key) this.sockets.inflight.set(key, own!);
    try {
      const result = await this.sockets.herald.chat.handle(
        {
          principal: this.principal,
          session: this.session,
          transport: 'ws',
          message: f.message,
          messageId: f.id,
          signal,
        },
        {
          typing: (on) => channel.sendFrame(on ? TYPING_ON : TYPING_OFF),
          chunk: (content, replyTo) => (kept ? kept.append(content) : channel.sendChunk(content, replyTo)),
        },
      );
      if (kept) kept.finish(endOf(undefined));
      else channel.sendFrame(frame({ type: 'complete', replyTo: result.messageId }));
    } catch (err) {
      const error = err instanceof ChatFailure ? err.error : toHeraldError(err);
      if (error.code === 'internal')
        this.sockets.log.error({ err, reqId: this.reqId }, 'websocket chat failed');
      if (kept) kept.finish(endOf(error));
      else this.sendError(error, f.id);
    } finally {
      if (key && this.sockets.inflight.get(key) === own) this.sockets.inflight.delete(key);
    }
  }

  private send(data: string): void {
    if (this.channel) this.channel.sendFrame(data);
    else if (this.socket.readyState === OPEN) this.socket.send(data);
  }

  private sendError(error: HeraldError, replyTo?: string): void {
    if (this.socket.readyState !== OPEN) return;
    const data = frame({ ...error.toFrame(), ...(replyTo !== undefined && { replyTo }) });
    if (error.closeCode) {
      // An error that ends the connection goes out at once, ahead of anything still held
      // (a chunk being merged is not held: it goes first, as it would have unmerged).
      this.channel?.flushChunk();
      this.socket.send(data);
      this.socket.close(error.closeCode, error.code);
    } else this.send(data);
  }
}
