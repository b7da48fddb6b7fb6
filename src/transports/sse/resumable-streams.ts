/**
 * Replies that outlive their connection (docs/protocol.md, `GET /api/chat/stream/:chatId/stream`):
 * the UI message stream of a reply in flight is kept, part by part, under its principal and AI
 * SDK chat id, so a client that lost the connection (a reload, a network cut) asks for it again
 * and gets it from its start, then live, to its end. Modelled on the AI SDK's `resumable-stream`
 * package, in memory on one instance and bounded:
 *
 * - at most MAX_STREAMS kept at once (past it a new reply is not resumable);
 * - at most MAX_STREAM_BYTES of parts a reply (past it the reply stops being resumable);
 * - a reply that no client reads for KEEP_MS is aborted (the partial reply recorded as on any
 *   cut), so nobody pays for a model nobody reads;
 * - a finished reply is forgotten at once (the GET then answers 204, as the AI SDK expects).
 */
import type { SseWriter } from './sse-writer.js';

export const RESUMABLE_MAX_STREAMS = 1_000;
export const RESUMABLE_MAX_STREAM_BYTES = 1024 * 1024;
export const RESUMABLE_KEEP_MS = 60_000;

export interface ResumableLimits {
  maxStreams: number;
  maxStreamBytes: number;
  keepMs: number;
}

/** The limits of kept replies (AI SDK streams here, WebSocket replies in ws/kept-replies.ts), defaults filled in. */
export function resumableLimits(limits: Partial<ResumableLimits> = {}): ResumableLimits {
  return {
    maxStreams: limits.maxStreams ?? RESUMABLE_MAX_STREAMS,
    maxStreamBytes: limits.maxStreamBytes ?? RESUMABLE_MAX_STREAM_BYTES,
    keepMs: limits.keepMs ?? RESUMABLE_KEEP_MS,
  };
}

export class ResumableStream {
  private frames: string[] = [];
  private bytes = 0;
  private readonly readers = new Set<SseWriter>();
  private idle: NodeJS.Timeout | undefined;
  private done = false;
  /** Too large to keep: readers still get it live, a new one cannot join. */
  private overflowed = false;

  constructor(
    private readonly owner: ResumableStreams,
    readonly key: string,
    private readonly limits: ResumableLimits,
    /** Called when no client has read the reply for keepMs: abort it. */
    private readonly abandon: () => void,
  ) {}

  get resumable(): boolean {
    return !this.done && !this.overflowed;
  }

  /** One SSE frame (`data: …\n\n`), kept and sent to every reader. */
  write(frame: string): void {
    if (this.done) return;
    if (!this.overflowed) {
      this.bytes += frame.length;
      if (this.bytes > this.limits.maxStreamBytes) {
        this.overflowed = true;
        this.frames = [];
        this.owner.forget(this);
      } else this.frames.push(frame);
    }
    for (const reader of this.readers) reader.write(frame);
  }

  /** A reader: everything so far, then live. */
  attach(reader: SseWriter): void {
    for (const frame of this.frames) reader.write(frame);
    this.readers.add(reader);
    clearTimeout(this.idle);
    this.idle = undefined;
    reader.onClose(() => {
      this.readers.delete(reader);
      if (this.readers.size > 0 || this.done) return;
      // Nobody can come back for a reply no longer kept: stop it now.
      if (this.overflowed) {
        this.abandon();
        return;
      }
      this.idle = setTimeout(() => this.abandon(), this.limits.keepMs);
      this.idle.unref();
    });
  }

  /** The last frame; every reader's response ends and the reply is forgotten. */
  end(frame: string): void {
    if (this.done) return;
    this.write(frame);
    this.done = true;
    clearTimeout(this.idle);
    this.frames = [];
    this.owner.forget(this);
    for (const reader of this.readers) reader.end();
    this.readers.clear();
  }

  /** Stops the reply now (an explicit stop): as if nobody had read it for the keep time. */
  stop(): void {
    if (!this.done) this.abandon();
  }

  /** Server closing: no timer left behind. */
  stopTimer(): void {
    clearTimeout(this.idle);
  }
}

/** The replies in flight on this instance that a client may resume, by principal and chat id. */
export class ResumableStreams {
  private readonly streams = new Map<string, ResumableStream>();
  private readonly limits: ResumableLimits;

  constructor(limits: Partial<ResumableLimits> = {}) {
    this.limits = resumableLimits(limits);
  }

  static key(sub: string, chatId: string): string {
    return `${sub}\u0000${chatId}`;
  }

  get size(): number {
    return this.streams.size;
  }

  /**
   * A new reply for the chat: it replaces an earlier one of the same chat (which goes on for
   * the readers it has). Undefined when MAX_STREAMS are kept: the reply is then not resumable.
   */
  start(key: string, abandon: () => void): ResumableStream | undefined {
    if (!this.streams.has(key) && this.streams.size >= this.limits.maxStreams) return undefined;
    const stream = new ResumableStream(this, key, this.limits, abandon);
    this.streams.set(key, stream);
    return stream;
  }

  get(key: string): ResumableStream | undefined {
    const stream = this.streams.get(key);
    return stream?.resumable ? stream : undefined;
  }

  forget(stream: ResumableStream): void {
    if (this.streams.get(stream.key) === stream) this.streams.delete(stream.key);
  }

  close(): void {
    for (const stream of this.streams.values()) stream.stopTimer();
  }
}
