/**
 * The agent message router: admission (one store call that checks the idempotency key and the
 * rate window and gives the seq, atomically) and dispatch to every live channel of the
 * session, in seq order. It owns cursors, TTL, attempts and redelivery once; stores and
 * transports only do I/O.
 */
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { MAX_TIMER_MS } from '../config/config.js';
import { HeraldError } from '../errors/catalogue.js';
import { newId } from '../ids.js';
import type { Metrics } from '../observability/metrics.js';
import { DuplicateAdmissionError, RateWindowFullError } from '../store/shared.js';
import type { Store } from '../store/store.js';
import { type Timer, TimerQueue } from '../util/timer-queue.js';
import { type Broker, localBroker } from './broker.js';
import type { DeliveryChannel, SendOutcome } from './channel.js';
import { messageJson } from './message-json.js';
import type { ResolvedInput } from './schema.js';
import { type AgentMessage, type AgentType, isStored } from './types.js';

export interface RouterOptions {
  store: Store;
  /** How messages admitted here reach channels other instances hold, and theirs reach ours. */
  broker?: Broker;
  metrics: Metrics;
  log: FastifyBaseLogger;
  rateLimits: Record<AgentType, number>;
  ackTimeoutMs: number;
  maxAttempts: number;
  purgeIntervalMs: number;
  /** Dead letters older than this are pruned with each purge; 0 keeps them. */
  deadLetterRetentionMs?: number;
  now?: () => number;
}

export type PublishResult =
  | { duplicate: false; message: AgentMessage }
  | { duplicate: true; id: string; seq: number; sessionId: string };

interface InFlight {
  message: AgentMessage;
  json: string;
  attempt: number;
  timer: Timer | undefined;
}

interface ChannelState {
  channel: DeliveryChannel;
  /** Sends per message id on this channel (attempt numbers) and its redelivery timer. */
  inflight: Map<string, InFlight>;
  closed: boolean;
}

const REPLAY_PAGE = 500;
/** The in-flight map of a channel that has sent nothing unacked yet: idle connections share it. */
const NO_INFLIGHT: Map<string, InFlight> = new Map();
/**
 * Sessions of one user admitted together in a publish to the user (one commit on SQLite),
 * before the event loop gets a turn for everything else. A slice is a few milliseconds of
 * work: another user's ping p99 stays under 50 ms during a 5,000-session fan-out
 * (test/e2e/fairness.test.ts); 256 let it reach 25–80 ms.
 */
const USER_PUBLISH_SLICE = 64;

/** Lifecycle events, for observers and tests: `dead-letter` (message, attempts). */
export interface RouterEvents {
  'dead-letter': [message: AgentMessage, attempts: number];
}

export class AgentMessageRouter {
  readonly events = new EventEmitter<RouterEvents>();
  private readonly store: Store;
  private readonly metrics: Metrics['agentMessages'];
  private readonly log: FastifyBaseLogger;
  private readonly opts: RouterOptions;
  private readonly now: () => number;
  private readonly sessions = new Map<string, readonly ChannelState[]>();
  /** The newest seq sent to the live channels of each session this instance holds channels of. */
  private readonly lastSent = new Map<string, number>();
  private readonly broker: Broker;
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Every ack timeout of every channel, on one Node timer. */
  private readonly timers = new TimerQueue();
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(options: RouterOptions) {
    this.opts = options;
    this.store = options.store;
    this.metrics = options.metrics.agentMessages;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.broker = options.broker ?? localBroker;
    this.broker.onRemote((message) => void this.receiveRemote(message));
    this.broker.onResync?.(() => {
      for (const sessionId of this.sessions.keys()) void this.catchUpAll(sessionId);
    });
  }

  start(): void {
    this.purgeTimer ??= setInterval(() => void this.purgeExpired(), this.opts.purgeIntervalMs);
    this.purgeTimer.unref();
  }

  stop(): void {
    clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
    for (const states of this.sessions.values()) for (const s of states) this.forget(s);
    this.sessions.clear();
    this.lastSent.clear();
    this.timers.clear();
  }

  /**
   * Admits one message into a session and sends it to the session's live channels.
   * Throws rate_limited when the type's limit for the session is reached.
   */
  publish(sessionId: string, input: ResolvedInput): Promise<PublishResult> {
    return this.withLock(sessionId, () => this.admit(sessionId, input));
  }

  /**
   * Publishes into every session of a user. rate_limited only when every session refused;
   * otherwise the sessions that refused are listed in `rateLimited`.
   */
  async publishToUser(
    userId: string,
    input: ResolvedInput,
  ): Promise<{ results: PublishResult[]; rateLimited: string[] }> {
    const ids = await this.store.listSessionIds(userId);
    const results: PublishResult[] = [];
    const rateLimited: string[] = [];
    let limited: HeraldError | undefined;
    let failure: unknown;
    // Each slice is admitted at once (sessions' locks are their own, so on SQLite the slice is one
    // commit) and dispatched; between slices other work gets the event loop.
    for (let from = 0; from < ids.length; from += USER_PUBLISH_SLICE) {
      if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const slice = ids.slice(from, from + USER_PUBLISH_SLICE);
      const settled = await Promise.allSettled(slice.map((id) => this.publish(id, input)));
      for (const [i, outcome] of settled.entries()) {
        if (outcome.status === 'fulfilled') {
          results.push(outcome.value);
          continue;
        }
        const err = outcome.reason;
        if (!(err instanceof HeraldError) || err.code !== 'rate_limited') {
          failure ??= err;
          continue;
        }
        rateLimited.push(slice[i]!);
        if (!limited || (err.retryAfter ?? 0) < (limited.retryAfter ?? 0)) limited = err;
      }
      if (failure !== undefined) throw failure;
    }
    if (results.length === 0 && limited) throw limited;
    return { results, rateLimited };
  }

  /**
   * Adds a live channel and, with `afterSeq`, replays the session's stored unacked messages
   * after it, in seq order, before any newer message reaches it. With `afterSeq`, the replay
   * waits until this instance hears the session's wake-ups (its Redis subscription is active),
   * so nothing admitted elsewhere falls between the two; `onListening` runs at that moment,
   * before the replay (the WebSocket sends `ready` there, so a best-effort message published
   * once the client has `ready` is heard too). Returns the function that removes the channel.
   */
  async attach(channel: DeliveryChannel, afterSeq?: number, onListening?: () => void): Promise<() => void> {
    const state: ChannelState = { channel, inflight: NO_INFLIGHT, closed: false };
    const id = channel.sessionId;
    // Nothing to replay (an HTTP call collecting what its session gets): no need to wait for
    // the session's lock, the channel simply sees every dispatch from now on, in seq order.
    if (afterSeq === undefined) {
      const watching = this.add(state);
      // Messages admitted elsewhere before the subscription have no wake-up here: once
      // subscribed, send what the store holds after the last seq sent.
      if (watching) void watching.then(() => this.catchUpAll(id));
      onListening?.();
    } else
      await this.withLock(id, async () => {
        const watching = this.add(state);
        if (watching) await watching;
        onListening?.();
        await this.replayLocked(state, afterSeq);
        // Everything stored after `afterSeq` was sent: a later wake-up with a gap reads from here.
        this.sent(id, afterSeq);
      });
    return this.detacher(state);
  }

  /** Sends again what is stored after `afterSeq` on one attached channel (the resume frame). */
  async resume(channel: DeliveryChannel, afterSeq: number): Promise<void> {
    const state = this.find(channel);
    if (!state) return;
    await this.withLock(channel.sessionId, () => this.replayLocked(state, afterSeq));
  }

  /** Acknowledges ids of one session: never sent again by any path. Returns how many were pending. */
  async ack(sessionId: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const n = await this.store.ack(sessionId, ids);
    const acked = new Set(ids);
    for (const state of this.sessions.get(sessionId) ?? []) {
      state.channel.forget?.(acked);
      for (const id of ids) {
        const entry = state.inflight.get(id);
        if (entry) {
          entry.timer?.cancel();
          state.inflight.delete(id);
        }
      }
    }
    if (n > 0) this.metrics.acked.inc(n);
    return n;
  }

  /** Sessions with a live channel here (sockets, streams, chat calls in flight): retention keeps them. */
  liveSessions(): Iterable<string> {
    return this.sessions.keys();
  }

  /** Stored, unexpired, unacked messages after a cursor (poll, piggyback, SSE). */
  listPending(sessionId: string, afterSeq: number, limit: number): Promise<AgentMessage[]> {
    return this.store.listPending(sessionId, afterSeq, limit, this.now());
  }

  /** Counts messages handed over outside a channel (an HTTP answer's list, a poll) as delivered. */
  countDelivered(messages: readonly AgentMessage[], transport: 'http' | 'poll'): void {
    for (const m of messages) this.metrics.delivered.inc({ agentType: m.agentType, transport });
  }

  /** Purges expired messages and prunes old dead letters (the timer calls it; tests may too). Returns how many expired. */
  async purgeExpired(): Promise<number> {
    const now = this.now();
    let expired = 0;
    try {
      const purged = await this.store.purgeExpired(now);
      for (const m of purged) {
        this.metrics.expired.inc({ agentType: m.agentType });
        this.log.info(
          { agentMessageId: m.id, agentType: m.agentType, sessionId: m.sessionId },
          'agent message expired',
        );
      }
      expired = purged.length;
    } catch (err) {
      this.log.error({ err }, 'purging expired agent messages failed');
    }
    const keepMs = this.opts.deadLetterRetentionMs ?? 0;
    if (keepMs > 0) {
      try {
        const pruned = await this.store.pruneDeadLetters(now - keepMs);
        if (pruned > 0) {
          this.metrics.deadLettersPruned.inc(pruned);
          this.log.info({ pruned }, 'old dead letters pruned');
        }
      } catch (err) {
        this.log.error({ err }, 'pruning old dead letters failed');
      }
    }
    return expired;
  }

  // One store call: the idempotency key, the rate window, the seq and the message are one
  // atomic step there (one round trip on Redis).
  private async admit(sessionId: string, input: ResolvedInput): Promise<PublishResult> {
    const now = this.now();
    const limit = this.opts.rateLimits[input.agentType];
    const key = input.idempotencyKey;
    let message: AgentMessage;
    try {
      message = await this.store.appendAgentMessage(
        {
          id: newId('am_', now),
          role: 'assistant',
          content: input.content,
          timestamp: new Date(now).toISOString(),
          agentType: input.agentType,
          priority: input.priority,
          ttl: input.ttl,
          expiresAt: new Date(now + input.ttl).toISOString(),
          deliveryGuarantee: input.deliveryGuarantee,
          source: input.source,
          sessionId,
          ...(input.correlationId !== undefined && { correlationId: input.correlationId }),
          ...(input.data !== undefined && { data: input.data }),
        },
        isStored(input.deliveryGuarantee),
        {
          ...(key && { idempotency: { key, expiresAtMs: now + input.ttl, nowMs: now } }),
          // high and critical neither count nor wait, but still carry what the limit refused before them.
          ...(limit > 0 && {
            rateWindow: {
              limit,
              nowMs: now,
              bypass: input.priority === 'high' || input.priority === 'critical',
            },
          }),
        },
      );
    } catch (err) {
      // The key was admitted before (perhaps on another instance): that message stands for this one.
      if (err instanceof DuplicateAdmissionError) {
        if (this.broker !== localBroker) await this.wakeAgain(sessionId, err.record.seq);
        return { duplicate: true, ...err.record, sessionId };
      }
      if (err instanceof RateWindowFullError) {
        this.drop(input.agentType, 'rate_limited', { sessionId });
        throw new HeraldError(
          'rate_limited',
          `At most ${limit} ${input.agentType} messages a minute in one session.`,
          {
            retryAfter: Math.max(1, Math.ceil(err.retryAfterMs / 1000)),
          },
        );
      }
      throw err;
    }
    this.metrics.created.inc({ agentType: message.agentType });
    // Another instance's admission whose wake-up has not come yet must not be overtaken (its
    // wake-up would then be dropped as already sent): what the store holds in between goes first.
    if (this.broker !== localBroker) await this.catchUp(sessionId, message.seq);
    this.dispatch(message, now);
    if (this.broker !== localBroker) this.broker.publish(message, messageJson(message));
    return { duplicate: false, message };
  }

  /** First sends of a new message to every live channel of its session. */
  private dispatch(message: AgentMessage, admittedAt: number): void {
    const states = this.sessions.get(message.sessionId);
    if (!states || states.length === 0) {
      // Another instance may hold the session's channels: it counts its own drops.
      if (!isStored(message.deliveryGuarantee) && this.broker === localBroker)
        this.drop(message.agentType, 'no_channel', message);
      return;
    }
    this.sent(message.sessionId, message.seq);
    const json = messageJson(message);
    let first = true;
    for (const state of states) {
      if (this.sendOn(state, message, json) && first) {
        first = false;
        this.metrics.firstSend.observe({ agentType: message.agentType }, (this.now() - admittedAt) / 1000);
      }
    }
  }

  private async replayLocked(state: ChannelState, afterSeq: number): Promise<void> {
    let cursor = afterSeq;
    for (;;) {
      const page = await this.store.listPending(state.channel.sessionId, cursor, REPLAY_PAGE, this.now());
      for (const message of page) {
        this.sendOn(state, message, messageJson(message));
        this.sent(message.sessionId, message.seq);
      }
      if (page.length < REPLAY_PAGE) return;
      cursor = page[page.length - 1]!.seq;
    }
  }

  /** One send on one channel; schedules the redelivery of stored messages. Returns true if written. */
  private sendOn(state: ChannelState, message: AgentMessage, json: string): boolean {
    if (state.closed) return false;
    if (Date.parse(message.expiresAt) <= this.now()) return false;
    const prior = state.inflight.get(message.id);
    const attempt = (prior?.attempt ?? 0) + 1;
    let outcome: SendOutcome;
    try {
      outcome = state.channel.send(message, json, attempt);
    } catch (err) {
      this.log.warn({ err, agentMessageId: message.id }, 'agent message send failed');
      outcome = 'closed';
    }
    if (outcome === 'shed' || outcome === 'closed') {
      // Stored messages stay pending for the next delivery; only best-effort ones are lost.
      if (outcome === 'shed' || !isStored(message.deliveryGuarantee))
        this.drop(message.agentType, outcome === 'shed' ? 'backpressure' : 'send_failed', message);
      return false;
    }
    if (outcome === 'deferred') return true;
    this.metrics.delivered.inc({ agentType: message.agentType, transport: state.channel.transport });
    if (attempt > 1) this.metrics.redelivered.inc({ agentType: message.agentType });
    if (isStored(message.deliveryGuarantee) && state.channel.redeliver) {
      prior?.timer?.cancel();
      const entry: InFlight = { message, json, attempt, timer: undefined };
      const delay = Math.min(this.opts.ackTimeoutMs * 2 ** (attempt - 1), MAX_TIMER_MS);
      entry.timer = this.timers.schedule(delay, () => void this.onAckTimeout(state, entry));
      if (state.inflight === NO_INFLIGHT) state.inflight = new Map();
      state.inflight.set(message.id, entry);
    }
    return true;
  }

  private async onAckTimeout(state: ChannelState, entry: InFlight): Promise<void> {
    const { message } = entry;
    if (state.closed || state.inflight.get(message.id) !== entry) return;
    try {
      await this.withLock(message.sessionId, async () => {
        if (state.closed || state.inflight.get(message.id) !== entry) return;
        const stillPending = await this.store.pendingIds(message.sessionId, [message.id]);
        if (!stillPending.has(message.id) || Date.parse(message.expiresAt) <= this.now()) {
          state.inflight.delete(message.id);
          return;
        }
        if (entry.attempt >= this.opts.maxAttempts) {
          // This connection gives up; the message stays pending for resume, poll and SSE.
          // A resume past the last try sends it once more without a second dead letter.
          entry.timer = undefined;
          if (entry.attempt > this.opts.maxAttempts) return;
          await this.store.addDeadLetter({
            message,
            attempts: entry.attempt,
            reason: `no ack after ${entry.attempt} sends on one connection`,
            at: new Date(this.now()).toISOString(),
          });
          this.metrics.deadLettered.inc({ agentType: message.agentType });
          this.events.emit('dead-letter', message, entry.attempt);
          this.log.warn(
            { agentMessageId: message.id, sessionId: message.sessionId, attempts: entry.attempt },
            'agent message dead-lettered',
          );
          return;
        }
        this.sendOn(state, message, entry.json);
      });
    } catch (err) {
      this.log.error({ err, agentMessageId: message.id }, 'agent message redelivery failed');
    }
  }

  private drop(agentType: AgentType, reason: string, where: { sessionId: string; id?: string }): void {
    this.metrics.dropped.inc({ agentType, reason });
    this.log.info(
      { agentMessageId: where.id, sessionId: where.sessionId, agentType, reason },
      'agent message dropped',
    );
  }

  private find(channel: DeliveryChannel): ChannelState | undefined {
    for (const s of this.sessions.get(channel.sessionId) ?? []) if (s.channel === channel) return s;
    return undefined;
  }

  // A session's channels are a small array replaced on every change (copy on write), so a
  // dispatch that is iterating it never sees it change, and an idle connection costs one
  // element, not a Set.
  /** Returns, for a session's first channel here, the promise of its subscription (Redis). */
  private add(state: ChannelState): Promise<void> | undefined {
    const id = state.channel.sessionId;
    const list = this.sessions.get(id);
    this.sessions.set(id, [...(list ?? []), state]);
    if (list) return undefined;
    return this.broker.watch(id) ?? undefined;
  }

  /** Sends what the store holds after the last seq sent to this instance's channels of a session. */
  private async catchUpAll(sessionId: string): Promise<void> {
    try {
      await this.withLock(sessionId, () => this.catchUp(sessionId, Number.POSITIVE_INFINITY));
    } catch (err) {
      this.log.warn({ err, sessionId }, 'catching up after subscribing failed');
    }
  }

  /** Remembers the newest seq sent on a session, which only a wake-up from another instance needs. */
  private sent(sessionId: string, seq: number): void {
    if (this.broker === localBroker) return;
    const last = this.lastSent.get(sessionId);
    if (last === undefined || seq > last) this.lastSent.set(sessionId, seq);
  }

  /**
   * A message another instance admitted into a session this instance holds channels of: sent
   * in seq order after what the store says was missed since the last one sent here (a wake-up
   * lost or overtaken), never twice on the way.
   */
  private async receiveRemote(message: AgentMessage): Promise<void> {
    const sessionId = message.sessionId;
    if (!this.sessions.has(sessionId)) return;
    try {
      await this.withLock(sessionId, async () => {
        const last = this.lastSent.get(sessionId);
        if (last !== undefined && message.seq <= last) return;
        await this.catchUp(sessionId, message.seq);
        this.dispatch(message, this.now());
      });
    } catch (err) {
      this.log.error({ err, sessionId }, 'agent message from another instance not delivered');
    }
  }

  /**
   * A repeat of a keyed publish: the instance that admitted the first may have died before its
   * wake-up went out (the repeat is usually a retry after exactly that), leaving the message in
   * the store with no live delivery until the next message or reconnect. So wake the session
   * again: this instance's channels first, then the others (who drop it if they had it).
   */
  private async wakeAgain(sessionId: string, seq: number): Promise<void> {
    const [message] = await this.store.listPending(sessionId, seq - 1, 1, this.now());
    // Acked, expired or never stored (best-effort): nothing is owed.
    if (!message || message.seq !== seq) return;
    await this.catchUp(sessionId, seq + 1);
    this.broker.publish(message, messageJson(message));
  }

  /**
   * Under the session's lock, before sending `seq` to this instance's channels: sends first what
   * the store holds between the last seq sent here and `seq` (admitted on another instance, its
   * wake-up lost or not here yet), so no stored message is overtaken and then skipped. With
   * `seq` Infinity: what the store holds after the last seq sent (wake-ups lost wholesale).
   */
  private async catchUp(sessionId: string, seq: number): Promise<void> {
    const last = this.lastSent.get(sessionId);
    if (last === undefined || seq <= last + 1 || !this.sessions.has(sessionId)) return;
    // Before a known seq, every message in between; with none (Infinity), a replay page.
    const limit = Number.isFinite(seq) ? seq - last - 1 : REPLAY_PAGE;
    const missed = await this.store.listPending(sessionId, last, limit, this.now());
    for (const m of missed) if (m.seq < seq) this.dispatch(m, this.now());
  }

  /** The function that detaches `state` (a closure over it alone, kept as long as the connection). */
  private detacher(state: ChannelState): () => void {
    return () => this.detach(state);
  }

  private detach(state: ChannelState): void {
    this.forget(state);
    const id = state.channel.sessionId;
    const list = this.sessions.get(id);
    if (!list) return;
    const rest = list.filter((s) => s !== state);
    if (rest.length > 0) {
      this.sessions.set(id, rest);
      return;
    }
    this.sessions.delete(id);
    this.lastSent.delete(id);
    this.broker.unwatch(id);
  }

  private forget(state: ChannelState): void {
    state.closed = true;
    for (const entry of state.inflight.values()) entry.timer?.cancel();
    state.inflight = NO_INFLIGHT;
  }

  /** Runs admissions, replays and redeliveries of one session one at a time, so sends keep seq order. */
  private withLock<T>(sessionId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(sessionId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(sessionId, tail);
    void tail.then(() => {
      if (this.locks.get(sessionId) === tail) this.locks.delete(sessionId);
    });
    return run;
  }
}
