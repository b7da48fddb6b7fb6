/**
 * Helpers for load generators: a keep-alive HTTP client, WebSocket connects that wait for
 * Herald's `ready` frame, and a bounded pool that opens many sockets with a concurrency window
 * and a deadline.
 */
import http from 'node:http';
import WebSocket from 'ws';

/** What every HTTP chat load is given: the server, its clients, and its bounds in time and count. */
export interface HttpLoadParams {
  port: number;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  maxRequests: number;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** POSTs JSON over keep-alive connections (at most maxSockets at once), each call with a timeout. */
export class HttpClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly port: number,
    maxSockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 10_000): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: data === undefined ? {} : { 'content-type': 'application/json' },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  post(path: string, body: unknown, timeoutMs?: number): Promise<HttpAnswer> {
    return this.request('POST', path, body, timeoutMs);
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface OpenOptions {
  /** Wait for Herald's {type:'ready'} frame (its sessionId is returned); else resolve on open. */
  ready: boolean;
  /** Every frame after `ready` (or after open), attached before any can arrive. */
  onFrame?: (data: Buffer, ws: WebSocket) => void;
  timeoutMs?: number;
}

export interface Opened {
  ws: WebSocket;
  sessionId?: string;
}

export function openSocket(url: string, options: OpenOptions): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let settled = false;
    const timer = setTimeout(() => {
      settle(
        new Error(`no ${options.ready ? 'ready frame' : 'open'} within ${options.timeoutMs ?? 10_000} ms`),
      );
      ws.terminate();
    }, options.timeoutMs ?? 10_000);
    const settle = (err?: Error, sessionId?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve({ ws, sessionId });
    };
    ws.on('error', (err) => settle(err));
    ws.on('close', (code) => settle(new Error(`closed (${code}) before ready`)));
    if (options.ready) {
      ws.on('message', (data: Buffer) => {
        if (!settled) {
          const text = data.toString();
          if (!text.startsWith('{"type":"ready"'))
            return settle(new Error(`first frame was not ready: ${text}`));
          settle(undefined, (JSON.parse(text) as { sessionId: string }).sessionId);
        } else options.onFrame?.(data, ws);
      });
    } else {
      ws.on('open', () => settle());
      if (options.onFrame) ws.on('message', (data: Buffer) => options.onFrame!(data, ws));
    }
  });
}

/**
 * Runs fn(0..n-1) with at most `concurrency` in flight, stopping new starts at the deadline
 * (performance.now() ms). Returns the results that succeeded and the number that failed.
 */
export async function pool<T>(
  n: number,
  concurrency: number,
  deadline: number,
  fn: (i: number) => Promise<T>,
): Promise<{ ok: T[]; failed: number; firstError?: string }> {
  const ok: T[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const worker = async () => {
    while (next < n && performance.now() < deadline) {
      const i = next++;
      try {
        ok.push(await fn(i));
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return { ok, failed, firstError };
}

/** Closes sockets and waits (bounded) until they are closed. */
export async function closeAll(sockets: WebSocket[], timeoutMs = 3_000): Promise<void> {
  await Promise.race([
    Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.close();
          }),
      ),
    ),
    new Promise((resolve) => setTimeout(resolve, timeoutMs)),
  ]);
  for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
}

/** The bench's chat messages: half of them hold an e-mail address (so half make a sanitization summary). */
export const CHAT_PLAIN = 'Hello, please summarise the status of my last order and tell me when it ships.';
export const CHAT_EMAIL = 'Hello, please summarise my order status and write to me at jane@example.com.';
export const chatMessage = (i: number): string => (i % 2 === 0 ? CHAT_EMAIL : CHAT_PLAIN);

/** The content of published agent messages (a short status line). */
export const STATUS_CONTENT = 'Deploy finished: 3 services updated, all health checks green.';
