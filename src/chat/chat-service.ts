/**
 * The chat flow, the same for every transport: rate limit, size check, sanitize, record the
 * user message, agent messages about it, the model's streamed reply, record the reply.
 * Transports resolve the session and render what this emits; nothing here knows a wire format.
 */
import type { FastifyBaseLogger } from 'fastify';
import {
  needsSecurityAlert,
  needsSummary,
  sanitizationSummary,
  securityAlert,
  slowReplyStatus,
  upstreamError,
} from '../agent-messages/factories.js';
import type { AgentMessageRouter } from '../agent-messages/router.js';
import { type AgentMessageInput, withDefaults } from '../agent-messages/schema.js';
import type { ModelAgent } from '../agents/model-agent.js';
import type { Principal } from '../auth/principal.js';
import { HeraldError, toHeraldError } from '../errors/catalogue.js';
import { newId } from '../ids.js';
import type { Metrics, Transport } from '../observability/metrics.js';
import { countChars } from '../sanitize/chars.js';
import type { SanitizeResult } from '../sanitize/types.js';
import { StoreUnavailableError } from '../store/shared.js';
import type { Session, Store, TimelineEntry } from '../store/store.js';
import type { ChatRateLimiter } from './chat-rate-limiter.js';
import { turnsOf } from './history.js';
import type { Sessions } from './sessions.js';

export interface ChatRequest {
  principal: Principal;
  transport: Transport;
  /** The session, when the transport holds one already (a WebSocket). */
  session?: Session;
  /** Otherwise: the session to continue (owned), or none for a new one... */
  sessionId?: string;
  /** ...or the AI SDK chat id that maps to one session per principal. */
  chatKey?: string;
  /** The raw user text. */
  message: string;
  /** The client's message id; the server makes one when absent. */
  messageId?: string;
  /** Answer `messageId` again (AI SDK `regenerate-message`) instead of adding a new message. */
  regenerate?: boolean;
  signal: AbortSignal;
}

/** What a transport renders while a reply is made. */
export interface ReplySink {
  /**
   * Called once the message is accepted (rate limit and size checked) and its session known,
   * before anything else is emitted. A session is never made for a refused message.
   */
  begin?(session: Session, messageId: string): Promise<void> | void;
  typing?(on: boolean): void;
  chunk(text: string, replyTo: string): void;
}

export interface ChatResult {
  session: Session;
  messageId: string;
  reply: string;
}

/** A chat that failed after its session was known: transports can still name the session. */
export class ChatFailure extends Error {
  constructor(
    readonly error: HeraldError,
    readonly session: Session,
  ) {
    super(error.message);
  }
}

export interface ChatServiceOptions {
  store: Store;
  sessions: Sessions;
  /** Sync for the built-in pipeline; async when a classifier is asked too (it has a deadline). */
  sanitize: (text: string) => SanitizeResult | Promise<SanitizeResult>;
  agent: ModelAgent;
  router: AgentMessageRouter | undefined;
  rateLimiter: ChatRateLimiter;
  metrics: Metrics;
  log: FastifyBaseLogger;
  maxMessageChars: number;
  summaryThreshold: number;
  slowReplyMs: number;
  /** Earlier turns sent to the model as context (0 for agents that do not use them). */
  historyTurns: number;
}

export class ChatService {
  private inFlight = 0;
  /** Set when shutdown's grace period ends with replies still in flight. */
  private stopping = false;
  /** The model calls in flight: abortAll cuts them (a set, not a listener per chat on one signal). */
  private readonly replies = new Set<AbortController>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: ChatServiceOptions) {}

  /** Replies being made now (graceful shutdown waits for them). */
  get active(): number {
    return this.inFlight;
  }

  /** Cuts every reply in flight short (each ends with `unavailable`, its partial text recorded). */
  abortAll(): void {
    this.stopping = true;
    for (const reply of this.replies) reply.abort();
  }

  /** Resolves when no reply is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async handle(request: ChatRequest, sink: ReplySink): Promise<ChatResult> {
    const started = process.hrtime.bigint();
    const { transport } = request;
    this.inFlight++;
    try {
      const result = await this.run(request, sink);
      // A client that left mid-reply is not an ok answer.
      this.opts.metrics.chats.inc({ transport, outcome: request.signal.aborted ? 'aborted' : 'ok' });
      return result;
    } catch (err) {
      const code =
        err instanceof ChatFailure ? err.error.code : err instanceof HeraldError ? err.code : 'internal';
      this.opts.metrics.chats.inc({ transport, outcome: code });
      throw err;
    } finally {
      this.opts.metrics.chatDuration.observe({ transport }, Number(process.hrtime.bigint() - started) / 1e9);
      if (--this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async run(request: ChatRequest, sink: ReplySink): Promise<ChatResult> {
    const { opts } = this;
    const { principal } = request;
    await opts.rateLimiter.consume(principal.sub);
    const chars = countChars(request.message);
    if (chars > opts.maxMessageChars)
      throw new HeraldError('too_large', `message is over the limit of ${opts.maxMessageChars} characters`);

    const session =
      request.session ?? (await opts.sessions.resolve(principal, request.sessionId, request.chatKey));
    const messageId = request.messageId ?? newId('m_');
    try {
      return await this.reply(request, session, messageId, sink);
    } catch (err) {
      throw new ChatFailure(toHeraldError(err), session);
    }
  }

  private async reply(
    request: ChatRequest,
    session: Session,
    messageId: string,
    sink: ReplySink,
  ): Promise<ChatResult> {
    const { opts } = this;
    await sink.begin?.(session, messageId);
    const clean = await opts.sanitize(request.message);
    for (const stage of clean.stages)
      if (stage.count > 0) opts.metrics.sanitizerActions.inc({ stage: stage.stage }, stage.count);

    // A regenerate (AI SDK) answers a user message the timeline already holds: no second copy
    // of it, no second summary, and the model sees the conversation up to it, not the reply
    // being replaced.
    const timeline = request.regenerate || opts.historyTurns > 0 ? await this.recentTimeline(session.id) : [];
    const regenerating =
      request.regenerate === true && timeline.some((e) => e.kind === 'user' && e.id === messageId);
    const history =
      opts.historyTurns > 0 ? turnsOf(timeline, regenerating ? messageId : undefined, opts.historyTurns) : [];
    const emit = (input: AgentMessageInput) => this.publish(session.id, input);
    if (!regenerating) {
      // The user message and what Herald says about it are asked for together where the store
      // applies writes in the order asked (on SQLite they then share one commit, instead of a
      // commit each that the chat would wait for in turn); elsewhere the message is written
      // first. Either way the timeline holds the message before its summary.
      const recorded = opts.store.appendTimeline(session.id, {
        kind: 'user',
        id: messageId,
        text: clean.text,
        timestamp: new Date().toISOString(),
      });
      if (opts.store.writesInOrder !== true) await recorded;
      // Summary and alert go out before the first chunk, on every channel (docs/protocol.md,
      // section 4, "Order"); publish never rejects (a message not admitted is counted).
      const said: Array<Promise<void>> = [];
      if (opts.router) {
        if (needsSummary(clean, opts.summaryThreshold))
          said.push(emit(sanitizationSummary(clean, messageId)));
        if (needsSecurityAlert(clean)) said.push(emit(securityAlert(clean, messageId)));
      }
      try {
        await recorded;
      } finally {
        if (said.length > 0) await Promise.all(said);
      }
    }

    sink.typing?.(true);
    // The model stops when the client leaves or shutdown cuts replies short: one controller
    // and one listener (AbortSignal.any costs more, per chat, and keeps its sources alive).
    const model = new AbortController();
    const stop = () => model.abort();
    if (request.signal.aborted || this.stopping) model.abort();
    request.signal.addEventListener('abort', stop, { once: true });
    this.replies.add(model);
    let reply = '';
    let slowTimer: NodeJS.Timeout | undefined;
    if (opts.router && opts.slowReplyMs > 0) {
      const startedAt = Date.now();
      slowTimer = setTimeout(
        () => void emit(slowReplyStatus(messageId, Date.now() - startedAt)),
        opts.slowReplyMs,
      );
    }
    let failed: { err: unknown } | undefined;
    try {
      for await (const delta of opts.agent.reply({
        sessionId: session.id,
        messageId,
        text: clean.text,
        history,
        sanitization: clean,
        signal: model.signal,
      })) {
        if (slowTimer) {
          clearTimeout(slowTimer);
          slowTimer = undefined;
        }
        if (delta.length === 0) continue;
        reply += delta;
        sink.chunk(delta, messageId);
      }
    } catch (err) {
      failed = { err };
    }
    clearTimeout(slowTimer);
    this.replies.delete(model);
    request.signal.removeEventListener('abort', stop);
    sink.typing?.(false);
    if (failed) {
      const { err } = failed;
      const failure =
        err instanceof HeraldError && err.code === 'upstream_failed'
          ? err
          : new HeraldError('upstream_failed', undefined, { cause: err });
      // Only our own words: an upstream error body may quote the prompt or echo the API key.
      opts.log.warn({ sessionId: session.id, reason: failure.message }, 'model agent failed');
      // What the client already saw stays in the timeline, marked incomplete.
      if (reply !== '') await this.recordReply(session.id, messageId, reply, true);
      if (opts.router) await emit(upstreamError(messageId, failure.message));
      throw failure;
    }
    const cut = request.signal.aborted || this.stopping;
    await this.recordReply(session.id, messageId, reply, cut);
    // Cut short by shutdown: say so, rather than end as if the reply were whole.
    if (this.stopping)
      throw new HeraldError(
        'unavailable',
        'The server is shutting down; the reply was cut short. Please retry.',
        {
          retryAfter: 5,
        },
      );
    return { session, messageId, reply };
  }

  private recordReply(sessionId: string, replyTo: string, text: string, incomplete: boolean): Promise<void> {
    return this.opts.store.appendTimeline(sessionId, {
      kind: 'reply',
      replyTo,
      text,
      timestamp: new Date().toISOString(),
      ...(incomplete && { incomplete: true }),
    });
  }

  /**
   * Admits one message made by Herald itself; a rate-limited one is counted by the router, not an
   * error here. One that cannot be admitted (the store unreachable, or anything else) does not
   * fail the chat: it is logged and counted as dropped (`store_unavailable` or `admission_failed`).
   */
  private async publish(sessionId: string, input: AgentMessageInput): Promise<void> {
    try {
      await this.opts.router!.publish(sessionId, withDefaults(input));
    } catch (err) {
      if (err instanceof HeraldError && err.code === 'rate_limited') return;
      const unreachable = err instanceof StoreUnavailableError;
      this.opts.metrics.agentMessages.dropped.inc({
        agentType: input.agentType,
        reason: unreachable ? 'store_unavailable' : 'admission_failed',
      });
      if (unreachable)
        this.opts.log.warn(
          { sessionId, agentType: input.agentType },
          'agent message not admitted: store unavailable',
        );
      else this.opts.log.error({ err, sessionId }, 'agent message could not be admitted');
    }
  }

  /** The newest timeline entries: enough to find the model's history among agent messages. */
  private recentTimeline(sessionId: string): Promise<TimelineEntry[]> {
    return this.opts.store.readTimeline(sessionId, Math.max(this.opts.historyTurns * 4, 200));
  }
}
