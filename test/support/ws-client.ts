/**
 * A WebSocket test client that records every frame and waits for frames by predicate:
 * tests wait for the event they expect, never for time.
 */
import WebSocket from 'ws';

export interface Frame {
  type?: string;
  [key: string]: any;
}

export class WsClient {
  readonly frames: Frame[] = [];
  readonly socket: WebSocket;
  closeCode: number | undefined;
  closeReason = '';
  private waiters: Array<{ match: (f: Frame) => boolean; from: number; resolve: (f: Frame) => void }> = [];
  private closeWaiters: Array<(code: number) => void> = [];
  private readonly opened: Promise<void>;

  constructor(
    url: string,
    options: { token?: string; headers?: Record<string, string>; autoPong?: boolean } = {},
  ) {
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
      for (const w of this.closeWaiters.splice(0)) w(code);
    });
  }

  open(): Promise<void> {
    return this.opened;
  }

  send(value: unknown): void {
    this.socket.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** The first frame (from index `from`, default 0) matching the predicate, now or when it comes. */
  next(match: (f: Frame) => boolean, from = 0): Promise<Frame> {
    for (let i = from; i < this.frames.length; i++)
      if (match(this.frames[i]!)) return Promise.resolve(this.frames[i]!);
    return new Promise((resolve) => this.waiters.push({ match, from, resolve }));
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
