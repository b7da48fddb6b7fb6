/**
 * Resumable WebSocket replies (docs/protocol.md, section 5, `resume_reply`): the text of a reply
 * asked for with `resumable: true` is kept while it is made and for a while after, under its
 * principal, session and message id, so a client whose socket dropped asks for the rest from the
 * offset it has, on a new socket, and gets it, then the live chunks, then `complete` or the
 * error. In memory on one instance and bounded like the AI SDK's resumable streams
 * (../sse/resumable-streams.ts): a reply nobody reads for KEEP_MS is stopped, one past
 * MAX_BYTES of text is no longer kept, at most MAX_REPLIES at once, and a finished one is
 * forgotten KEEP_MS after it ends.
 */
import type { HeraldError } from '../../errors/catalogue.js';
import { type ResumableLimits, resumableLimits } from '../sse/resumable-streams.js';

/** Where a kept reply goes: one socket's channel. */
export interface ReplyReader {
  chunk(text: string): void;
  /** The reply ended: complete (no error) or with this error. */
  end(error: HeraldError | undefined): void;
}

export class KeptReply {
  private text = '';
  private readonly readers = new Set<ReplyReader>();
  private idle: NodeJS.Timeout | undefined;
  private ended: { error: HeraldError | undefined } | undefined;
  private overflowed = false;

  constructor(
    private readonly owner: KeptReplies,
    readonly key: string,
    private readonly limits: ResumableLimits,
    /** Called when nobody has read the reply for keepMs while it was being made: stop it. */
    private readonly abandon: () => void,
  ) {}

  append(text: string): void {
    if (this.ended) return;
    if (!this.overflowed) {
      if (this.text.length + text.length > this.limits.maxStreamBytes) {
        this.overflowed = true;
        this.text = '';
        this.owner.forget(this);
      } else this.text += text;
    }
    for (const reader of this.readers) reader.chunk(text);
  }

  /** A reader from `offset` on; false when the offset is past what was made. */
  attach(reader: ReplyReader, offset: number): boolean {
    if (offset > this.text.length) return false;
    const rest = this.text.slice(offset);
    if (rest !== '') reader.chunk(rest);
    if (this.ended) {
      reader.end(this.ended.error);
      return true;
    }
    this.readers.add(reader);
    clearTimeout(this.idle);
    this.idle = undefined;
    return true;
  }

  detach(reader: ReplyReader): void {
    if (!this.readers.delete(reader) || this.readers.size > 0 || this.ended) return;
    if (this.overflowed) {
      this.abandon();
      return;
    }
    this.idle = setTimeout(() => this.abandon(), this.limits.keepMs);
    this.idle.unref();
  }

  finish(error: HeraldError | undefined): void {
    if (this.ended) return;
    this.ended = { error };
    clearTimeout(this.idle);
    for (const reader of this.readers) reader.end(error);
    this.readers.clear();
    // Kept a while after its end, for a client that comes back after it finished.
    this.idle = setTimeout(() => this.owner.forget(this), this.limits.keepMs);
    this.idle.unref();
  }

  stopTimer(): void {
    clearTimeout(this.idle);
  }
}

export class KeptReplies {
  private readonly replies = new Map<string, KeptReply>();
  private readonly limits: ResumableLimits;

  constructor(limits: Partial<ResumableLimits> = {}) {
    this.limits = resumableLimits(limits);
  }

  static key(sub: string, sessionId: string, messageId: string): string {
    return `${sub}\u0000${sessionId}\u0000${messageId}`;
  }

  /** A new kept reply, or undefined when MAX_REPLIES are kept (the reply is then not resumable). */
  start(key: string, abandon: () => void): KeptReply | undefined {
    if (!this.replies.has(key) && this.replies.size >= this.limits.maxStreams) return undefined;
    const reply = new KeptReply(this, key, this.limits, abandon);
    this.replies.get(key)?.stopTimer();
    this.replies.set(key, reply);
    return reply;
  }

  get(key: string): KeptReply | undefined {
    return this.replies.get(key);
  }

  forget(reply: KeptReply): void {
    if (this.replies.get(reply.key) === reply) this.replies.delete(reply.key);
  }

  close(): void {
    for (const reply of this.replies.values()) reply.stopTimer();
    this.replies.clear();
  }
}
