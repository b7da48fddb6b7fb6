/**
 * `herald/client`: Herald's client for browsers and Node 20 (docs/clients.md). It keeps the
 * protocol's promises on the application's side: agent messages are acked (batched) once handed
 * to the application, repeats are dropped by id (across reconnects and reloads, through a
 * storage), a dropped socket is reopened with full-jitter backoff and resumes after the last seq
 * seen, and without WebSocket it chats over HTTP and polls.
 *
 * Types only come from the protocol module, so the bundle holds no dependency: WebSocket and
 * fetch are the platform's, or injected (`ws` in Node 20).
 */
import type {
  AgentMessage,
  ErrorCode,
  ListResponse,
  ServerFrame,
  TimelineResponse,
} from '../protocol/index.js';
import { ClientState, defaultStorage, type HeraldStorage } from './storage.js';

/** The connection's state, as a string. */
export const ConnectionState = {
  /** Not started, or stopped by `close()`. */
  Idle: 'idle',
  /** Opening the first connection. */
  Connecting: 'connecting',
  /** WebSocket open and `ready` received. */
  Connected: 'connected',
  /** Chatting over HTTP and polling (no WebSocket). */
  Polling: 'polling',
  /** Lost; the next try is scheduled. */
  Reconnecting: 'reconnecting',
  /** Stopped for good by the server (credentials refused, session unknown). */
  Failed: 'failed',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** The client's own error codes besides the protocol's. */
export type ClientErrorCode = ErrorCode | 'interrupted' | 'closed' | 'network';

export class HeraldClientError extends Error {
  override name = 'HeraldClientError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly extra: { replyTo?: string; retryAfter?: number; fields?: string[]; partial?: string } = {},
  ) {
    super(message);
  }
}

/** The whole reply to one message. */
export interface Reply {
  /** The message id it answers. */
  replyTo: string;
  text: string;
  sessionId: string;
}

export interface HeraldEvents {
  agentMessage: AgentMessage;
  chunk: { replyTo: string; content: string };
  reply: Reply;
  error: HeraldClientError;
  state: ConnectionState;
  /** A reply is being made (true) or done (false). */
  typing: boolean;
}

/** The WebSocket the client needs: the platform's, or `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => WebSocketLike;

export type HeraldAuth =
  /** An API key (`HERALD_API_KEYS`). */
  | { apiKey: string }
  /** A JWT, or a function giving a fresh one (asked before each connection). */
  | { jwt: string | (() => string | Promise<string>) }
  /** A WebSocket ticket made elsewhere (the application's backend), one per connection. */
  | { ticket: () => string | Promise<string> };

export interface HeraldClientOptions {
  /** Herald's base URL, `https://herald.example.com` (a path prefix is kept). */
  url: string;
  /** None in open development mode. */
  auth?: HeraldAuth;
  /** The session to continue; else the stored one; else a new one. */
  sessionId?: string;
  /** Defaults to `globalThis.WebSocket`; pass `ws` in Node 20. None: HTTP only. */
  WebSocket?: WebSocketConstructor;
  /** Defaults to `globalThis.fetch`. */
  fetch?: typeof fetch;
  /**
   * Send the credential as an Authorization header on the WebSocket upgrade (only `ws` in Node
   * can); otherwise a ticket is fetched from `POST /api/ws-ticket` for each connection.
   */
  webSocketHeaders?: boolean;
  /** `auto` (WebSocket, HTTP when it is missing or never opens), `websocket` or `http`. */
  transport?: 'auto' | 'websocket' | 'http';
  /** Defaults to localStorage in browsers, memory elsewhere. */
  storage?: HeraldStorage;
  /** The storage key (one per client sharing a storage). Default `herald`. */
  storageKey?: string;
  /** Agent message ids remembered to drop repeats (default 1,000; oldest forgotten first). */
  maxSeenIds?: number;
  /** Acks wait this long to go out together (default 50 ms). */
  ackDelayMs?: number;
  /** Backoff: first ceiling and largest ceiling in ms (defaults 500 and 30,000). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Under `auto`, connection attempts that never open before falling back to HTTP (default 3). */
  fallbackAfter?: number;
  /** HTTP mode: ms between polls for agent messages (default 2,000). */
  pollIntervalMs?: number;
  /**
   * WebSocket: a `ping` after this long without a frame, and the socket counted dead (closed and
   * reopened) when nothing came for twice as long (default 25,000; 0: never).
   */
  pingIntervalMs?: number;
  /** Random numbers in [0, 1) for the backoff (tests). */
  random?: () => number;
}

type Listener<K extends keyof HeraldEvents> = (value: HeraldEvents[K]) => void;

interface PendingReply {
  id: string;
  message: string;
  text: string;
  sent: boolean;
  /** Its socket closed before the reply was whole: resume it on the next one. */
  cut?: boolean;
  resolve: (reply: Reply) => void;
  reject: (err: HeraldClientError) => void;
}

const OPEN = 1;
const ACK_BATCH = 1000;
/** Close codes after which trying again cannot help (docs/protocol.md, section 5: 1008). */
const CLOSE_POLICY = 1008;

let counter = 0;
const newMessageId = () =>
  `m_${Date.now().toString(36)}${Math.floor(Math.random() * 2 ** 32).toString(36)}${(counter++).toString(36)}`;

/** Full jitter: a random delay between 0 and min(max, base × 2^attempt). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

export class HeraldClient {
  private readonly base: string;
  private readonly opts: HeraldClientOptions;
  private readonly fetchFn: typeof fetch;
  private readonly WS: WebSocketConstructor | undefined;
  private readonly state: ClientState;
  private readonly listeners = new Map<keyof HeraldEvents, Set<(value: never) => void>>();
  private socket: WebSocketLike | undefined;
  private current: ConnectionState = ConnectionState.Idle;
  private attempt = 0;
  private failedOpens = 0;
  private everOpened = false;
  private mode: 'websocket' | 'http';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = 0;
  private readonly acks = new Set<string>();
  /** Replies asked for, in the order sent (the server answers one at a time, in order). */
  private readonly replies: PendingReply[] = [];
  private stopped = true;
  /** Aborts the replies read over HTTP when the client closes. */
  private reads = new AbortController();
  private readyWaiters: Array<() => void> = [];

  constructor(options: HeraldClientOptions) {
    this.opts = options;
    this.base = options.url.replace(/\/+$/, '');
    const f = options.fetch ?? globalThis.fetch;
    this.fetchFn = f ? f.bind(globalThis) : ((() => Promise.reject(new Error('no fetch'))) as typeof fetch);
    this.WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.mode = options.transport === 'http' || !this.WS ? 'http' : 'websocket';
    this.state = new ClientState(
      options.storage ?? defaultStorage(),
      options.storageKey ?? 'herald',
      options.maxSeenIds ?? 1000,
    );
    if (options.sessionId) this.state.setSession(options.sessionId);
  }

  /** The session in use (after the first `ready` or chat answer). */
  get sessionId(): string | undefined {
    return this.state.sessionId;
  }

  /** The highest seq handed to the application. */
  get lastSeq(): number {
    return this.state.lastSeq;
  }

  get connectionState(): ConnectionState {
    return this.current;
  }

  /** `websocket` or `http` (after a fallback). */
  get transport(): 'websocket' | 'http' {
    return this.mode;
  }

  on<K extends keyof HeraldEvents>(event: K, fn: Listener<K>): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(fn);
    return () => void set.delete(fn);
  }

  private emit<K extends keyof HeraldEvents>(event: K, value: HeraldEvents[K]): void {
    for (const fn of (this.listeners.get(event) ?? []) as Set<Listener<K>>) {
      try {
        fn(value);
      } catch (err) {
        // An application's listener must not break delivery; report it asynchronously.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }

  private setState(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    this.emit('state', state);
  }

  /** Starts connecting; resolves once connected (or polling). */
  connect(): Promise<void> {
    if (this.stopped) {
      this.stopped = false;
      this.setState(ConnectionState.Connecting);
      if (this.mode === 'http') this.startPolling();
      else void this.open();
    }
    return this.whenReady();
  }

  private whenReady(): Promise<void> {
    if (this.current === ConnectionState.Connected || this.current === ConnectionState.Polling)
      return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private becameReady(state: ConnectionState): void {
    this.setState(state);
    for (const w of this.readyWaiters.splice(0)) w();
  }

  /** Stops: the socket closes, timers stop, replies in flight are rejected. Acks go out first. */
  close(): void {
    if (this.stopped) return;
    this.flushAcks();
    this.stopped = true;
    this.reads.abort();
    this.reads = new AbortController();
    clearTimeout(this.timer);
    clearTimeout(this.pollTimer);
    clearTimeout(this.ackTimer);
    clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, 'client closed');
    }
    for (const r of this.replies.splice(0))
      r.reject(new HeraldClientError('closed', 'The client was closed.'));
    this.setState(ConnectionState.Idle);
  }

  /** Forgets the stored session, seq and seen ids (a "new chat"). Call while closed. */
  forgetSession(): void {
    this.state.clear();
  }

  /** Sends a chat message; resolves with the whole reply. */
  send(message: string, options: { id?: string } = {}): Promise<Reply> {
    const id = options.id ?? newMessageId();
    return new Promise<Reply>((resolve, reject) => {
      const pending: PendingReply = { id, message, text: '', sent: false, resolve, reject };
      this.replies.push(pending);
      if (this.mode === 'http') void this.chatOverHttp(pending);
      else this.sendQueued();
    });
  }

  // ---- WebSocket ---------------------------------------------------------------------------

  private headers(token: string | undefined): Record<string, string> {
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  private async bearer(): Promise<string | undefined> {
    const auth = this.opts.auth;
    if (!auth) return undefined;
    if ('apiKey' in auth) return auth.apiKey;
    if ('jwt' in auth) return typeof auth.jwt === 'function' ? await auth.jwt() : auth.jwt;
    return undefined;
  }

  private async wsUrl(): Promise<{ url: string; headers?: Record<string, string> }> {
    const url = new URL(`${this.base}/ws/chat`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.state.sessionId) url.searchParams.set('sessionId', this.state.sessionId);
    if (this.state.lastSeq > 0) url.searchParams.set('after', String(this.state.lastSeq));
    const auth = this.opts.auth;
    if (auth && 'ticket' in auth) {
      url.searchParams.set('ticket', await auth.ticket());
      return { url: url.href };
    }
    const token = await this.bearer();
    if (!token) return { url: url.href };
    if (this.opts.webSocketHeaders) return { url: url.href, headers: this.headers(token) };
    const res = await this.fetchFn(`${this.base}/api/ws-ticket`, {
      method: 'POST',
      headers: this.headers(token),
    });
    if (!res.ok) throw await this.httpError(res);
    url.searchParams.set('ticket', ((await res.json()) as { ticket: string }).ticket);
    return { url: url.href };
  }

  private async open(): Promise<void> {
    if (this.stopped || !this.WS) return;
    let target: { url: string; headers?: Record<string, string> };
    try {
      target = await this.wsUrl();
    } catch (err) {
      const e = toClientError(err);
      this.emit('error', e);
      if (e.code === 'unauthorized' || e.code === 'forbidden') return this.fail();
      return this.scheduleReconnect(false);
    }
    if (this.stopped) return;
    let socket: WebSocketLike;
    try {
      socket = target.headers
        ? new this.WS(target.url, [], { headers: target.headers })
        : new this.WS(target.url);
    } catch (err) {
      this.emit('error', toClientError(err));
      return this.scheduleReconnect(false);
    }
    this.socket = socket;
    let opened = false;
    let policyError: HeraldClientError | undefined;
    socket.onopen = () => {
      opened = true;
    };
    socket.onerror = () => {};
    socket.onmessage = (ev) => {
      this.lastFrameAt = Date.now();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(
          typeof ev.data === 'string' ? ev.data : new TextDecoder().decode(ev.data as ArrayBuffer),
        );
      } catch {
        return;
      }
      if (
        frame.type === 'error' &&
        !frame.replyTo &&
        (frame.code === 'unauthorized' || frame.code === 'forbidden' || frame.code === 'session_not_found')
      )
        policyError = new HeraldClientError(frame.code, frame.error);
      this.onFrame(frame);
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      clearInterval(this.pingTimer);
      this.emit('typing', false);
      // Replies in flight go on at the server: the next socket asks for the rest (onFrame, ready).
      for (const r of this.replies) if (r.sent) r.cut = true;
      if (this.stopped) return;
      if (ev.code === CLOSE_POLICY) {
        if (policyError?.code === 'session_not_found') {
          // The session is gone (erased or expired): start a new one.
          this.state.clear();
          this.interruptReplies();
          return this.scheduleReconnect(opened);
        }
        // A ticket is single-use and a JWT may expire: one more try with fresh credentials.
        if (opened && this.opts.auth && !('apiKey' in this.opts.auth) && this.attempt === 0)
          return this.scheduleReconnect(true);
        return this.fail();
      }
      this.scheduleReconnect(opened);
    };
  }

  /** Keepalive: a ping when quiet; a socket silent for two intervals is closed and reopened. */
  private startPing(): void {
    clearInterval(this.pingTimer);
    const every = this.opts.pingIntervalMs ?? 25_000;
    if (every <= 0) return;
    const socket = this.socket;
    this.lastFrameAt = Date.now();
    this.pingTimer = setInterval(
      () => {
        if (this.socket !== socket || !socket) return clearInterval(this.pingTimer);
        const quiet = Date.now() - this.lastFrameAt;
        if (quiet > 2 * every) {
          // A dead peer may take minutes to fire close: give up on it now.
          const onclose = socket.onclose;
          socket.onclose = null;
          socket.close(4000, 'no answer');
          onclose?.({ code: 4000, reason: 'no answer' });
        } else if (quiet >= every) socket.send('{"type":"ping"}');
      },
      Math.max(1, Math.floor(every / 2)),
    );
  }

  private fail(): void {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    for (const r of this.replies.splice(0))
      r.reject(new HeraldClientError('closed', 'The connection was refused for good.'));
    this.setState(ConnectionState.Failed);
  }

  private scheduleReconnect(opened: boolean): void {
    if (opened) this.failedOpens = 0;
    else if (!this.everOpened) this.failedOpens++;
    if (
      !this.everOpened &&
      (this.opts.transport ?? 'auto') === 'auto' &&
      this.failedOpens >= (this.opts.fallbackAfter ?? 3)
    ) {
      this.mode = 'http';
      this.interruptReplies();
      this.startPolling();
      for (const r of this.replies) if (!r.sent) void this.chatOverHttp(r);
      return;
    }
    this.setState(ConnectionState.Reconnecting);
    const { baseMs = 500, maxMs = 30_000 } = this.opts.backoff ?? {};
    const delay = backoffDelay(this.attempt++, baseMs, maxMs, this.opts.random ?? Math.random);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.open(), delay);
  }

  /** Replies sent over a WebSocket that can no longer be resumed (a fall back to HTTP). */
  private interruptReplies(): void {
    const sent = this.replies.filter((r) => r.sent);
    for (const r of sent) {
      this.replies.splice(this.replies.indexOf(r), 1);
      r.reject(
        new HeraldClientError('interrupted', 'The connection dropped before the reply was whole.', {
          replyTo: r.id,
          partial: r.text,
        }),
      );
    }
  }

  private sendQueued(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN || this.current !== ConnectionState.Connected) return;
    for (const r of this.replies) {
      if (r.sent) continue;
      r.sent = true;
      socket.send(JSON.stringify({ type: 'chat', id: r.id, message: r.message, resumable: true }));
    }
  }

  /** After a reconnect: the rest of every reply still in flight, from what was received. */
  private resumeReplies(): void {
    const socket = this.socket;
    if (!socket) return;
    for (const r of this.replies) {
      if (!r.sent || !r.cut) continue;
      r.cut = false;
      socket.send(JSON.stringify({ type: 'resume_reply', replyTo: r.id, offset: r.text.length }));
    }
  }

  /**
   * Follows a reply sent earlier (by a page before its reload, say) that may still be in flight:
   * the chunks past `text` (what the application has of it) arrive as events, and the promise
   * resolves with the whole reply, or rejects with `interrupted` when Herald no longer has it.
   */
  resume(replyTo: string, text = ''): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const pending: PendingReply = {
        id: replyTo,
        message: '',
        text,
        sent: true,
        cut: true,
        resolve,
        reject,
      };
      this.replies.push(pending);
      if (this.mode === 'http') void this.chatOverHttp(pending, true);
      else if (this.current === ConnectionState.Connected) this.resumeReplies();
    });
  }

  /** Stops the reply to `replyTo`: send() then resolves with the partial text. */
  stop(replyTo: string): void {
    const socket = this.socket;
    if (this.mode === 'http') void this.raw('POST', `${streamPath(replyTo)}/stop`).catch(() => {});
    else if (socket && socket.readyState === OPEN) socket.send(JSON.stringify({ type: 'stop', replyTo }));
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'ready':
        this.state.setSession(frame.sessionId);
        this.startPing();
        this.attempt = 0;
        this.everOpened = true;
        this.becameReady(ConnectionState.Connected);
        this.flushAcks();
        this.resumeReplies();
        this.sendQueued();
        break;
      case 'typing':
        this.emit('typing', frame.status);
        break;
      case 'agent_message':
        this.deliver(frame.message);
        break;
      case 'chunk': {
        const r = this.replies.find((p) => p.id === frame.replyTo);
        if (r) r.text += frame.content;
        this.emit('chunk', { replyTo: frame.replyTo, content: frame.content });
        break;
      }
      case 'complete': {
        const at = this.replies.findIndex((p) => p.id === frame.replyTo);
        const r = at >= 0 ? this.replies.splice(at, 1)[0] : undefined;
        const reply: Reply = {
          replyTo: frame.replyTo,
          text: r?.text ?? '',
          sessionId: this.state.sessionId ?? '',
        };
        this.emit('reply', reply);
        r?.resolve(reply);
        break;
      }
      case 'error': {
        const err = new HeraldClientError(frame.code, frame.error, {
          replyTo: frame.replyTo,
          retryAfter: frame.retryAfter,
          fields: frame.fields,
        });
        const at = frame.replyTo ? this.replies.findIndex((p) => p.id === frame.replyTo) : -1;
        this.emit('error', err);
        if (at >= 0) {
          const [r] = this.replies.splice(at, 1);
          err.extra.partial = r!.text;
          // The reply could not be resumed (it ended too long ago, or the server restarted).
          if (frame.code === 'not_found' && frame.fields?.includes('replyTo'))
            r!.reject(
              new HeraldClientError('interrupted', 'The reply was cut and could not be resumed.', {
                replyTo: r!.id,
                partial: r!.text,
              }),
            );
          else r!.reject(err);
        }
        break;
      }
      default:
        break;
    }
  }

  // ---- Delivery: repeats dropped, acks batched ----------------------------------------------

  private deliver(message: AgentMessage): void {
    const fresh = this.state.markSeen(message.id);
    if (message.seq > this.state.lastSeq && fresh) this.state.lastSeq = message.seq;
    if (fresh) {
      // Saved before the application sees it: after a reload it is a repeat.
      this.state.save();
      this.emit('agentMessage', message);
    }
    // A repeat means the server has not had our ack: ack it again.
    if (message.deliveryGuarantee !== 'best-effort') this.queueAck(message.id);
  }

  private queueAck(id: string): void {
    this.acks.add(id);
    if (this.acks.size >= ACK_BATCH) {
      this.flushAcks();
      return;
    }
    this.ackTimer ??= setTimeout(() => this.flushAcks(), this.opts.ackDelayMs ?? 50);
  }

  private flushAcks(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.acks.size === 0) return;
    const ids = [...this.acks].slice(0, ACK_BATCH);
    if (this.mode === 'websocket') {
      const socket = this.socket;
      // Not connected: they go out after the next `ready`.
      if (!socket || socket.readyState !== OPEN || this.current !== ConnectionState.Connected) return;
      socket.send(JSON.stringify({ type: 'ack', ids }));
      for (const id of ids) this.acks.delete(id);
    } else {
      const sessionId = this.state.sessionId;
      if (!sessionId) return;
      for (const id of ids) this.acks.delete(id);
      void this.request('POST', '/api/agent-messages/ack', { sessionId, ids }).catch(() => {
        // Kept for the next try: the server sends the message again until acked.
        for (const id of ids) this.acks.add(id);
      });
    }
    if (this.acks.size > 0) this.queueAck([...this.acks][0]!);
  }

  // ---- HTTP fallback ------------------------------------------------------------------------

  /** A call; an answer that is not 2xx throws the error it carries. */
  private async raw(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = this.headers(await this.bearer());
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      throw toClientError(err);
    }
    if (!res.ok) throw await this.httpError(res);
    return res;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.raw(method, path, body)).json()) as T;
  }

  private async httpError(res: Response): Promise<HeraldClientError> {
    let body: {
      code?: ErrorCode;
      error?: string;
      fields?: string[];
      retryAfter?: number;
      sessionId?: string;
      agent_messages?: AgentMessage[];
    } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {}
    // A chat accepted and then failed still names its session and carries the agent messages.
    if (typeof body.sessionId === 'string') this.state.setSession(body.sessionId);
    for (const m of body.agent_messages ?? []) this.deliver(m);
    return new HeraldClientError(body.code ?? 'internal', body.error ?? `HTTP ${res.status}`, {
      fields: body.fields,
      retryAfter: body.retryAfter,
    });
  }

  /**
   * Reads a UI message stream into the reply: parts from its start, the text past what `r` has
   * (a resumed stream starts over). True when it ended (`[DONE]`), false when it broke off;
   * throws the error part's error.
   */
  private async readStream(r: PendingReply, res: Response): Promise<boolean> {
    let skip = r.text.length;
    let buffer = '';
    const decoder = new TextDecoder();
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        buffer += decoder.decode(value, { stream: true });
        const events = buffer.split('\n\n');
        buffer = events.pop()!;
        for (const event of events) {
          if (!event.startsWith('data: ')) continue;
          const data = event.slice(6);
          if (data === '[DONE]') return true;
          const part = JSON.parse(data);
          if (part.type === 'start') this.state.setSession(part.messageMetadata.sessionId);
          else if (part.type === 'data-agent-message') this.deliver(part.data);
          else if (part.type === 'error') {
            const [code, ...why] = String(part.errorText).split(': ');
            throw new HeraldClientError(code as ErrorCode, why.join(': '), {
              replyTo: r.id,
              partial: r.text,
            });
          } else if (part.type === 'text-delta') {
            const content = String(part.delta).slice(skip);
            skip = Math.max(0, skip - part.delta.length);
            if (content === '') continue;
            r.text += content;
            this.emit('chunk', { replyTo: r.id, content });
          }
        }
        this.flushAcks();
      }
    } catch (err) {
      if (err instanceof HeraldClientError) throw err;
      return false;
    } finally {
      this.flushAcks();
    }
  }

  private timeline(): Promise<TimelineResponse> {
    return this.request('GET', `/api/sessions/${encodeURIComponent(this.state.sessionId ?? '')}/messages`);
  }

  /** A reply that ended while its stream was cut, from the timeline: true when whole there, else throws `cut`. */
  private fromTimeline(r: PendingReply, timeline: TimelineResponse, cut: HeraldClientError): boolean {
    const entry = timeline.messages.findLast((m) => m.kind === 'reply' && m.replyTo === r.id);
    if (entry?.kind !== 'reply' || entry.incomplete || !entry.text.startsWith(r.text)) throw cut;
    const content = entry.text.slice(r.text.length);
    r.text = entry.text;
    if (content !== '') this.emit('chunk', { replyTo: r.id, content });
    return true;
  }

  private startPolling(): void {
    clearTimeout(this.timer);
    this.becameReady(ConnectionState.Polling);
    const poll = async () => {
      if (this.stopped || this.mode !== 'http') return;
      const sessionId = this.state.sessionId;
      if (sessionId) {
        try {
          const q = `sessionId=${encodeURIComponent(sessionId)}&after=${this.state.lastSeq}`;
          const page = await this.request<ListResponse>('GET', `/api/agent-messages?${q}`);
          for (const m of page.messages) this.deliver(m);
          this.flushAcks();
        } catch (err) {
          this.emit('error', toClientError(err));
        }
      }
      if (!this.stopped) this.pollTimer = setTimeout(poll, this.opts.pollIntervalMs ?? 2000);
    };
    void poll();
  }

  /**
   * A chat over HTTP: `POST /api/chat/stream` with the message id as the AI SDK chat id, so the
   * reply is kept past a cut; a stream that breaks off is resumed by the chat's resume GET (its
   * text from the length already received), or, when the reply ended meanwhile, read from the
   * session's timeline.
   */
  private async chatOverHttp(r: PendingReply, resume = false): Promise<void> {
    r.sent = true;
    const ack = resume ? [] : [...this.acks].slice(0, ACK_BATCH);
    for (const id of ack) this.acks.delete(id);
    const body: Record<string, unknown> = {
      id: r.id,
      messages: [{ id: r.id, role: 'user', parts: [{ type: 'text', text: r.message }] }],
    };
    if (this.state.sessionId) body.sessionId = this.state.sessionId;
    if (ack.length > 0) body.ack = ack;
    const remove = () => {
      const at = this.replies.indexOf(r);
      if (at >= 0) this.replies.splice(at, 1);
    };
    try {
      let whole =
        !resume &&
        (await this.readStream(r, await this.raw('POST', '/api/chat/stream', body, this.reads.signal)));
      for (let attempt = 0; !whole; attempt++) {
        const cut = new HeraldClientError(
          'interrupted',
          'The connection dropped before the reply was whole.',
          {
            replyTo: r.id,
            partial: r.text,
          },
        );
        if (this.stopped || attempt >= 5) throw cut;
        const { baseMs = 500, maxMs = 30_000 } = this.opts.backoff ?? {};
        await new Promise((ok) =>
          setTimeout(ok, backoffDelay(attempt, baseMs, maxMs, this.opts.random ?? Math.random)),
        );
        try {
          const res = await this.raw('GET', `${streamPath(r.id)}/stream`, undefined, this.reads.signal);
          whole =
            res.status === 204
              ? this.fromTimeline(r, await this.timeline(), cut)
              : await this.readStream(r, res);
        } catch (err) {
          if (err === cut || (err as HeraldClientError).code !== 'network') throw err;
        }
      }
      remove();
      const reply: Reply = { replyTo: r.id, text: r.text, sessionId: this.state.sessionId ?? '' };
      this.emit('reply', reply);
      r.resolve(reply);
    } catch (err) {
      for (const id of ack) this.acks.add(id);
      remove();
      const e = toClientError(err);
      e.extra.replyTo = r.id;
      // After close() the reply was already rejected as closed.
      if (!this.stopped) this.emit('error', e);
      r.reject(e);
    }
  }
}

/** The AI SDK chat routes of a reply sent over HTTP (its message id is its chat id). */
const streamPath = (id: string) => `/api/chat/stream/${encodeURIComponent(id)}`;

function toClientError(err: unknown): HeraldClientError {
  if (err instanceof HeraldClientError) return err;
  return new HeraldClientError('network', err instanceof Error ? err.message : String(err));
}
