/**
 * A minimal Server-Sent Events writer over Fastify's raw response: the stream is hijacked
 * from Fastify, so headers, heartbeats and the end are ours. Writes report back-pressure
 * through `writableLength` so callers can shed or queue like on a WebSocket.
 */
import type { FastifyReply } from 'fastify';

export class SseWriter {
  private readonly res: FastifyReply['raw'];
  private heartbeat: NodeJS.Timeout | undefined;
  closed = false;

  constructor(reply: FastifyReply, extraHeaders: Record<string, string> = {}) {
    reply.hijack();
    this.res = reply.raw;
    this.res.writeHead(200, {
      // What hooks set before the hijack (the CORS headers) goes out too.
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...extraHeaders,
    });
    this.res.flushHeaders();
    this.res.on('close', () => {
      this.closed = true;
      clearInterval(this.heartbeat);
    });
  }

  /** Bytes written but not yet flushed to the socket. */
  get buffered(): number {
    return this.res.writableLength;
  }

  /** Sends a comment line every `ms` so proxies keep the stream open. */
  startHeartbeat(ms: number): void {
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), ms);
    this.heartbeat.unref();
  }

  /** One event; `data` must be a single line (JSON is). */
  event(data: string, options: { event?: string; id?: string | number } = {}): boolean {
    let frame = '';
    if (options.id !== undefined) frame += `id: ${options.id}\n`;
    if (options.event) frame += `event: ${options.event}\n`;
    frame += `data: ${data}\n\n`;
    return this.write(frame);
  }

  write(text: string): boolean {
    if (this.closed || this.res.destroyed) return false;
    this.res.write(text);
    return true;
  }

  /** Called each time the response's buffer has been handed to the socket. */
  onDrain(fn: () => void): void {
    this.res.on('drain', fn);
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.res.on('close', fn);
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (!this.closed && !this.res.destroyed) this.res.end();
    this.closed = true;
  }
}
