/**
 * A minimal Server-Sent Events writer over Fastify's raw response: the stream is hijacked
 * from Fastify, so headers, heartbeats and the end are ours. Writes report back-pressure
 * through `writableLength` so callers can shed or queue like on a WebSocket.
 */
import type { FastifyReply } from 'fastify';

export class SseWriter {
  private readonly res: FastifyReply['raw'];
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly drained: Array<() => void> = [];
  /**
   * Each write's callback: the chunk reached the socket, so less waits in the response. Not the
   * response's 'drain' event, which Node emits only after a write() returned false, that is once
   * the buffer reached the stream's highWaterMark (16 KiB on Node 20, 64 KiB from Node 22): a
   * caller holding messages at a lower bound would wait for a 'drain' that never comes.
   */
  private readonly written = (): void => {
    for (const fn of this.drained) fn();
  };
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
    this.res.write(text, this.written);
    return true;
  }

  /** Called each time a write has been handed to the socket (so `buffered` may have fallen). */
  onDrain(fn: () => void): void {
    this.drained.push(fn);
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
