/**
 * Replies that outlive their connection, for both transports that have them: the AI SDK stream
 * (`GET /api/chat/stream/:chatId/stream`, its parts being SSE frames) and WebSocket chats sent
 * with `resumable: true` (`resume_reply`, its parts being the reply's text). A reply's parts are
 * kept while it is made so a client that lost its connection gets them again, from its start or
 * from an offset, then live, to its end. Modelled on the AI SDK's `resumable-stream` package,
 * and bounded by the settings HERALD_REPLY_KEEP_MS, HERALD_REPLY_KEEP_MAX_BYTES and
 * HERALD_REPLY_KEEP_MAX_REPLIES:
 *
 * - at most `maxReplies` kept at once per registry (past it a new reply is not resumable);
 * - at most `maxBytes` of parts (UTF-8) a reply: past it the reply is no longer kept (its
 *   readers still get it live; one who leaves cannot come back, so it stops when the last goes);
 * - a reply that no client reads for `keepMs` is stopped (the partial reply recorded as on any
 *   cut), so nobody pays for a model nobody reads;
 * - a finished reply is forgotten at once (AI SDK: its GET then answers 204), or `keepMs` after
 *   its end (WebSocket: a client that comes back late still gets the end).
 *
 * The parts are kept in this instance's memory; with a `ReplyMirror` (HERALD_STORE=redis, see
 * src/engine/redis-replies.ts) they are also written where other instances can read them.
 */
import type { HeraldConfig } from '../config/config.js';

export interface KeptLimits {
  /** Replies kept at once; 0: none (every reply then ends with its connection). */
  maxReplies: number;
  /** UTF-8 bytes of parts a reply may keep. */
  maxBytes: number;
  /** ms a reply nobody reads goes on; ms a finished one is kept (when ended replies are kept). */
  keepMs: number;
}

/** The limits from the configuration (HERALD_REPLY_KEEP_*). */
export function keptLimits(
  config: Pick<HeraldConfig, 'replyKeepMs' | 'replyKeepMaxBytes' | 'replyKeepMaxReplies'>,
): KeptLimits {
  return {
    keepMs: config.replyKeepMs,
    maxBytes: config.replyKeepMaxBytes,
    maxReplies: config.replyKeepMaxReplies,
  };
}

/** Where a kept reply goes: one connection (an SSE response, a socket). */
export interface KeptReader {
  part(text: string): void;
  /** The reply ended with this last part (what it is depends on the transport). */
  end(last: string): void;
}

/** Where a kept reply is copied for other instances to read. */
export interface ReplyMirror {
  append(part: string): void;
  finish(last: string): void;
  /** The reply is no longer kept (too large): readers elsewhere stop with what they have. */
  drop(): void;
}

export class KeptReply {
  private parts: string[] = [];
  private bytes = 0;
  private readonly readers = new Set<KeptReader>();
  private idle: NodeJS.Timeout | undefined;
  /** The last part, once the reply ended. */
  private last: string | undefined;
  /** Too large to keep: readers still get it live, a new one cannot join. */
  private overflowed = false;

  constructor(
    private readonly owner: KeptReplies,
    readonly key: string,
    /** Called when nobody has read the reply for keepMs while it was being made: stop it. */
    private readonly abandon: () => void,
    private readonly mirror: ReplyMirror | undefined,
  ) {}

  get ended(): boolean {
    return this.last !== undefined;
  }

  /** Whether a new reader may join. */
  get resumable(): boolean {
    return !this.overflowed && (this.last === undefined || this.owner.keepsEnded);
  }

  append(part: string): void {
    if (this.last !== undefined) return;
    if (!this.overflowed) {
      this.bytes += Buffer.byteLength(part);
      if (this.bytes > this.owner.limits.maxBytes) {
        this.overflowed = true;
        this.parts = [];
        this.owner.forget(this);
        this.mirror?.drop();
      } else {
        this.parts.push(part);
        this.mirror?.append(part);
      }
    }
    for (const reader of this.readers) reader.part(part);
  }

  /** A reader from `offset` (in the parts' text) on; false when it cannot join or the offset is past what was made. */
  attach(reader: KeptReader, offset = 0): boolean {
    if (this.overflowed) return false;
    const text = this.parts.join('');
    if (offset > text.length) return false;
    if (offset < text.length) reader.part(offset === 0 ? text : text.slice(offset));
    if (this.last !== undefined) {
      reader.end(this.last);
      return true;
    }
    this.readers.add(reader);
    clearTimeout(this.idle);
    this.idle = undefined;
    return true;
  }

  detach(reader: KeptReader): void {
    if (!this.readers.delete(reader) || this.readers.size > 0 || this.last !== undefined) return;
    // Nobody can come back for a reply no longer kept: stop it now.
    if (this.overflowed) this.abandon();
    else this.waitFor(this.owner.limits.keepMs);
  }

  /** A reader on another instance: the reply counts as read for keepMs more. */
  touch(): void {
    if (this.readers.size === 0 && this.last === undefined && !this.overflowed)
      this.waitFor(this.owner.limits.keepMs);
  }

  private waitFor(ms: number): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.abandon(), ms);
    this.idle.unref();
  }

  /** The end: every reader gets `last` and goes; the reply is forgotten now or after keepMs. */
  finish(last: string): void {
    if (this.last !== undefined) return;
    this.last = last;
    clearTimeout(this.idle);
    if (!this.overflowed) this.mirror?.finish(last);
    for (const reader of this.readers) reader.end(last);
    this.readers.clear();
    if (this.owner.keepsEnded && !this.overflowed) {
      // Kept a while after its end, for a client that comes back after it finished.
      this.idle = setTimeout(() => this.owner.forget(this), this.owner.limits.keepMs);
      this.idle.unref();
    } else {
      this.parts = [];
      this.owner.forget(this);
    }
  }

  /** Stops the reply now (an explicit stop): as if nobody had read it for the keep time. */
  stop(): void {
    if (this.last === undefined) this.abandon();
  }

  /** Server closing: no timer left behind. */
  stopTimer(): void {
    clearTimeout(this.idle);
  }
}

/** The kept replies of one transport on this instance, by key. */
export class KeptReplies {
  private readonly replies = new Map<string, KeptReply>();

  constructor(
    readonly limits: KeptLimits,
    /** Keep a finished reply keepMs more (WebSocket), or forget it at once (AI SDK). */
    readonly keepsEnded: boolean,
  ) {}

  get size(): number {
    return this.replies.size;
  }

  /**
   * A new reply under `key`: it replaces an earlier one (which goes on for the readers it has).
   * Undefined when maxReplies are kept: the reply is then not resumable. `mirror` makes the
   * reply's copy for other instances, when it is kept.
   */
  start(key: string, abandon: () => void, mirror?: () => ReplyMirror | undefined): KeptReply | undefined {
    const earlier = this.replies.get(key);
    if (!earlier && this.replies.size >= this.limits.maxReplies) return undefined;
    if (earlier?.ended) earlier.stopTimer();
    const reply = new KeptReply(this, key, abandon, mirror?.());
    this.replies.set(key, reply);
    return reply;
  }

  /** The reply under `key`, if a reader may still join it. */
  get(key: string): KeptReply | undefined {
    const reply = this.replies.get(key);
    return reply?.resumable ? reply : undefined;
  }

  forget(reply: KeptReply): void {
    if (this.replies.get(reply.key) === reply) this.replies.delete(reply.key);
  }

  close(): void {
    for (const reply of this.replies.values()) reply.stopTimer();
    this.replies.clear();
  }
}
