/**
 * A WebSocket test client that records every frame and waits for frames by predicate:
 * tests wait for the event they expect, never for time. A wait fails fast, naming the frames it
 * saw, when the socket closes first or NEXT_TIMEOUT_MS pass (before the test's own timeout, which
 * would say nothing of them).
 */
import WebSocket from 'ws';

/** Well under vitest's 20 s test timeout. */
const NEXT_TIMEOUT_MS = 15_000;
/** Taken before any test fakes timers, so a faked clock never fires (or holds) a wait's deadline. */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

export interface Frame {
  type?: string;
  [key: string]: any;
}

export class WsClient {
  readonly frames: Frame[] = [];
  readonly socket: WebSocket;
  closeCode: number | undefined;
  closeReason = '';
  private waiters: Array<{
    match: (f: Frame) => boolean;
    from: number;
    resolve: (f: Frame) => void;
    reject: (err: Error) => void;
  }> = [];
  private closeWaiters: Array<(code: number) => void> = [];
  private readonly opened: Promise<void>;
  private readonly timeoutMs: number;

  constructor(
    url: string,
    options: {
      token?: string;
      headers?: Record<string, string>;
      autoPong?: boolean;
      /** How long a wait lasts before it fails (default NEXT_TIMEOUT_MS). */
      timeoutMs?: number;
    } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? NEXT_TIMEOUT_MS;
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    this.socket = new WebSocket(url, { headers, autoPong: options.autoPong ?? true });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
      this.socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.socket.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Frame;
      this.frames.push(f);
      const index = this.frames.length - 1;
      this.waiters = this.waiters.filter((w) => {
        if (index >= w.from && w.match(f)) {
          w.resolve(f);
          return false;
        }
        return true;
      });
    });
    this.socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      for (const w of this.waiters.splice(0)) w.reject(this.failure(`the socket closed (${code})`));
      for (const w of this.closeWaiters.splice(0)) w(code);
    });
  }

  open(): Promise<void> {
    return this.opened;
  }

  send(value: unknown): void {
    this.socket.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /**
   * The first frame (from index `from`, default 0) matching the predicate, now or when it comes.
   * Rejects, naming the frames seen, when the socket closes first or its timeout passes.
   */
  next(match: (f: Frame) => boolean, from = 0): Promise<Frame> {
    for (let i = from; i < this.frames.length; i++)
      if (match(this.frames[i]!)) return Promise.resolve(this.frames[i]!);
    if (this.closeCode !== undefined)
      return Promise.reject(this.failure(`the socket had closed (${this.closeCode})`));
    const waiting = new Promise<Frame>((resolve, reject) => {
      const timer = realSetTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(this.failure(`${this.timeoutMs} ms passed`));
      }, this.timeoutMs);
      const waiter = {
        match,
        from,
        resolve: (f: Frame) => {
          realClearTimeout(timer);
          resolve(f);
        },
        reject: (err: Error) => {
          realClearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.push(waiter);
    });
    // A wait nobody awaits any more (a race already won) must not fail the run when it rejects.
    waiting.catch(() => {});
    return waiting;
  }

  /** Why a wait failed, with the frames seen. */
  private failure(why: string): Error {
    const seen = this.frames.map((f) => (f.type === 'error' ? `error:${f.code}` : String(f.type)));
    return new Error(`no matching frame: ${why}; frames seen: [${seen.join(', ')}]`);
  }

  type(type: string, from = 0): Promise<Frame> {
    return this.next((f) => f.type === type, from);
  }

  closed(): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  close(): Promise<number> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING)
      this.socket.close();
    return this.closed();
  }
}

/** Opens a client and waits for its `ready` frame. */
export async function connect(
  url: string,
  options: { token?: string } = {},
): Promise<{ client: WsClient; ready: Frame }> {
  const client = new WsClient(url, options);
  await client.open();
  const ready = await client.type('ready');
  return { client, ready };
}
