/** Reads Server-Sent Events from a real HTTP response, event by event. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

export class SseReader {
  readonly events: SseEvent[] = [];
  comments = 0;
  private buffer = '';
  private waiters: Array<{ match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }> = [];
  private commentWaiters: Array<{ n: number; resolve: () => void }> = [];
  private readonly controller = new AbortController();
  status = 0;

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = new SseReader();
    const res = await fetch(url, { headers, signal: reader.controller.signal });
    reader.status = res.status;
    if (res.ok && res.body) void reader.pump(res.body);
    return reader;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) return;
        this.buffer += decoder.decode(chunk, { stream: true });
        let end = this.buffer.indexOf('\n\n');
        while (end >= 0) {
          this.parse(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
          end = this.buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  }

  private parse(block: string): void {
    const e: SseEvent = { data: '' };
    let isComment = true;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      isComment = false;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') e.id = value;
      else if (field === 'event') e.event = value;
      else if (field === 'data') e.data += value;
    }
    if (isComment) {
      this.comments++;
      for (const w of this.commentWaiters.filter((w) => this.comments >= w.n)) w.resolve();
      this.commentWaiters = this.commentWaiters.filter((w) => this.comments < w.n);
      return;
    }
    this.events.push(e);
    const matched = this.waiters.filter((w) => w.match(e));
    this.waiters = this.waiters.filter((w) => !matched.includes(w));
    for (const w of matched) w.resolve(e);
  }

  next(match: (e: SseEvent) => boolean): Promise<SseEvent> {
    const found = this.events.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Resolves once `n` comment blocks (heartbeats) have arrived. */
  waitForComments(n: number): Promise<void> {
    if (this.comments >= n) return Promise.resolve();
    return new Promise((resolve) => this.commentWaiters.push({ n, resolve }));
  }

  close(): void {
    this.controller.abort();
  }
}
