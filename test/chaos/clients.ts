/**
 * The chaos test's client applications, one session each, of every kind a client of Herald can
 * be: a raw WebSocket client, an agent message stream (SSE) reader, a poller (`GET
 * /api/agent-messages` and acks), and the client SDK (`herald/client`) over WebSocket and over
 * HTTP. Each keeps what its application was handed, so the test can tell what was lost, repeated,
 * leaked or out of order. The raw clients drop repeats by id themselves, as docs/protocol.md asks
 * of a client; the SDK drops them before the application sees them, so an exactly-once message
 * the SDK hands over twice counts as surfaced twice.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { HeraldClient, memoryStorage, type WebSocketConstructor } from '../../src/client/index.js';

/** The port of an instance that is up (waits for one). */
export type Pick = () => Promise<number>;

export type Kind = 'ws' | 'sse' | 'poll' | 'sdk-ws' | 'sdk-http';
export const KINDS: readonly Kind[] = ['ws', 'sse', 'poll', 'sdk-ws', 'sdk-http'];

interface Received {
  id: string;
  seq: number;
  sessionId: string;
  deliveryGuarantee: string;
  expiresAt: string;
}

/**
 * A message handed over later than this after its `expiresAt` counts as an expired one shown.
 * Herald checks expiry when it sends; the slack covers the way here on a busy machine.
 */
const EXPIRY_SLACK_MS = 500;

interface Seen {
  seq: number;
  copies: number;
}

/** A poller's pause between empty polls, and anyone's before trying a refused call again. */
const PAUSE_MS = 20;
const pause = () => new Promise((resolve) => setTimeout(resolve, PAUSE_MS));

export abstract class ChaosClient {
  abstract readonly kind: Kind;
  sessionId: string | undefined;
  lastSeq = 0;
  readonly seen = new Map<string, Seen>();
  /** The seq of each message at its first sighting, in the order they came. */
  readonly order: number[] = [];
  leaked = 0;
  /** Exactly-once messages the application was handed more than once (the SDK's promise). */
  surfacedTwice = 0;
  /** Messages handed over after they expired (EXPIRY_SLACK_MS allowed for the way). */
  expiredShown = 0;
  cuts = 0;
  /** Of the cuts, those the server made. */
  serverCuts = 0;
  stopped = false;
  /** After a cut, the client stays away until this settles (the test lets some publishes pass). */
  protected away: Promise<void> = Promise.resolve();
  private readonly changed = new EventEmitter();

  constructor(
    readonly pick: Pick,
    readonly token: string,
  ) {}

  /** Has a session and is receiving. */
  abstract start(): Promise<void>;
  /**
   * Breaks its connection or call in flight, as a network would; it reconnects by itself once
   * `away` settles, so messages are published while it is gone. With `fromServer`, a WebSocket
   * client makes the server close it instead: it sends a binary frame, which Herald answers with
   * close 1003 (the other kinds have no such frame and are cut from here).
   */
  abstract cut(away: Promise<void>, fromServer: boolean): void;
  abstract stop(): void;

  protected get auth() {
    return { authorization: `Bearer ${this.token}` };
  }

  /** One message handed to the application; true the first time its id is seen. */
  protected receive(message: Received, dropsRepeats: boolean): boolean {
    if (message.sessionId !== this.sessionId) this.leaked++;
    if (Date.now() > Date.parse(message.expiresAt) + EXPIRY_SLACK_MS) this.expiredShown++;
    const known = this.seen.get(message.id);
    if (known) {
      known.copies++;
      if (!dropsRepeats && message.deliveryGuarantee === 'exactly-once') this.surfacedTwice++;
    } else {
      this.seen.set(message.id, { seq: message.seq, copies: 1 });
      this.order.push(message.seq);
    }
    this.lastSeq = Math.max(this.lastSeq, message.seq);
    this.changed.emit('seen');
    return !known;
  }

  /** Acks over HTTP; a failed ack leaves the message pending, which is the protocol's to handle. */
  protected async ackOverHttp(port: number, ids: string[]): Promise<void> {
    await fetch(`http://127.0.0.1:${port}/api/agent-messages/ack`, {
      method: 'POST',
      headers: { ...this.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: this.sessionId, ids }),
    })
      .then((r) => r.text())
      .catch(() => undefined);
  }

  /** A new session over `POST /api/chat`, from any instance that is up. */
  protected async newSession(): Promise<string> {
    for (;;) {
      const port = await this.pick();
      const res = await fetch(`http://127.0.0.1:${port}/api/chat`, {
        method: 'POST',
        headers: { ...this.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hi' }),
      }).catch(() => undefined);
      if (res?.status === 200) return ((await res.json()) as { sessionId: string }).sessionId;
      await res?.text();
      await pause();
    }
  }

  /** Resolves once every id is seen, or with those missing at the deadline. */
  async awaitAll(ids: string[], ms: number): Promise<string[]> {
    const missing = () => ids.filter((id) => !this.seen.has(id));
    if (missing().length === 0) return [];
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.changed.off('seen', check);
        resolve(missing());
      }, ms);
      const check = () => {
        if (missing().length > 0) return;
        clearTimeout(timer);
        this.changed.off('seen', check);
        resolve([]);
      };
      this.changed.on('seen', check);
    });
  }
}

/** A raw WebSocket client: reconnects after its last seq whenever its socket goes, acks each message. */
class WsApp extends ChaosClient {
  readonly kind = 'ws';
  socket: WebSocket | undefined;

  async start(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const port = await this.pick();
      const query = this.sessionId ? `?sessionId=${this.sessionId}&after=${this.lastSeq}` : '';
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/chat${query}`, { headers: this.auth });
      const ready = new Promise<boolean>((resolve) => {
        socket.on('message', (raw) => {
          const frame = JSON.parse(String(raw));
          if (frame.type === 'ready') {
            this.sessionId ??= frame.sessionId;
            resolve(true);
          } else if (frame.type === 'agent_message') {
            this.receive(frame.message, true);
            if (socket.readyState === WebSocket.OPEN)
              socket.send(JSON.stringify({ type: 'ack', ids: [frame.message.id] }));
          }
        });
        socket.once('close', () => resolve(false));
        socket.on('error', () => {});
      });
      this.socket = socket;
      if (await ready) {
        socket.once('close', () => void this.away.then(() => this.start()));
        return;
      }
    }
  }

  cut(away: Promise<void>, fromServer: boolean): void {
    this.cuts++;
    this.away = away;
    const socket = this.socket;
    if (fromServer && socket?.readyState === WebSocket.OPEN) {
      this.serverCuts++;
      socket.send(Buffer.from([0]));
    } else socket?.terminate();
  }

  stop(): void {
    this.stopped = true;
    this.socket?.terminate();
  }
}

/** A client over HTTP requests: a cut, or the end, aborts the request in flight. */
abstract class HttpApp extends ChaosClient {
  protected abort: AbortController | undefined;

  cut(away: Promise<void>): void {
    this.cuts++;
    this.away = away;
    this.abort?.abort();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  /**
   * Once back from any cut, a GET of `path` on an instance, abortable by the next cut. Undefined
   * (after a pause) when the instance answered anything but 200; a cut or a failed connection
   * throws, and `failed` then says whether to pause before the next try.
   */
  protected async get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ port: number; res: Response } | undefined> {
    await this.away;
    const port = await this.pick();
    const abort = new AbortController();
    this.abort = abort;
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      headers: { ...this.auth, ...headers },
      signal: abort.signal,
    });
    if (res.status === 200) return { port, res };
    await res.text();
    await pause();
    return undefined;
  }

  /** After a GET threw: a cut (the abort) goes straight back; anything else waits a little first. */
  protected async failed(): Promise<void> {
    if (!this.abort?.signal.aborted) await pause();
  }
}

/** Reads `GET /api/agent-messages/stream`, resuming with Last-Event-ID; acks each message over HTTP. */
class SseApp extends HttpApp {
  readonly kind = 'sse';

  async start(): Promise<void> {
    this.sessionId = await this.newSession();
    const opened = new Promise<void>((resolve) => void this.run(resolve));
    await opened;
  }

  private async run(opened: () => void): Promise<void> {
    while (!this.stopped) {
      try {
        const got = await this.get(`/api/agent-messages/stream?sessionId=${this.sessionId}`, {
          'last-event-id': String(this.lastSeq),
        });
        if (!got) continue;
        const { port, res } = got;
        opened();
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            this.event(port, buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        // Cut, or the instance went away: read again after the last seq.
        await this.failed();
      }
    }
  }

  private event(port: number, block: string): void {
    const lines = block.split('\n');
    if (!lines.includes('event: agent_message')) return;
    const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
    const message = JSON.parse(data.join('\n')) as Received;
    this.receive(message, true);
    void this.ackOverHttp(port, [message.id]);
  }
}

/** Polls `GET /api/agent-messages` after its last seq and acks what each page held. */
class PollApp extends HttpApp {
  readonly kind = 'poll';

  async start(): Promise<void> {
    this.sessionId = await this.newSession();
    void this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const got = await this.get(
          `/api/agent-messages?sessionId=${this.sessionId}&after=${this.lastSeq}&limit=100`,
        );
        if (!got) continue;
        const { port, res } = got;
        const { messages } = (await res.json()) as { messages: Received[] };
        for (const m of messages) this.receive(m, true);
        if (messages.length > 0)
          await this.ackOverHttp(
            port,
            messages.map((m) => m.id),
          );
        else await pause();
      } catch {
        await this.failed();
      }
    }
  }
}

/**
 * The client SDK on one instance (it has one URL), over WebSocket or over HTTP. What it hands the
 * application is counted as seen: it acks, drops repeats and resumes by itself.
 */
class SdkApp extends ChaosClient {
  private client: HeraldClient | undefined;
  private readonly sockets: WebSocket[] = [];

  constructor(
    pick: Pick,
    token: string,
    readonly kind: 'sdk-ws' | 'sdk-http',
  ) {
    super(pick, token);
  }

  async start(): Promise<void> {
    const sockets = this.sockets;
    // The SDK's sockets, so that the test can cut the one in use.
    class Tracked extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        sockets.push(this);
      }
    }
    const http = this.kind === 'sdk-http';
    // Over HTTP the SDK makes its session with its first chat; this application has none to send.
    const sessionId = http ? await this.newSession() : undefined;
    const port = await this.pick();
    const client = new HeraldClient({
      url: `http://127.0.0.1:${port}`,
      auth: { apiKey: this.token },
      WebSocket: Tracked as unknown as WebSocketConstructor,
      webSocketHeaders: true,
      transport: http ? 'http' : 'websocket',
      storage: memoryStorage(),
      ...(sessionId && { sessionId }),
      backoff: { baseMs: 20, maxMs: 200 },
      // Longer than the chaos servers' ack timeout (250 ms, then 500): repeats come, and must not surface.
      ackDelayMs: 1000,
      pollIntervalMs: 50,
    });
    this.client = client;
    client.on('agentMessage', (m) => this.receive(m, false));
    client.on('error', () => {});
    await client.connect();
    this.sessionId = client.sessionId;
  }

  /** The SDK comes back with its own backoff (20 to 200 ms here), whatever `away` says. */
  cut(_away: Promise<void>, fromServer: boolean): void {
    const socket = this.sockets.at(-1);
    if (this.kind !== 'sdk-ws' || !socket) return;
    this.cuts++;
    if (fromServer && socket.readyState === WebSocket.OPEN) {
      this.serverCuts++;
      socket.send(Buffer.from([0]));
    } else socket.terminate();
  }

  stop(): void {
    this.stopped = true;
    this.client?.close();
  }
}

export function chaosClient(kind: Kind, pick: Pick, token: string): ChaosClient {
  switch (kind) {
    case 'ws':
      return new WsApp(pick, token);
    case 'sse':
      return new SseApp(pick, token);
    case 'poll':
      return new PollApp(pick, token);
    default:
      return new SdkApp(pick, token, kind);
  }
}
