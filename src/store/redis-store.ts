/**
 * The Redis store (ioredis 5): the same contract as the memory and SQLite stores, for many
 * Herald instances sharing one Redis. Not selectable through HERALD_STORE yet: that waits for
 * cross-instance delivery (docs/architecture.md, Stores).
 *
 * Key layout (`p` is the key prefix; every key of one session carries the `{sessionId}` hash
 * tag, so on Redis Cluster a session's keys live in one slot):
 *
 * - `p s:{id}:meta`      hash: owner, createdAt, seq (the last seq given)
 * - `p s:{id}:timeline`  list: a user or reply entry as its JSON (starts with `{`); an agent
 *                        message as `m` + its id, pointing into `msgs`
 * - `p s:{id}:msgs`      hash: agent message id → its JSON, the one copy of each message
 * - `p s:{id}:pending`   sorted set: pending message ids by seq (list after a cursor, ack by id)
 * - `p s:{id}:pexp`      hash: pending message id → expiry (epoch ms)
 * - `p s:{id}:idem`      hash: idempotency key → `expiryMs seq id`
 * - `p o:{owner}:sessions`  sorted set: the owner's session ids by createdAt (ms); each member
 *                        is a zero-padded creation number + `:` + id, so equal instants list
 *                        in creation order
 * - `p o:{owner}:chats`  hash: chat key → the session's JSON
 * - `p expiry`           sorted set: every pending message and idempotency key by expiry
 *                        (members `m|k` + sessionId length + `:` + sessionId + id or key): purge
 * - `p pending`          counter of pending messages (countPending)
 * - `p sessions:n`       counter giving each session its creation number
 * - `p deadletters`      list, newest first, capped
 *
 * Every write is one Lua script (EVALSHA through ioredis `defineCommand`), so each is atomic:
 * admission takes the seq, stores the message, links it into the timeline, marks it pending and
 * records its idempotency key in one step, or answers that the session is missing and changes
 * nothing. Expiries are stored as numbers and compared with the caller's clock (`nowMs`);
 * nothing relies on Redis TTLs.
 *
 * When Redis cannot be reached, every method rejects with `StoreUnavailableError` (503
 * `unavailable`): at once while the client knows its connection is down (nothing is queued to
 * run later), otherwise when a command fails for connection reasons (the connection closed,
 * ioredis gave up retrying, the command timed out, Redis is still loading its data). `health`
 * answers a PING within HEALTH_TIMEOUT_MS. ioredis reconnects by itself; the store needs
 * nothing to catch up.
 */
import { Redis } from 'ioredis';
import { rememberJson } from '../agent-messages/message-json.js';
import type { AgentMessage } from '../agent-messages/types.js';
import {
  DuplicateAdmissionError,
  deepFreeze,
  expiresAtMs,
  StoreUnavailableError,
  UnknownSessionError,
} from './shared.js';
import type {
  AdmitOptions,
  AgentMessageDraft,
  DeadLetter,
  IdempotencyRecord,
  Session,
  Store,
  TimelineEntry,
} from './store.js';

export interface RedisStoreOptions {
  /** e.g. `redis://127.0.0.1:6379`; unused when `redis` is given. */
  url?: string;
  /** Put before every key, e.g. `herald:`. Do not also set ioredis's own `keyPrefix`. */
  keyPrefix?: string;
  /**
   * A client to use instead of connecting to `url`; the store never quits it. Give it a
   * `maxRetriesPerRequest` and a `commandTimeout` (create-store.ts does), so that commands
   * sent just as the connection drops fail instead of waiting for Redis to come back.
   */
  redis?: Redis;
  /** How many dead letters are kept (oldest dropped first); default 10,000. */
  maxDeadLetters?: number;
}

export interface RedisStore extends Store {
  /** The keys of one session (all share its `{id}` hash tag). */
  sessionKeys(sessionId: string): string[];
}

/**
 * Sessions kept in memory (first in, first out). Sessions never change and are never deleted
 * once made, so a copy read once stays right on every instance.
 */
const SESSION_CACHE_SIZE = 10_000;
/** Ids asked about (pendingIds, ack) per round trip. */
const ID_CHUNK = 5_000;
/** Expiry index members handled per purge script run. */
const PURGE_BATCH = 1_000;

/** How long `health` waits for Redis to answer a PING. */
const HEALTH_TIMEOUT_MS = 1_000;

// Return codes shared by the scripts.
const MISSING = -1;

const SCRIPTS = {
  // KEYS meta, ownerSessions, ownerChats, sessionCounter
  // ARGV id, owner, createdAt, createdAtMs, hasChatKey, chatKey, sessionJson
  heraldCreateSession: {
    numberOfKeys: 4,
    lua: `
if ARGV[5] == '1' then
  local earlier = redis.call('HGET', KEYS[3], ARGV[6])
  if earlier then return {'earlier', earlier} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'createdAt', ARGV[3], 'seq', 0)
local n = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[2], ARGV[4], string.format('%016d', n) .. ':' .. ARGV[1])
if ARGV[5] == '1' then redis.call('HSET', KEYS[3], ARGV[6], ARGV[7]) end
return {'created'}
`,
  },
  // KEYS meta, timeline; ARGV entryJson
  heraldAppendTimeline: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return ${MISSING} end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
`,
  },
  // KEYS meta, timeline, msgs, pending, pexp, idem, expiry, pendingCount
  // ARGV id, head (the draft's JSON without its closing brace), pending, expiryMs,
  //      expiryMember, hasKey, key, keyValueTail, keyExpiryMs, keyMember, nowMs
  // Returns the seq, MISSING, or {seq, id} of the message an unexpired key already stands for.
  heraldAdmit: {
    numberOfKeys: 8,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return ${MISSING} end
if ARGV[6] == '1' then
  local prior = redis.call('HGET', KEYS[6], ARGV[7])
  if prior then
    local expiry, pseq, pid = string.match(prior, '^(%S+) (%S+) (.+)$')
    if tonumber(expiry) > tonumber(ARGV[11]) then return {tonumber(pseq), pid} end
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local id = ARGV[1]
redis.call('HSET', KEYS[3], id, ARGV[2] .. ',"seq":' .. seq .. '}')
redis.call('RPUSH', KEYS[2], 'm' .. id)
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[4], seq, id)
  redis.call('HSET', KEYS[5], id, ARGV[4])
  redis.call('ZADD', KEYS[7], ARGV[4], ARGV[5])
  redis.call('INCR', KEYS[8])
end
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[6], ARGV[7], ARGV[9] .. ' ' .. seq .. ' ' .. ARGV[8])
  redis.call('ZADD', KEYS[7], ARGV[9], ARGV[10])
end
return seq
`,
  },
  // KEYS timeline, msgs; ARGV first index (negative counts from the end)
  heraldReadTimeline: {
    numberOfKeys: 2,
    lua: `
local items = redis.call('LRANGE', KEYS[1], ARGV[1], -1)
for i, item in ipairs(items) do
  if string.sub(item, 1, 1) == 'm' then
    items[i] = 'm' .. (redis.call('HGET', KEYS[2], string.sub(item, 2)) or 'null')
  end
end
return items
`,
  },
  // KEYS pending, pexp, msgs; ARGV afterSeq, limit, nowMs
  heraldListPending: {
    numberOfKeys: 3,
    lua: `
local limit = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local out = {}
local offset = 0
local batch = math.min(limit + 16, 1000)
while #out < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', offset, batch)
  if #ids == 0 then break end
  local exps = redis.call('HMGET', KEYS[2], unpack(ids))
  for i, id in ipairs(ids) do
    if exps[i] and tonumber(exps[i]) > now then
      out[#out + 1] = redis.call('HGET', KEYS[3], id)
      if #out >= limit then break end
    end
  end
  offset = offset + #ids
end
return out
`,
  },
  // KEYS pending, pexp, expiry, pendingCount; ARGV memberHead, ids...
  heraldAck: {
    numberOfKeys: 4,
    lua: `
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('HDEL', KEYS[2], id)
    redis.call('ZREM', KEYS[3], ARGV[1] .. id)
    n = n + 1
  end
end
if n > 0 then redis.call('DECRBY', KEYS[4], n) end
return n
`,
  },
  // KEYS meta, idem, expiry; ARGV key, value, expiryMs, member
  heraldPutIdempotency: {
    numberOfKeys: 3,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return ${MISSING} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
`,
  },
  // KEYS expiry, pendingCount; ARGV prefix, nowMs, batch
  // Returns {members handled, purged message JSON...}. The session keys are built from the
  // members, so this script alone is not Cluster-safe (see docs/architecture.md).
  heraldPurge: {
    numberOfKeys: 2,
    lua: `
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {#members}
local n = 0
for _, member in ipairs(members) do
  local kind = string.sub(member, 1, 1)
  local colon = string.find(member, ':', 2, true)
  local len = tonumber(string.sub(member, 2, colon - 1))
  local sid = string.sub(member, colon + 1, colon + len)
  local rest = string.sub(member, colon + len + 1)
  local base = ARGV[1] .. 's:{' .. sid .. '}:'
  if kind == 'm' then
    if redis.call('ZREM', base .. 'pending', rest) == 1 then
      redis.call('HDEL', base .. 'pexp', rest)
      out[#out + 1] = redis.call('HGET', base .. 'msgs', rest)
      n = n + 1
    end
  else
    redis.call('HDEL', base .. 'idem', rest)
  end
  redis.call('ZREM', KEYS[1], member)
end
if n > 0 then redis.call('DECRBY', KEYS[2], n) end
return out
`,
  },
  // KEYS deadletters; ARGV json, max
  heraldAddDeadLetter: {
    numberOfKeys: 1,
    lua: `
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1
`,
  },
} as const;

type ScriptArg = string | number;
type Scripted = {
  [K in keyof typeof SCRIPTS]: (...args: ScriptArg[]) => Promise<unknown>;
};

/** Creates a Redis store; with `url`, it connects (lazily, on the first command) and `close` quits. */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const own = options.redis === undefined;
  const redis = options.redis ?? new Redis(options.url ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
  for (const [name, script] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, script);
  }
  const run = redis as unknown as Scripted;
  const p = options.keyPrefix ?? '';
  const maxDeadLetters = options.maxDeadLetters ?? 10_000;
  let closed = false;

  const sk = (sessionId: string, part: string): string => `${p}s:{${sessionId}}:${part}`;
  const EXPIRY = `${p}expiry`;
  const PENDING_COUNT = `${p}pending`;
  const SESSION_COUNTER = `${p}sessions:n`;
  const DEAD_LETTERS = `${p}deadletters`;
  const ownerSessions = (owner: string): string => `${p}o:{${owner}}:sessions`;
  const ownerChats = (owner: string): string => `${p}o:{${owner}}:chats`;
  /** The expiry index member of a pending message (`m`) or idempotency key (`k`), minus the id/key. */
  const memberHead = (kind: 'm' | 'k', sessionId: string): string =>
    `${kind}${Buffer.byteLength(sessionId)}:${sessionId}`;

  const sessions = new Map<string, Session>();
  const remember = (session: Session): Session => {
    if (sessions.size >= SESSION_CACHE_SIZE) sessions.delete(sessions.keys().next().value!);
    sessions.set(session.id, session);
    return session;
  };
  const readSession = (json: string): Session => {
    const s = JSON.parse(json) as Session;
    return Object.freeze({ id: s.id, owner: s.owner, createdAt: s.createdAt });
  };

  // Once the client has been ready, a connection that is not ready means Redis went away:
  // refuse at once rather than queue writes that would run later, after the caller gave up.
  let wasReady = redis.status === 'ready';
  redis.on('ready', () => {
    wasReady = true;
  });
  const down = (): boolean => wasReady && redis.status !== 'ready';

  const store: RedisStore = {
    sessionKeys: (sessionId) =>
      ['meta', 'timeline', 'msgs', 'pending', 'pexp', 'idem'].map((part) => sk(sessionId, part)),

    async createSession(session, chatKey) {
      const made = Object.freeze({ id: session.id, owner: session.owner, createdAt: session.createdAt });
      const createdMs = Date.parse(session.createdAt);
      const answer = (await run.heraldCreateSession(
        sk(session.id, 'meta'),
        ownerSessions(session.owner),
        ownerChats(session.owner),
        SESSION_COUNTER,
        session.id,
        session.owner,
        session.createdAt,
        Number.isFinite(createdMs) ? createdMs : 0,
        chatKey === undefined ? '0' : '1',
        chatKey ?? '',
        JSON.stringify(made),
      )) as string[];
      if (answer[0] === 'earlier') return readSession(answer[1]!);
      if (answer[0] === 'exists') throw new Error(`session ${session.id} already exists`);
      return remember(made);
    },

    async getSession(id) {
      const known = sessions.get(id);
      if (known) return known;
      const [owner, createdAt] = await redis.hmget(sk(id, 'meta'), 'owner', 'createdAt');
      if (owner == null || createdAt == null) return undefined;
      return remember(Object.freeze({ id, owner, createdAt }));
    },

    async findSessionByChatKey(owner, chatKey) {
      const json = await redis.hget(ownerChats(owner), chatKey);
      return json == null ? undefined : readSession(json);
    },

    async listSessionIds(owner) {
      const members = await redis.zrange(ownerSessions(owner), 0, -1);
      return members.map((m) => m.slice(m.indexOf(':') + 1));
    },

    async appendTimeline(sessionId, entry) {
      const done = await run.heraldAppendTimeline(
        sk(sessionId, 'meta'),
        sk(sessionId, 'timeline'),
        JSON.stringify(entry),
      );
      if (done === MISSING) throw new UnknownSessionError(sessionId);
    },

    async readTimeline(sessionId, last) {
      if (last !== undefined && last < 1) return [];
      const items = (await run.heraldReadTimeline(
        sk(sessionId, 'timeline'),
        sk(sessionId, 'msgs'),
        last === undefined ? 0 : -Math.floor(last),
      )) as string[];
      return items.map((item): TimelineEntry => {
        if (item.startsWith('{')) return Object.freeze(JSON.parse(item) as TimelineEntry);
        const message = readMessage(item.slice(1));
        return Object.freeze({ kind: 'agent_message', message, timestamp: message.timestamp });
      });
    },

    async appendAgentMessage(draft: AgentMessageDraft, pending: boolean, admit?: AdmitOptions) {
      const expiry = expiresAtMs(draft);
      // The draft's text without its closing brace; the script appends the seq, as `{ ...draft, seq }`.
      const head = JSON.stringify({ ...draft, seq: undefined }).slice(0, -1);
      const id = draft.id;
      const sessionId = draft.sessionId;
      const key = admit?.idempotency;
      const seq = await run.heraldAdmit(
        sk(sessionId, 'meta'),
        sk(sessionId, 'timeline'),
        sk(sessionId, 'msgs'),
        sk(sessionId, 'pending'),
        sk(sessionId, 'pexp'),
        sk(sessionId, 'idem'),
        EXPIRY,
        PENDING_COUNT,
        id,
        head,
        pending ? '1' : '0',
        expiry,
        memberHead('m', sessionId) + id,
        key ? '1' : '0',
        key?.key ?? '',
        id,
        key?.expiresAtMs ?? 0,
        key ? memberHead('k', sessionId) + key.key : '',
        key?.nowMs ?? 0,
      );
      if (seq === MISSING) throw new UnknownSessionError(sessionId);
      if (Array.isArray(seq)) throw new DuplicateAdmissionError({ seq: Number(seq[0]), id: String(seq[1]) });
      return readMessage(`${head},"seq":${seq as number}}`);
    },

    async listPending(sessionId, afterSeq, limit, nowMs) {
      if (!(limit >= 1)) return [];
      const rows = (await run.heraldListPending(
        sk(sessionId, 'pending'),
        sk(sessionId, 'pexp'),
        sk(sessionId, 'msgs'),
        afterSeq,
        Math.floor(limit),
        nowMs,
      )) as string[];
      return rows.map(readMessage);
    },

    async pendingIds(sessionId, ids) {
      const found = new Set<string>();
      const key = sk(sessionId, 'pending');
      for (let i = 0; i < ids.length; i += ID_CHUNK) {
        const chunk = ids.slice(i, i + ID_CHUNK);
        const scores = await redis.zmscore(key, ...chunk);
        chunk.forEach((id, j) => {
          if (scores[j] != null) found.add(id);
        });
      }
      return found;
    },

    async ack(sessionId, ids) {
      let acked = 0;
      const head = memberHead('m', sessionId);
      for (let i = 0; i < ids.length; i += ID_CHUNK) {
        acked += (await run.heraldAck(
          sk(sessionId, 'pending'),
          sk(sessionId, 'pexp'),
          EXPIRY,
          PENDING_COUNT,
          head,
          ...ids.slice(i, i + ID_CHUNK),
        )) as number;
      }
      return acked;
    },

    async purgeExpired(nowMs) {
      const purged: AgentMessage[] = [];
      for (;;) {
        const [handled, ...rows] = (await run.heraldPurge(EXPIRY, PENDING_COUNT, p, nowMs, PURGE_BATCH)) as [
          number,
          ...string[],
        ];
        for (const row of rows) purged.push(readMessage(row));
        if (handled < PURGE_BATCH) return purged;
      }
    },

    async countPending() {
      return Number((await redis.get(PENDING_COUNT)) ?? 0);
    },

    async getIdempotency(sessionId, key, nowMs) {
      const value = await redis.hget(sk(sessionId, 'idem'), key);
      if (value == null) return undefined;
      const first = value.indexOf(' ');
      const second = value.indexOf(' ', first + 1);
      if (Number(value.slice(0, first)) <= nowMs) return undefined;
      return Object.freeze({ id: value.slice(second + 1), seq: Number(value.slice(first + 1, second)) });
    },

    async putIdempotency(sessionId, key, record: IdempotencyRecord, expiresAtMs) {
      const done = await run.heraldPutIdempotency(
        sk(sessionId, 'meta'),
        sk(sessionId, 'idem'),
        EXPIRY,
        key,
        `${expiresAtMs} ${record.seq} ${record.id}`,
        expiresAtMs,
        memberHead('k', sessionId) + key,
      );
      if (done === MISSING) throw new UnknownSessionError(sessionId);
    },

    async addDeadLetter(letter: DeadLetter) {
      await run.heraldAddDeadLetter(DEAD_LETTERS, JSON.stringify(letter), maxDeadLetters);
    },

    async listDeadLetters(limit) {
      if (!(limit >= 1)) return [];
      const rows = await redis.lrange(DEAD_LETTERS, 0, Math.floor(limit) - 1);
      return rows.map((row) => {
        const letter = JSON.parse(row) as DeadLetter;
        deepFreeze(letter.message);
        return Object.freeze(letter);
      });
    },

    async health() {
      if (closed || down()) return 'unavailable';
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'unavailable'>((resolve) => {
        timer = setTimeout(() => resolve('unavailable'), HEALTH_TIMEOUT_MS);
      });
      const ping = redis.ping().then(
        (answer): 'ok' | 'unavailable' => (answer === 'PONG' ? 'ok' : 'unavailable'),
        () => 'unavailable' as const,
      );
      try {
        return await Promise.race([ping, late]);
      } finally {
        clearTimeout(timer);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      if (own) await redis.quit().catch(() => redis.disconnect());
    },
  };

  // Every method that talks to Redis: refused at once while the connection is down, and a
  // failure for connection reasons becomes StoreUnavailableError. Other errors pass unchanged.
  const guarded = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of Object.keys(store) as Array<keyof RedisStore>) {
    if (name === 'sessionKeys' || name === 'close' || name === 'health') continue;
    const method = guarded[name]!;
    guarded[name] = async (...args: unknown[]) => {
      if (down()) throw new StoreUnavailableError();
      try {
        return await method(...args);
      } catch (err) {
        throw isConnectionFailure(err) ? new StoreUnavailableError(err) : err;
      }
    };
  }
  return store;
}

/** Reply errors that mean "Redis cannot serve this now", not "this command is wrong". */
const UNAVAILABLE_REPLY = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)\b/;
/** Socket errors of a connection that failed or was lost. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * True when a command failed because Redis could not be reached (ioredis gave up retrying,
 * the connection closed or timed out, a socket error) or cannot serve now (a reply such as
 * LOADING), rather than because of the command itself.
 */
export function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ReplyError') return UNAVAILABLE_REPLY.test(err.message);
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'AbortError') return true;
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && CONNECTION_CODES.has(code)) return true;
  return (
    err.message === 'Connection is closed.' ||
    err.message === 'Command timed out' ||
    err.message.startsWith("Stream isn't writeable")
  );
}

/** A message parsed from its stored text, which stays its text (message-json.ts), frozen. */
function readMessage(json: string): AgentMessage {
  return rememberJson(deepFreeze(JSON.parse(json) as AgentMessage), json);
}
