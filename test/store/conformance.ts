/**
 * The one conformance suite every Store runs (memory, SQLite, later Redis): what the router
 * may rely on, written once. Each test gets a fresh store from `make`, closed afterwards.
 */
import fc from 'fast-check';
import { ulid } from 'ulid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentMessage } from '../../src/agent-messages/types.js';
import { WINDOW_MS } from '../../src/store/rate-window.js';
import { DuplicateAdmissionError, RateWindowFullError, UnknownSessionError } from '../../src/store/shared.js';
import type {
  AgentMessageDraft,
  DeadLetter,
  RateWindowOptions,
  Session,
  Store,
  StoreLimits,
  TimelineEntry,
} from '../../src/store/store.js';

/** The clock of every test: drafts are stamped at T0 unless told otherwise. */
export const T0 = Date.parse('2026-01-01T00:00:00.000Z');
export const iso = (ms: number): string => new Date(ms).toISOString();

export function newSession(owner = 'alice', createdAtMs = T0): Session {
  return { id: `sess_${ulid()}`, owner, createdAt: iso(createdAtMs) };
}

export interface DraftOptions extends Partial<AgentMessageDraft> {
  /** When the message was made, epoch ms; default T0. `expiresAt` = this + ttl unless given. */
  atMs?: number;
}

/** A valid draft (contract section 2) for `sessionId`; ttl 5 minutes unless overridden. */
export function draft(sessionId: string, options: DraftOptions = {}): AgentMessageDraft {
  const { atMs = T0, ...fields } = options;
  const ttl = fields.ttl ?? 300_000;
  return {
    id: `am_${ulid()}`,
    role: 'assistant',
    content: '🛡️ **Sanitization Summary**: 3 characters removed.',
    timestamp: iso(atMs),
    agentType: 'sanitization',
    priority: 'medium',
    ttl,
    expiresAt: iso(atMs + ttl),
    deliveryGuarantee: 'at-least-once',
    source: 'sanitization-pipeline',
    sessionId,
    ...fields,
  };
}

const ids = (messages: readonly AgentMessage[]): string[] => messages.map((m) => m.id);
const seqs = (messages: readonly AgentMessage[]): number[] => messages.map((m) => m.seq);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

export function storeConformance(
  name: string,
  make: (limits?: StoreLimits) => Promise<{ store: Store; cleanup?: () => Promise<void> }>,
): void {
  describe(name, () => {
    let store: Store;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.();
    });

    const session = (owner = 'alice', createdAtMs = T0): Promise<Session> =>
      store.createSession(newSession(owner, createdAtMs));
    const admit = (sessionId: string, pending = true, options: DraftOptions = {}): Promise<AgentMessage> =>
      store.appendAgentMessage(draft(sessionId, options), pending);
    /** Admits a message recording idempotency key `key` until `expiresAtMs`, checked at `nowMs`. */
    const keyed = (sessionId: string, key: string, expiresAtMs: number, nowMs = T0): Promise<AgentMessage> =>
      store.appendAgentMessage(draft(sessionId, { atMs: nowMs }), true, {
        idempotency: { key, expiresAtMs, nowMs },
      });
    const pendingNow = (sessionId: string, afterSeq = 0): Promise<AgentMessage[]> =>
      store.listPending(sessionId, afterSeq, 1000, T0);

    describe('sessions', () => {
      it('creates a session and reads it back', async () => {
        const s = newSession();
        expect(await store.createSession(s)).toEqual(s);
        expect(await store.getSession(s.id)).toEqual(s);
      });

      it('answers undefined for an unknown session', async () => {
        expect(await store.getSession('sess_unknown')).toBeUndefined();
      });

      it('rejects a second session with the same id', async () => {
        const s = await session();
        await expect(store.createSession({ ...s, owner: 'bob' })).rejects.toThrow();
        expect(await store.getSession(s.id)).toEqual(s);
      });

      it('finds a session by chat key within its owner only', async () => {
        const alices = newSession('alice');
        await store.createSession(alices, 'chat_1');
        await session('alice'); // no chat key: never found by one

        expect(await store.findSessionByChatKey('alice', 'chat_1')).toEqual(alices);
        expect(await store.findSessionByChatKey('bob', 'chat_1')).toBeUndefined();
        expect(await store.findSessionByChatKey('alice', 'chat_2')).toBeUndefined();

        const bobs = newSession('bob');
        expect(await store.createSession(bobs, 'chat_1')).toEqual(bobs);
        expect(await store.findSessionByChatKey('bob', 'chat_1')).toEqual(bobs);
        expect(await store.findSessionByChatKey('alice', 'chat_1')).toEqual(alices);
      });

      it("returns the owner's earlier session for a chat key already used, creating nothing", async () => {
        const first = newSession('alice');
        await store.createSession(first, 'chat_1');
        const second = newSession('alice');
        expect(await store.createSession(second, 'chat_1')).toEqual(first);
        expect(await store.getSession(second.id)).toBeUndefined();
        expect(await store.listSessionIds('alice')).toEqual([first.id]);
      });

      it("lists only the owner's session ids, oldest first", async () => {
        const b = await session('alice', T0 + 2000);
        const a = await session('alice', T0 + 1000);
        await session('bob', T0);
        const c = await session('alice', T0 + 3000);
        const c2 = await session('alice', T0 + 3000); // same instant: creation order
        expect(await store.listSessionIds('alice')).toEqual([a.id, b.id, c.id, c2.id]);
        expect(await store.listSessionIds('carol')).toEqual([]);
      });
    });

    describe('timeline', () => {
      it('keeps every kind in the order things happened', async () => {
        const s = await session();
        const user: TimelineEntry = { kind: 'user', id: 'm_1', text: 'hello', timestamp: iso(T0) };
        await store.appendTimeline(s.id, user);
        const summary = await admit(s.id, true);
        const reply: TimelineEntry = { kind: 'reply', replyTo: 'm_1', text: 'hi', timestamp: iso(T0 + 5) };
        await store.appendTimeline(s.id, reply);
        const status = await admit(s.id, false, { agentType: 'status', deliveryGuarantee: 'best-effort' });

        expect(await store.readTimeline(s.id)).toEqual([
          user,
          { kind: 'agent_message', message: summary, timestamp: summary.timestamp },
          reply,
          { kind: 'agent_message', message: status, timestamp: status.timestamp },
        ]);
      });

      it('reads only the newest entries when asked, still oldest first', async () => {
        const s = await session();
        const entries: TimelineEntry[] = [1, 2, 3, 4].map((n) => ({
          kind: 'user',
          id: `m_${n}`,
          text: `t${n}`,
          timestamp: iso(T0 + n),
        }));
        for (const e of entries) await store.appendTimeline(s.id, e);
        expect(await store.readTimeline(s.id, 2)).toEqual(entries.slice(2));
        expect(await store.readTimeline(s.id, 10)).toEqual(entries);
        expect(await store.readTimeline(s.id, 0)).toEqual([]);
      });

      it('keeps sessions apart', async () => {
        const a = await session();
        const b = await session();
        const inA: TimelineEntry = { kind: 'user', id: 'm_a', text: 'in a', timestamp: iso(T0) };
        const inB: TimelineEntry = { kind: 'user', id: 'm_b', text: 'in b', timestamp: iso(T0) };
        await store.appendTimeline(a.id, inA);
        await store.appendTimeline(b.id, inB);
        const m = await admit(b.id);
        expect(await store.readTimeline(a.id)).toEqual([inA]);
        expect(await store.readTimeline(b.id)).toEqual([
          inB,
          { kind: 'agent_message', message: m, timestamp: m.timestamp },
        ]);
      });

      it('reads an unknown session as empty and rejects writes to it', async () => {
        expect(await store.readTimeline('sess_unknown')).toEqual([]);
        const entry: TimelineEntry = { kind: 'user', id: 'm_1', text: 'x', timestamp: iso(T0) };
        await expect(store.appendTimeline('sess_unknown', entry)).rejects.toBeInstanceOf(UnknownSessionError);
      });
    });

    describe('appendAgentMessage', () => {
      it('gives each session its own seq 1, 2, 3', async () => {
        const a = await session();
        const b = await session();
        const order = [a, a, b, a, b, b];
        const got: number[] = [];
        for (const s of order) got.push((await admit(s.id)).seq);
        expect(got).toEqual([1, 2, 1, 3, 2, 3]);
      });

      it('returns the draft with its seq', async () => {
        const s = await session();
        const d = draft(s.id, { correlationId: 'm_42', data: { originalLength: 120, finalLength: 97 } });
        expect(await store.appendAgentMessage(d, true)).toEqual({ ...d, seq: 1 });
      });

      it('gives 50 concurrent appends distinct, gap-free seqs', async () => {
        const a = await session();
        const b = await session();
        const made = await Promise.all(range(1, 100).map((i) => admit(i % 2 ? a.id : b.id)));
        for (const s of [a, b]) {
          const mine = made.filter((m) => m.sessionId === s.id);
          expect(seqs(mine).sort((x, y) => x - y)).toEqual(range(1, 50));
          expect(seqs(await pendingNow(s.id))).toEqual(range(1, 50));
        }
      });

      it('puts a non-pending message in the timeline only, still using a seq', async () => {
        const s = await session();
        const bestEffort = await admit(s.id, false, { deliveryGuarantee: 'best-effort' });
        const next = await admit(s.id, true);
        expect([bestEffort.seq, next.seq]).toEqual([1, 2]);
        expect(ids(await pendingNow(s.id))).toEqual([next.id]);
        expect(await store.pendingIds(s.id, [bestEffort.id, next.id])).toEqual(new Set([next.id]));
        expect(
          (await store.readTimeline(s.id)).map((e) => e.kind === 'agent_message' && e.message.id),
        ).toEqual([bestEffort.id, next.id]);
      });

      it('rejects a message for a missing session and changes nothing', async () => {
        const d = draft('sess_missing');
        await expect(store.appendAgentMessage(d, true)).rejects.toBeInstanceOf(UnknownSessionError);
        expect(await store.readTimeline('sess_missing')).toEqual([]);
        expect(await store.pendingIds('sess_missing', [d.id])).toEqual(new Set());
        expect(await store.purgeExpired(Number.MAX_SAFE_INTEGER)).toEqual([]);
      });

      it("keeps its own copy: later changes to the draft or the result don't reach the store", async () => {
        const s = await session();
        const d = draft(s.id, { data: { nested: { n: 1 } } });
        const expected = { ...structuredClone(d), seq: 1 };
        const m = await store.appendAgentMessage(d, true);
        d.content = 'changed';
        (d.data as { nested: { n: number } }).nested.n = 2;
        try {
          (m as { content: string }).content = 'changed'; // the memory store freezes what it returns
        } catch {
          // a frozen result is fine too
        }
        expect(await pendingNow(s.id)).toEqual([expected]);
        expect(await store.readTimeline(s.id)).toEqual([
          { kind: 'agent_message', message: expected, timestamp: expected.timestamp },
        ]);
      });
    });

    describe('listPending', () => {
      it('lists after a seq, in seq order, up to a limit', async () => {
        const s = await session();
        const made: AgentMessage[] = [];
        for (let i = 0; i < 6; i++) made.push(await admit(s.id));
        expect(seqs(await store.listPending(s.id, 0, 100, T0))).toEqual([1, 2, 3, 4, 5, 6]);
        expect(seqs(await store.listPending(s.id, 2, 100, T0))).toEqual([3, 4, 5, 6]);
        expect(seqs(await store.listPending(s.id, 2, 3, T0))).toEqual([3, 4, 5]);
        expect(await store.listPending(s.id, 6, 100, T0)).toEqual([]);
        expect(await store.listPending(s.id, 0, 0, T0)).toEqual([]);
        expect(await store.listPending(s.id, 0, 100, T0)).toEqual(made);
      });

      it('skips messages that expire at or before now', async () => {
        const s = await session();
        const short = await admit(s.id, true, { ttl: 1000 });
        const long = await admit(s.id, true, { ttl: 2000 });
        expect(ids(await store.listPending(s.id, 0, 10, T0 + 999))).toEqual([short.id, long.id]);
        expect(ids(await store.listPending(s.id, 0, 10, T0 + 1000))).toEqual([long.id]);
        expect(ids(await store.listPending(s.id, 0, 1, T0 + 1000))).toEqual([long.id]);
        expect(await store.listPending(s.id, 0, 10, T0 + 2000)).toEqual([]);
      });

      it('keeps sessions apart and lists an unknown session as empty', async () => {
        const a = await session();
        const b = await session();
        const inA = await admit(a.id);
        const inB = await admit(b.id);
        expect(await pendingNow(a.id)).toEqual([inA]);
        expect(await pendingNow(b.id)).toEqual([inB]);
        expect(await pendingNow('sess_unknown')).toEqual([]);
      });
    });

    describe('pendingIds and ack', () => {
      it('says which ids are still pending in the session', async () => {
        const a = await session();
        const b = await session();
        const [m1, m2] = [await admit(a.id), await admit(a.id)];
        const other = await admit(b.id);
        expect(await store.pendingIds(a.id, [m1.id, m2.id, other.id, 'am_unknown'])).toEqual(
          new Set([m1.id, m2.id]),
        );
        expect(await store.pendingIds(a.id, [])).toEqual(new Set());
        await store.ack(a.id, [m1.id]);
        expect(await store.pendingIds(a.id, [m1.id, m2.id])).toEqual(new Set([m2.id]));
      });

      it('counts expired messages not yet purged as pending', async () => {
        const s = await session();
        const m = await admit(s.id, true, { ttl: 1000 });
        expect(await store.pendingIds(s.id, [m.id])).toEqual(new Set([m.id]));
        expect(await store.ack(s.id, [m.id])).toBe(1);
      });

      it('acks only pending ids of the session and returns how many', async () => {
        const a = await session();
        const b = await session();
        const [m1, m2, m3] = [await admit(a.id), await admit(a.id), await admit(a.id)];
        const other = await admit(b.id);

        expect(await store.ack(a.id, [m1.id, m3.id, m1.id, 'am_unknown', other.id])).toBe(2);
        expect(ids(await pendingNow(a.id))).toEqual([m2.id]);
        expect(ids(await pendingNow(b.id))).toEqual([other.id]); // not acked through session a
        expect(await store.ack(a.id, [m1.id])).toBe(0); // already acked
        expect(await store.ack(a.id, [])).toBe(0);
        expect(await store.ack('sess_unknown', [m2.id])).toBe(0);
        expect(ids(await pendingNow(a.id, 0))).toEqual([m2.id]);
      });

      it('never lists an acked message again, while the timeline keeps it', async () => {
        const s = await session();
        const m = await admit(s.id);
        expect(await store.ack(s.id, [m.id])).toBe(1);
        expect(await pendingNow(s.id)).toEqual([]);
        expect(await store.listPending(s.id, 0, 10, 0)).toEqual([]);
        expect(await store.purgeExpired(Number.MAX_SAFE_INTEGER)).toEqual([]);
        expect(await store.readTimeline(s.id)).toEqual([
          { kind: 'agent_message', message: m, timestamp: m.timestamp },
        ]);
      });

      it('takes id lists longer than any bound-variable limit', async () => {
        const s = await session();
        const made = [await admit(s.id), await admit(s.id), await admit(s.id)];
        const many = [...range(1, 40_000).map((i) => `am_${i}`), made[0]!.id, made[2]!.id];
        expect(await store.pendingIds(s.id, many)).toEqual(new Set([made[0]!.id, made[2]!.id]));
        expect(await store.ack(s.id, many)).toBe(2);
        expect(ids(await pendingNow(s.id))).toEqual([made[1]!.id]);
      });
    });

    describe('purgeExpired', () => {
      it('returns and removes expired messages of every session, keeping the timeline copy', async () => {
        const a = await session();
        const b = await session();
        const expiredA = await admit(a.id, true, { ttl: 1000 });
        const liveA = await admit(a.id, true, { ttl: 5000 });
        const expiredB = await admit(b.id, true, { ttl: 2000 });
        await admit(b.id, false, { ttl: 1000 }); // never pending: never purged
        expect(await store.countPending()).toBe(3);

        const purged = await store.purgeExpired(T0 + 2000);
        expect(await store.countPending()).toBe(1);
        expect(purged.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
          [expiredA, expiredB].sort((x, y) => x.id.localeCompare(y.id)),
        );
        expect(await store.pendingIds(a.id, [expiredA.id, liveA.id])).toEqual(new Set([liveA.id]));
        expect(await store.pendingIds(b.id, [expiredB.id])).toEqual(new Set());
        expect(await store.listPending(a.id, 0, 10, 0)).toEqual([liveA]);
        expect(await store.purgeExpired(T0 + 2000)).toEqual([]);
        const timeline = await store.readTimeline(a.id);
        expect(timeline.map((e) => e.kind === 'agent_message' && e.message.id)).toEqual([
          expiredA.id,
          liveA.id,
        ]);
      });

      it('removes expired idempotency keys', async () => {
        const s = await session();
        const old = await keyed(s.id, 'old', T0 + 1000);
        const fresh = await keyed(s.id, 'new', T0 + 5000);
        await store.purgeExpired(T0 + 1000);
        // Asked with an earlier clock: gone, not just filtered out.
        expect(await store.getIdempotency(s.id, 'old', T0)).toBeUndefined();
        expect(await store.getIdempotency(s.id, 'new', T0)).toEqual({ id: fresh.id, seq: fresh.seq });
        expect(old.seq).toBe(1);
      });

      it('purges again what is admitted after a purge, in a session purged before', async () => {
        const s = await session();
        const first = await admit(s.id, true, { ttl: 1000 });
        expect(ids(await store.purgeExpired(T0 + 1000))).toEqual([first.id]);
        const second = await admit(s.id, true, { ttl: 2000 });
        const third = await admit(s.id, true, { ttl: 500, atMs: T0 + 1000 });
        expect(ids(await store.purgeExpired(T0 + 1500))).toEqual([third.id]);
        expect(ids(await store.purgeExpired(T0 + 2000))).toEqual([second.id]);
        expect(await store.countPending()).toBe(0);
      });
    });

    describe('idempotency', () => {
      it('keeps a record per session and key until it expires', async () => {
        const a = await session();
        const b = await session();
        expect(await store.getIdempotency(a.id, 'k', T0)).toBeUndefined();
        const m = await keyed(a.id, 'k', T0 + 1000);
        expect(await store.getIdempotency(a.id, 'k', T0)).toEqual({ id: m.id, seq: m.seq });
        expect(await store.getIdempotency(a.id, 'k', T0 + 999)).toEqual({ id: m.id, seq: m.seq });
        expect(await store.getIdempotency(a.id, 'k', T0 + 1000)).toBeUndefined();
        expect(await store.getIdempotency(b.id, 'k', T0)).toBeUndefined();
        expect(await store.getIdempotency(a.id, 'other', T0)).toBeUndefined();
        // The same key in another session is another key.
        expect((await keyed(b.id, 'k', T0 + 1000)).seq).toBe(1);
      });

      it('replaces the record of an expired key used again', async () => {
        const s = await session();
        await keyed(s.id, 'k', T0 + 1000);
        const again = await keyed(s.id, 'k', T0 + 9000, T0 + 1000);
        expect(await store.getIdempotency(s.id, 'k', T0 + 5000)).toEqual({ id: again.id, seq: 2 });
        // Purged at its new expiry, not its old one.
        await store.purgeExpired(T0 + 1000);
        expect(await store.getIdempotency(s.id, 'k', T0 + 5000)).toEqual({ id: again.id, seq: 2 });
      });

      it('records a key with the message it admits, in the same step', async () => {
        const s = await session();
        const m = await store.appendAgentMessage(draft(s.id), true, {
          idempotency: { key: 'deploy-1', expiresAtMs: T0 + 1000, nowMs: T0 },
        });
        expect(await store.getIdempotency(s.id, 'deploy-1', T0)).toEqual({ id: m.id, seq: m.seq });
        expect(await store.getIdempotency(s.id, 'deploy-1', T0 + 1000)).toBeUndefined();
      });

      it('admits once per unexpired key, atomically: the rest get the first one', async () => {
        const s = await session();
        const idempotency = { key: 'deploy-2', expiresAtMs: T0 + 1000, nowMs: T0 };
        const settled = await Promise.allSettled(
          range(1, 10).map(() => store.appendAgentMessage(draft(s.id), true, { idempotency })),
        );
        const admitted = settled.filter((r) => r.status === 'fulfilled');
        expect(admitted).toHaveLength(1);
        const first = (admitted[0] as PromiseFulfilledResult<AgentMessage>).value;
        for (const r of settled.filter((r) => r.status === 'rejected')) {
          expect(r.reason).toBeInstanceOf(DuplicateAdmissionError);
          expect(r.reason.record).toEqual({ id: first.id, seq: first.seq });
        }
        expect(seqs(await pendingNow(s.id))).toEqual([1]);
        // Once the key has expired, the same key admits again.
        const again = await store.appendAgentMessage(draft(s.id), true, {
          idempotency: { ...idempotency, expiresAtMs: T0 + 5000, nowMs: T0 + 1000 },
        });
        expect(again.seq).toBe(2);
      });

      it('records no key when the admission fails', async () => {
        await expect(
          store.appendAgentMessage(draft('sess_missing'), true, {
            idempotency: { key: 'k', expiresAtMs: T0 + 1000, nowMs: T0 },
          }),
        ).rejects.toBeInstanceOf(UnknownSessionError);
        expect(await store.getIdempotency('sess_missing', 'k', T0)).toBeUndefined();
      });
    });

    describe('rate window', () => {
      const limited = (sessionId: string, nowMs: number, options: Partial<RateWindowOptions> = {}) =>
        store.appendAgentMessage(draft(sessionId, { atMs: nowMs, agentType: 'status' }), true, {
          rateWindow: { limit: 2, nowMs, ...options },
        });
      const refusal = async (promise: Promise<unknown>): Promise<number> => {
        const err = await promise.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(RateWindowFullError);
        return (err as RateWindowFullError).retryAfterMs;
      };

      it('admits up to the limit in any 60 s, refuses the rest, and the next carries the count', async () => {
        const s = await session();
        expect((await limited(s.id, T0)).data).toBeUndefined();
        expect((await limited(s.id, T0 + 10)).seq).toBe(2);
        expect(await refusal(limited(s.id, T0 + 20))).toBe(WINDOW_MS - 20);
        expect(await refusal(limited(s.id, T0 + 30))).toBe(WINDOW_MS - 30);
        // A refusal admits nothing: no seq taken, nothing pending.
        expect(seqs(await pendingNow(s.id))).toEqual([1, 2]);
        // The first admission leaves the window: the next one carries both refusals.
        const next = await limited(s.id, T0 + WINDOW_MS + 1);
        expect(next).toMatchObject({ seq: 3, data: { suppressed: 2 } });
        expect((await store.listPending(s.id, 2, 10, T0))[0]).toEqual(next);
        expect((await limited(s.id, T0 + WINDOW_MS + 11)).data).toBeUndefined();
      });

      it('keeps its own data beside the count, which replaces a suppressed the caller gave', async () => {
        const s = await session();
        await limited(s.id, T0);
        await limited(s.id, T0);
        await refusal(limited(s.id, T0));
        const m = await store.appendAgentMessage(
          draft(s.id, { agentType: 'status', data: { step: 'index', suppressed: 99 } }),
          true,
          { rateWindow: { limit: 2, nowMs: T0 + WINDOW_MS } },
        );
        expect(m.data).toEqual({ step: 'index', suppressed: 1 });
        expect((await store.readTimeline(s.id)).at(-1)).toMatchObject({ message: { data: m.data } });
      });

      it('keeps sessions and types apart; a bypass neither counts nor waits but carries the count', async () => {
        const a = await session();
        const b = await session();
        await limited(a.id, T0, { limit: 1 });
        await limited(b.id, T0, { limit: 1 });
        const otherType = await store.appendAgentMessage(draft(a.id, { agentType: 'error' }), true, {
          rateWindow: { limit: 1, nowMs: T0 },
        });
        expect(otherType.seq).toBe(2);
        await refusal(limited(a.id, T0 + 1, { limit: 1 }));
        const urgent = await limited(a.id, T0 + 2, { limit: 1, bypass: true });
        expect(urgent.data).toEqual({ suppressed: 1 });
        expect((await limited(a.id, T0 + 3, { limit: 1, bypass: true })).data).toBeUndefined();
        await refusal(limited(a.id, T0 + 4, { limit: 1 }));
      });

      it('counts nothing for a duplicate key or a missing session', async () => {
        const s = await session();
        const idempotency = { key: 'k', expiresAtMs: T0 + 1000, nowMs: T0 };
        const rateWindow = { limit: 1, nowMs: T0 };
        await store.appendAgentMessage(draft(s.id), true, { idempotency, rateWindow });
        await expect(
          store.appendAgentMessage(draft(s.id), true, { idempotency, rateWindow }),
        ).rejects.toBeInstanceOf(DuplicateAdmissionError);
        await expect(
          store.appendAgentMessage(draft('sess_missing'), true, { rateWindow }),
        ).rejects.toBeInstanceOf(UnknownSessionError);
        // The duplicate was not a refusal: the next admission carries nothing.
        const later = await store.appendAgentMessage(draft(s.id), true, {
          rateWindow: { limit: 1, nowMs: T0 + WINDOW_MS },
        });
        expect(later.data).toBeUndefined();
      });
    });

    describe('writes asked for together', () => {
      it('keep their order and fail one by one: a bad write fails only itself', async () => {
        const s = await session();
        const asked = [
          store.appendTimeline(s.id, { kind: 'user', id: 'm_1', text: 'one', timestamp: iso(T0) }),
          store.appendTimeline('sess_missing', { kind: 'user', id: 'm_x', text: 'lost', timestamp: iso(T0) }),
          store.appendAgentMessage(draft(s.id), true),
          store.appendAgentMessage(draft('sess_missing'), true),
          store.appendTimeline(s.id, { kind: 'reply', replyTo: 'm_1', text: 'two', timestamp: iso(T0) }),
        ];
        const settled = await Promise.allSettled(asked);
        expect(settled.map((r) => r.status)).toEqual([
          'fulfilled',
          'rejected',
          'fulfilled',
          'rejected',
          'fulfilled',
        ]);
        expect((await store.readTimeline(s.id)).map((e) => e.kind)).toEqual([
          'user',
          'agent_message',
          'reply',
        ]);
        expect(seqs(await pendingNow(s.id))).toEqual([1]);
      });

      it('are all there for a read once each has resolved', async () => {
        const s = await session();
        const made = await Promise.all(range(1, 20).map(() => admit(s.id)));
        await Promise.all([store.ack(s.id, [made[0]!.id]), store.ack(s.id, [made[1]!.id, made[2]!.id])]);
        expect(seqs(await pendingNow(s.id))).toEqual(range(4, 20));
        expect(await store.countPending()).toBe(17);
      });
    });

    describe('dead letters', () => {
      it('lists newest first, up to the limit', async () => {
        const s = await session();
        const letters: DeadLetter[] = [];
        for (let i = 0; i < 3; i++) {
          const letter = { message: await admit(s.id), attempts: 5, reason: 'no ack', at: iso(T0 + i) };
          letters.push(letter);
          await store.addDeadLetter(letter);
        }
        expect(await store.listDeadLetters(10)).toEqual([...letters].reverse());
        expect(await store.listDeadLetters(2)).toEqual([letters[2], letters[1]]);
        expect(await store.listDeadLetters(0)).toEqual([]);
      });

      it('lists none in a new store', async () => {
        expect(await store.listDeadLetters(10)).toEqual([]);
      });

      it('prunes the letters older than a time, keeping the rest in order', async () => {
        const s = await session();
        const letters: DeadLetter[] = [];
        for (const at of [0, 1000, 2000, 3000]) {
          const letter = { message: await admit(s.id), attempts: 1, reason: 'no ack', at: iso(T0 + at) };
          letters.push(letter);
          await store.addDeadLetter(letter);
        }
        expect(await store.pruneDeadLetters(T0 + 2000)).toBe(2);
        expect(await store.listDeadLetters(10)).toEqual([letters[3], letters[2]]);
        expect(await store.pruneDeadLetters(T0 + 2000)).toBe(0);
        expect(await store.pruneDeadLetters(T0 + 10_000)).toBe(2);
        expect(await store.listDeadLetters(10)).toEqual([]);
      });
    });

    describe('retention', () => {
      const user = (text: string, atMs = T0): TimelineEntry => ({
        kind: 'user',
        id: `m_${text}`,
        text,
        timestamp: iso(atMs),
      });

      it('lists sessions idle since before a time, least recently active first', async () => {
        const a = await session('alice', T0);
        const b = await session('alice', T0 + 10);
        const c = await session('bob', T0 + 20);
        await store.appendTimeline(a.id, user('late', T0 + 5000));
        await store.appendAgentMessage(draft(b.id, { atMs: T0 + 3000 }), true);
        expect(await store.listIdleSessions(T0 + 4000, 10)).toEqual([c.id, b.id]);
        expect(await store.listIdleSessions(T0 + 4000, 1)).toEqual([c.id]);
        expect(await store.listIdleSessions(T0 + 10_000, 10)).toEqual([c.id, b.id, a.id]);
        expect(await store.listIdleSessions(T0, 10)).toEqual([]);
        // A touch counts as activity; an unknown id is ignored.
        await store.touchSessions([c.id, 'sess_missing'], T0 + 6000);
        expect(await store.listIdleSessions(T0 + 5500, 10)).toEqual([b.id, a.id]);
      });

      it('deletes an idle session only if it is still idle', async () => {
        const s = await session('alice', T0);
        await store.appendTimeline(s.id, user('hi', T0 + 1000));
        expect(await store.deleteSession(s.id, { idleBeforeMs: T0 + 1000 })).toBeUndefined();
        expect(await store.getSession(s.id)).toEqual(s);
        expect(await store.deleteSession(s.id, { idleBeforeMs: T0 + 1001 })).toEqual({ entries: 1 });
        expect(await store.getSession(s.id)).toBeUndefined();
        expect(await store.listIdleSessions(T0 + 10_000, 10)).toEqual([]);
      });

      it('keeps the newest entries of a long timeline, and a pending message until acked', async () => {
        const made = await make({ timelineMaxEntries: 3 });
        const limited = made.store;
        try {
          const s = await limited.createSession(newSession());
          const old = await limited.appendAgentMessage(draft(s.id), true);
          for (const text of ['a', 'b', 'c', 'd', 'e']) await limited.appendTimeline(s.id, user(text));
          const texts = (entries: TimelineEntry[]) =>
            entries.map((e) => (e.kind === 'user' ? e.text : e.kind));
          expect(texts(await limited.readTimeline(s.id))).toEqual(['c', 'd', 'e']);
          expect(texts(await limited.readTimeline(s.id, 2))).toEqual(['d', 'e']);
          // Dropped from the timeline, still delivered until acked.
          expect(await limited.listPending(s.id, 0, 10, T0)).toEqual([old]);
          expect(await limited.ack(s.id, [old.id])).toBe(1);
          const next = await limited.appendAgentMessage(draft(s.id), true);
          expect(next.seq).toBe(2);
          expect((await limited.readTimeline(s.id)).at(-1)).toMatchObject({ message: { id: next.id } });
          expect(await limited.deleteSession(s.id)).toBeDefined();
        } finally {
          await limited.close();
          await made.cleanup?.();
        }
      });
    });

    describe('deleteSession', () => {
      it('deletes the session and all it holds, and nothing of any other session', async () => {
        const gone = await store.createSession(newSession('alice'), 'chat_1');
        const kept = await store.createSession(newSession('alice'), 'chat_2');
        await store.appendTimeline(gone.id, { kind: 'user', id: 'm_1', text: 'hi', timestamp: iso(T0) });
        const keyed = { idempotency: { key: 'k', expiresAtMs: T0 + 1000, nowMs: T0 } };
        const m = await store.appendAgentMessage(draft(gone.id), true, keyed);
        const other = await store.appendAgentMessage(draft(kept.id), true, keyed);
        await store.addDeadLetter({ message: m, attempts: 1, reason: 'no ack', at: iso(T0) });
        await store.addDeadLetter({ message: other, attempts: 1, reason: 'no ack', at: iso(T0) });
        expect(await store.countPending()).toBe(2);

        expect(await store.deleteSession(gone.id)).toEqual({ entries: 2 });
        expect(await store.getSession(gone.id)).toBeUndefined();
        expect(await store.findSessionByChatKey('alice', 'chat_1')).toBeUndefined();
        expect(await store.listSessionIds('alice')).toEqual([kept.id]);
        expect(await store.readTimeline(gone.id)).toEqual([]);
        expect(await store.listPending(gone.id, 0, 10, T0)).toEqual([]);
        expect(await store.getIdempotency(gone.id, 'k', T0)).toBeUndefined();
        expect((await store.listDeadLetters(10)).map((l) => l.message.id)).toEqual([other.id]);
        expect(await store.countPending()).toBe(1);
        // Writes to it are refused; the other session is whole.
        await expect(store.appendAgentMessage(draft(gone.id), true)).rejects.toBeInstanceOf(
          UnknownSessionError,
        );
        await expect(
          store.appendTimeline(gone.id, { kind: 'user', id: 'm_2', text: 'again', timestamp: iso(T0) }),
        ).rejects.toBeInstanceOf(UnknownSessionError);
        expect(await store.listPending(kept.id, 0, 10, T0)).toEqual([other]);
        expect(await store.getIdempotency(kept.id, 'k', T0)).toEqual({ id: other.id, seq: 1 });
        expect(await store.findSessionByChatKey('alice', 'chat_2')).toEqual(kept);
        // Its chat key is free again: a new session, starting at seq 1.
        const again = await store.createSession(newSession('alice'), 'chat_1');
        expect(again.id).not.toBe(gone.id);
        expect((await store.appendAgentMessage(draft(again.id), true)).seq).toBe(1);
        expect(await store.purgeExpired(T0 + 1_000_000)).toHaveLength(2);
        expect(await store.countPending()).toBe(0);
      });

      it('answers false for a session it does not have', async () => {
        expect(await store.deleteSession('sess_missing')).toBeUndefined();
      });

      it('forgets the rate windows of the session', async () => {
        const s = await session();
        const rateWindow = { limit: 1, nowMs: T0 };
        await store.appendAgentMessage(draft(s.id), true, { rateWindow });
        await expect(store.appendAgentMessage(draft(s.id), true, { rateWindow })).rejects.toBeInstanceOf(
          RateWindowFullError,
        );
        await store.deleteSession(s.id);
        // The same id made again (ids are never reused in practice; the store must not care).
        await store.createSession({ ...s });
        const m = await store.appendAgentMessage(draft(s.id), true, { rateWindow });
        expect(m.data).toBeUndefined();
      });
    });

    it('closes more than once', async () => {
      await store.close();
      await store.close();
    });

    it('lists exactly what a simple model of the delivery store says (property)', async () => {
      type Op =
        | { op: 'append'; pending: boolean; ttl: number }
        | { op: 'ack'; picks: number[] }
        | { op: 'list'; after: number; limit: number; now: number };
      const op = fc.oneof(
        fc.record({
          op: fc.constant('append' as const),
          pending: fc.boolean(),
          ttl: fc.integer({ min: 1, max: 10 }),
        }),
        fc.record({ op: fc.constant('ack' as const), picks: fc.array(fc.nat(40), { maxLength: 4 }) }),
        fc.record({
          op: fc.constant('list' as const),
          after: fc.nat(20),
          limit: fc.integer({ min: 1, max: 8 }),
          now: fc.nat(11),
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops: Op[]) => {
          const s = await session();
          const model: { message: AgentMessage; stored: boolean; expiresAtMs: number }[] = [];
          for (const o of ops) {
            if (o.op === 'append') {
              const m = await admit(s.id, o.pending, { ttl: o.ttl * 1000 });
              expect(m.seq).toBe(model.length + 1);
              model.push({ message: m, stored: o.pending, expiresAtMs: T0 + o.ttl * 1000 });
            } else if (o.op === 'ack') {
              const named = o.picks.map((i) => model[i]?.message.id ?? `am_none_${i}`);
              const hit = new Set(named.filter((id) => model.some((e) => e.stored && e.message.id === id)));
              for (const e of model) if (hit.has(e.message.id)) e.stored = false;
              expect(await store.ack(s.id, named)).toBe(hit.size);
            } else {
              const now = T0 + o.now * 1000;
              const expected = model
                .filter((e) => e.stored && e.message.seq > o.after && e.expiresAtMs > now)
                .slice(0, o.limit)
                .map((e) => e.message);
              expect(await store.listPending(s.id, o.after, o.limit, now)).toEqual(expected);
            }
          }
        }),
        { numRuns: 40 },
      );
    });
  });
}
