/**
 * The Redis store (ioredis 5): the same contract as the memory and SQLite stores, for many
 * Herald instances sharing one Redis (HERALD_STORE=redis; docs/scaling.md).
 *
 * Key layout (`p` is the key prefix). Every operation on one session touches only keys with
 * the session's `{id}` hash tag, so on Redis Cluster it is one slot (test/store/redis-cluster.test.ts
 * runs the conformance suite on a cluster-mode Redis, which refuses anything else):
 *
 * - `p s:{id}:meta`      hash: owner, createdAt, seq (the last seq given)
 * - `p s:{id}:timeline`  list: a user or reply entry as its JSON (starts with `{`); an agent
 *                        message as `m` + its id, pointing into `msgs`
 * - `p s:{id}:msgs`      hash: agent message id → its JSON, the one copy of each message
 * - `p s:{id}:pending`   sorted set: pending message ids by seq (list after a cursor, ack by id)
 * - `p s:{id}:pexp`      hash: pending message id → expiry (epoch ms)
 * - `p s:{id}:idem`      hash: idempotency key → `expiryMs seq id`
 * - `p s:{id}:exp`       sorted set: the session's pending messages (`m` + id) and keys
 *                        (`k` + key) by expiry, for the purge
 * - `p s:{id}:rate:<type>` sorted set of admission times in the type's 60 s window (expires
 *                        by itself), and `…:suppressed` the refusals since its last admission
 * - `p o:{owner}:sessions`  sorted set: the owner's session ids by createdAt (ms); each member
 *                        is a zero-padded creation number (`p o:{owner}:n`) + `:` + id, so
 *                        equal instants list in creation order
 * - `p o:{owner}:chats`  hash: chat key → the session's JSON
 *
 * and three keys of their own, each touched alone:
 *
 * - `p expiring`         sorted set: session id → a time at or before its earliest expiry
 * - `p pending`          counter of pending messages (the pending gauge)
 * - `p deadletters`      list, newest first, capped
 *
 * Each write is one Lua script (EVALSHA through ioredis `defineCommand`), atomic in its slot.
 * Admission is one script and one round trip: it checks the idempotency key, counts the rate
 * window, takes the seq, stores the message, links it into the timeline and marks it pending,
 * or answers that the session is missing, the key was used or the window is full, and changes
 * nothing. What lies outside the session's slot (`expiring`, `pending`) is sent right after
 * the script answers, without waiting: if the connection drops in between, the gauge is off by
 * that message and its session's purge waits for the session's next admission. Neither loses
 * or delays a message (an expired one is never listed), and an ack never makes one reappear.
 * Creating a session takes two steps (its slot, then its owner's); a crash between them leaves
 * a session no one was told of. Expiries are numbers compared with the caller's clock
 * (`nowMs`); only the rate window keys rely on Redis TTLs.
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
import { AGENT_TYPES } from '../protocol/agent-message.js';
import { activityMs, timelineMax, trimSlack } from './limits.js';
import { WINDOW_MS } from './rate-window.js';
import type { RedisClient } from './redis/client.js';
import {
  DuplicateAdmissionError,
  deepFreeze,
  expiresAtMs,
  RateWindowFullError,
  StoreUnavailableError,
  UnknownSessionError,
} from './shared.js';
import type {
  AdmitOptions,
  AgentMessageDraft,
  DeadLetter,
  Session,
  Store,
  StoreLimits,
  TimelineEntry,
} from './store.js';

export interface RedisStoreOptions extends StoreLimits {
  /** e.g. `redis://127.0.0.1:6379`; unused when `redis` is given. */
  url?: string;
  /** Put before every key, e.g. `herald:`. Do not also set ioredis's own `keyPrefix`. */
  keyPrefix?: string;
  /**
   * A client to use instead of connecting to `url`; the store never quits it. Give it a
   * `maxRetriesPerRequest` and a `commandTimeout` (src/engine/redis-engine.ts does), so that
   * commands sent just as the connection drops fail instead of waiting for Redis to come back.
   */
  redis?: RedisClient;
  /** How many dead letters are kept (oldest dropped first); default 10,000. */
  maxDeadLetters?: number;
}

export interface RedisStore extends Store {
  /** The keys of one session (all share its `{id}` hash tag). */
  sessionKeys(sessionId: string): string[];
  health(): Promise<'ok' | 'unavailable'>;
}

/**
 * Sessions kept in memory (first in, first out). A session never changes once made, but may be
 * deleted on another instance: a copy is trusted for SESSION_CACHE_MS, after which the session
 * is read again. Meanwhile a write to a deleted session still fails (UnknownSessionError).
 */
const SESSION_CACHE_SIZE = 10_000;
const SESSION_CACHE_MS = 5_000;
/** Dead letters looked at per pruning script run. */
const PRUNE_BATCH = 1_000;
/** Ids asked about (pendingIds, ack) per round trip. */
const ID_CHUNK = 5_000;
/** Expiry index members handled per purge script run. */
const PURGE_BATCH = 1_000;
/** Batches of sessions one purge handles at most; the next purge goes on. */
const PURGE_MAX_ROUNDS = 20;

/** How long `health` waits for Redis to answer a PING. */
const HEALTH_TIMEOUT_MS = 1_000;

/** The keys of one session, `p s:{id}:<part>` (the rate window keys come on top, per type). */
const SESSION_PARTS = ['meta', 'timeline', 'msgs', 'pending', 'pexp', 'idem', 'exp', 'trimmed'] as const;

// Return codes shared by the scripts.
const MISSING = -1;

/**
 * The end of every script that writes a session's timeline, given where its keys and arguments
 * are: raises the session's activity, and once the timeline holds its limit plus the slack,
 * drops the oldest entries (a pending message's copy stays, listed in `trimmed`, until acked or
 * purged). Leaves the number dropped in the Lua local `trimmed`.
 */
function afterWrite(
  k: { meta: number; timeline: number; msgs: number; pending: number; trimmed: number },
  a: { active: number; max: number; slack: number },
): string {
  return `local active = tonumber(redis.call('HGET', KEYS[${k.meta}], 'active') or '0')
if tonumber(ARGV[${a.active}]) > active then redis.call('HSET', KEYS[${k.meta}], 'active', ARGV[${a.active}]) end
local over = redis.call('LLEN', KEYS[${k.timeline}]) - tonumber(ARGV[${a.max}])
local trimmed = 0
if tonumber(ARGV[${a.max}]) > 0 and over >= tonumber(ARGV[${a.slack}]) then
  for _, item in ipairs(redis.call('LPOP', KEYS[${k.timeline}], over)) do
    if string.sub(item, 1, 1) == 'm' then
      local id = string.sub(item, 2)
      if redis.call('ZSCORE', KEYS[${k.pending}], id) then redis.call('SADD', KEYS[${k.trimmed}], id)
      else redis.call('HDEL', KEYS[${k.msgs}], id) end
    end
  end
  trimmed = over
end`;
}

const SCRIPTS = {
  // KEYS meta; ARGV owner, createdAt, createdAtMs
  heraldCreateMeta: {
    numberOfKeys: 1,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'createdAt', ARGV[2], 'seq', 0, 'active', ARGV[3])
return 1
`,
  },
  // KEYS ownerSessions, ownerChats, ownerCounter
  // ARGV id, createdAtMs, hasChatKey, chatKey, sessionJson
  // Returns {'earlier', json} when the chat key already has a session, else {'linked'}.
  heraldLinkOwner: {
    numberOfKeys: 3,
    lua: `
if ARGV[3] == '1' then
  local earlier = redis.call('HGET', KEYS[2], ARGV[4])
  if earlier then return {'earlier', earlier} end
end
local n = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], ARGV[2], string.format('%016d', n) .. ':' .. ARGV[1])
if ARGV[3] == '1' then redis.call('HSET', KEYS[2], ARGV[4], ARGV[5]) end
return {'linked'}
`,
  },
  // KEYS meta, timeline, msgs, pending, trimmed; ARGV entryJson, activeMs, max, slack
  // Returns MISSING or how many old entries were dropped for the limit.
  heraldAppendTimeline: {
    numberOfKeys: 5,
    lua: `
if not redis.call('HGET', KEYS[1], 'owner') then return ${MISSING} end
redis.call('RPUSH', KEYS[2], ARGV[1])
${afterWrite({ meta: 1, timeline: 2, msgs: 3, pending: 4, trimmed: 5 }, { active: 2, max: 3, slack: 4 })}
return trimmed
`,
  },
  // The whole admission of one message, in its session's slot.
  // KEYS meta, timeline, msgs, pending, pexp, idem, exp, rate, rateSuppressed, trimmed
  // ARGV 1 id, 2 head (the draft's JSON without its closing brace), 3 suppressedHead (the
  //      same with data.suppressed last, cut before its value), 4 pending, 5 expiryMs,
  //      6 hasKey, 7 key, 8 keyExpiryMs, 9 nowMs, 10 rate mode (0 none, 1 count, 2 bypass),
  //      11 limit, 12 windowMs, 13 window member, 14 timeline max, 15 slack, 16 activeMs
  // Returns MISSING; {'dup', seq, id} for an unexpired key; {'full', retryAfterMs} when the
  // window is full; else {'ok', seq, suppressed, entries dropped for the timeline limit}.
  heraldAdmit: {
    numberOfKeys: 10,
    lua: `
if not redis.call('HGET', KEYS[1], 'owner') then return ${MISSING} end
local now = tonumber(ARGV[9])
if ARGV[6] == '1' then
  local prior = redis.call('HGET', KEYS[6], ARGV[7])
  if prior then
    local expiry, pseq, pid = string.match(prior, '^(%S+) (%S+) (.+)$')
    if tonumber(expiry) > now then return {'dup', tonumber(pseq), pid} end
  end
end
local suppressed = 0
if ARGV[10] == '1' then
  local window = tonumber(ARGV[12])
  redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', now - window)
  if redis.call('ZCARD', KEYS[8]) >= tonumber(ARGV[11]) then
    redis.call('INCR', KEYS[9])
    redis.call('PEXPIRE', KEYS[9], 86400000)
    local oldest = redis.call('ZRANGE', KEYS[8], 0, 0, 'WITHSCORES')
    return {'full', tonumber(oldest[2]) + window - now}
  end
  redis.call('ZADD', KEYS[8], now, ARGV[13])
  redis.call('PEXPIRE', KEYS[8], window)
end
if ARGV[10] ~= '0' then
  local taken = redis.call('GET', KEYS[9])
  if taken then
    redis.call('DEL', KEYS[9])
    suppressed = tonumber(taken)
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local id = ARGV[1]
local head = ARGV[2]
if suppressed > 0 then head = ARGV[3] .. suppressed .. '}' end
redis.call('HSET', KEYS[3], id, head .. ',"seq":' .. seq .. '}')
redis.call('RPUSH', KEYS[2], 'm' .. id)
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[4], seq, id)
  redis.call('HSET', KEYS[5], id, ARGV[5])
  redis.call('ZADD', KEYS[7], ARGV[5], 'm' .. id)
end
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[6], ARGV[7], ARGV[8] .. ' ' .. seq .. ' ' .. id)
  redis.call('ZADD', KEYS[7], ARGV[8], 'k' .. ARGV[7])
end
${afterWrite({ meta: 1, timeline: 2, msgs: 3, pending: 4, trimmed: 10 }, { active: 16, max: 14, slack: 15 })}
return {'ok', seq, suppressed, trimmed}
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
  // KEYS pending, pexp, exp, msgs, trimmed; ARGV ids...
  // A message the timeline limit already dropped loses its last copy with its ack.
  heraldAck: {
    numberOfKeys: 5,
    lua: `
local n = 0
for i = 1, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('HDEL', KEYS[2], id)
    redis.call('ZREM', KEYS[3], 'm' .. id)
    if redis.call('SREM', KEYS[5], id) == 1 then redis.call('HDEL', KEYS[4], id) end
    n = n + 1
  end
end
return n
`,
  },
  // One session's expired messages and keys, at most `batch` of them.
  // KEYS pending, pexp, msgs, idem, exp, trimmed; ARGV nowMs, batch
  // Returns {handled, next expiry or -1, purged message JSON...}.
  heraldPurgeSession: {
    numberOfKeys: 6,
    lua: `
local now = tonumber(ARGV[1])
local members = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {#members, -1}
for _, member in ipairs(members) do
  local rest = string.sub(member, 2)
  if string.sub(member, 1, 1) == 'm' then
    if redis.call('ZREM', KEYS[1], rest) == 1 then
      redis.call('HDEL', KEYS[2], rest)
      out[#out + 1] = redis.call('HGET', KEYS[3], rest)
      if redis.call('SREM', KEYS[6], rest) == 1 then redis.call('HDEL', KEYS[3], rest) end
    end
  else
    redis.call('HDEL', KEYS[4], rest)
  end
  redis.call('ZREM', KEYS[5], member)
end
local next = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
if next[2] then out[2] = tonumber(next[2]) end
return out
`,
  },
  // KEYS meta, then every other key of the session; ARGV idleBeforeMs ('' for any)
  // Returns 0 for no such session; {'busy', activeMs} when active since; {'resume', owner,
  // pending not yet uncounted, 0} for a deletion an earlier call began; else {'deleted', owner,
  // pending, entries}. The meta stays (marked `deleting`, without `owner`, so every read and
  // write finds no session) until the owner's and the shared indexes are done, so a crash in
  // between is finished by a later call.
  heraldDeleteSession: {
    numberOfKeys: SESSION_PARTS.length + 2 * AGENT_TYPES.length,
    lua: `
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then
  local deleting = redis.call('HGET', KEYS[1], 'deleting')
  if deleting then return {'resume', deleting, tonumber(redis.call('HGET', KEYS[1], 'dpending') or '0'), 0} end
  return 0
end
local active = tonumber(redis.call('HGET', KEYS[1], 'active') or '0')
if ARGV[1] ~= '' and active >= tonumber(ARGV[1]) then return {'busy', active} end
local pending = redis.call('ZCARD', KEYS[4])
local entries = redis.call('LLEN', KEYS[2])
redis.call('UNLINK', unpack(KEYS, 2))
redis.call('HDEL', KEYS[1], 'owner', 'createdAt')
redis.call('HSET', KEYS[1], 'deleting', owner, 'dpending', pending)
return {'deleted', owner, pending, entries}
`,
  },
  // KEYS meta; ARGV nowMs. Only a session that exists.
  heraldTouch: {
    numberOfKeys: 1,
    lua: `
if not redis.call('HGET', KEYS[1], 'owner') then return 0 end
local active = tonumber(redis.call('HGET', KEYS[1], 'active') or '0')
if tonumber(ARGV[1]) > active then redis.call('HSET', KEYS[1], 'active', ARGV[1]) end
return 1
`,
  },
  // KEYS ownerSessions, ownerChats; ARGV id
  heraldUnlinkOwner: {
    numberOfKeys: 2,
    lua: `
local suffix = ':' .. ARGV[1]
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, -#suffix) == suffix then redis.call('ZREM', KEYS[1], member) end
end
local chats = redis.call('HGETALL', KEYS[2])
for i = 1, #chats, 2 do
  if cjson.decode(chats[i + 1]).id == ARGV[1] then redis.call('HDEL', KEYS[2], chats[i]) end
end
return 1
`,
  },
  // KEYS deadletters; ARGV sessionId. The list is capped, so one pass is bounded.
  heraldDropDeadLetters: {
    numberOfKeys: 1,
    lua: `
local n = 0
for _, row in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if cjson.decode(row).message.sessionId == ARGV[1] then
    n = n + redis.call('LREM', KEYS[1], 0, row)
  end
end
return n
`,
  },
  // KEYS deadletters; ARGV before (ISO 8601, UTC), batch. Oldest are last.
  heraldPruneDeadLetters: {
    numberOfKeys: 1,
    lua: `
local n = 0
while n < tonumber(ARGV[2]) do
  local last = redis.call('LINDEX', KEYS[1], -1)
  if not last or cjson.decode(last).at >= ARGV[1] then break end
  redis.call('RPOP', KEYS[1])
  n = n + 1
end
return n
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
  const EXPIRING = `${p}expiring`;
  const ACTIVE = `${p}active`;
  const maxEntries = timelineMax(options);
  const slack = trimSlack(maxEntries);
  /** The limit as the scripts take it: 0 for none. */
  const limitArg = Number.isFinite(maxEntries) ? maxEntries : 0;
  const PENDING_COUNT = `${p}pending`;
  const DEAD_LETTERS = `${p}deadletters`;
  const ownerSessions = (owner: string): string => `${p}o:{${owner}}:sessions`;
  const ownerChats = (owner: string): string => `${p}o:{${owner}}:chats`;
  const ownerCounter = (owner: string): string => `${p}o:{${owner}}:n`;

  /**
   * The bookkeeping outside a session's slot, sent right after the script it follows and not
   * awaited: the caller waits for one round trip, and since the commands are written before
   * the caller hears back, later commands on this connection see them. Lost only when the
   * connection drops in between (see the file comment).
   */
  const afterwards = (...commands: Array<Promise<unknown>>): void => {
    for (const command of commands) command.catch(() => {});
  };

  const sessions = new Map<string, { session: Session; until: number }>();
  const remember = (session: Session): Session => {
    if (sessions.size >= SESSION_CACHE_SIZE) sessions.delete(sessions.keys().next().value!);
    sessions.set(session.id, { session, until: performance.now() + SESSION_CACHE_MS });
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
    sessionKeys: (sessionId) => SESSION_PARTS.map((part) => sk(sessionId, part)),

    // Two slots (the session's and the owner's), so two steps: the session first, then its
    // place in the owner's list. A chat key another call took meanwhile wins: the session just
    // made is deleted again. A crash between the steps leaves a session no one can find.
    async createSession(session, chatKey) {
      const made = Object.freeze({ id: session.id, owner: session.owner, createdAt: session.createdAt });
      const createdMs = Date.parse(session.createdAt);
      const meta = sk(session.id, 'meta');
      const activeMs = activityMs(session.createdAt);
      if ((await run.heraldCreateMeta(meta, session.owner, session.createdAt, activeMs)) === 0)
        throw new Error(`session ${session.id} already exists`);
      afterwards(redis.zadd(ACTIVE, 'GT', activeMs, session.id));
      const answer = (await run.heraldLinkOwner(
        ownerSessions(session.owner),
        ownerChats(session.owner),
        ownerCounter(session.owner),
        session.id,
        Number.isFinite(createdMs) ? createdMs : 0,
        chatKey === undefined ? '0' : '1',
        chatKey ?? '',
        JSON.stringify(made),
      )) as string[];
      if (answer[0] === 'earlier') {
        await redis.del(meta);
        return readSession(answer[1]!);
      }
      return remember(made);
    },

    async getSession(id) {
      const known = sessions.get(id);
      if (known && known.until > performance.now()) return known.session;
      sessions.delete(id);
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
      const activeMs = activityMs(entry.timestamp);
      const done = (await run.heraldAppendTimeline(
        sk(sessionId, 'meta'),
        sk(sessionId, 'timeline'),
        sk(sessionId, 'msgs'),
        sk(sessionId, 'pending'),
        sk(sessionId, 'trimmed'),
        JSON.stringify(entry),
        activeMs,
        limitArg,
        slack,
      )) as number;
      if (done === MISSING) throw new UnknownSessionError(sessionId);
      afterwards(redis.zadd(ACTIVE, 'GT', activeMs, sessionId));
      if (done > 0) options.onTimelineTrimmed?.(done);
    },

    async readTimeline(sessionId, last) {
      // Never more than the limit, whether or not the session was trimmed yet.
      const n = Math.min(last ?? Number.POSITIVE_INFINITY, maxEntries);
      if (n < 1) return [];
      const items = (await run.heraldReadTimeline(
        sk(sessionId, 'timeline'),
        sk(sessionId, 'msgs'),
        Number.isFinite(n) ? -Math.floor(n) : 0,
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
      const rate = admit?.rateWindow;
      const answer = (await run.heraldAdmit(
        sk(sessionId, 'meta'),
        sk(sessionId, 'timeline'),
        sk(sessionId, 'msgs'),
        sk(sessionId, 'pending'),
        sk(sessionId, 'pexp'),
        sk(sessionId, 'idem'),
        sk(sessionId, 'exp'),
        sk(sessionId, `rate:${draft.agentType}`),
        sk(sessionId, `rate:${draft.agentType}:suppressed`),
        sk(sessionId, 'trimmed'),
        id,
        head,
        rate ? suppressedHead(draft) : '',
        pending ? '1' : '0',
        expiry,
        key ? '1' : '0',
        key?.key ?? '',
        key?.expiresAtMs ?? 0,
        key?.nowMs ?? rate?.nowMs ?? 0,
        rate ? (rate.bypass ? '2' : '1') : '0',
        rate?.limit ?? 0,
        WINDOW_MS,
        rate ? `${rate.nowMs}:${id}` : '',
        limitArg,
        slack,
        activityMs(draft.timestamp),
      )) as number | [string, number, number | string, number?];
      if (answer === MISSING) throw new UnknownSessionError(sessionId);
      const [verdict, first, second, trimmed] = answer as [string, number, number | string, number?];
      if (verdict === 'dup') throw new DuplicateAdmissionError({ seq: Number(first), id: String(second) });
      if (verdict === 'full') throw new RateWindowFullError(Number(first));
      const suppressed = Number(second);
      // `LT`: an earlier expiry the session already has stays its score.
      if (pending || key)
        afterwards(
          redis.zadd(
            EXPIRING,
            'LT',
            Math.min(pending ? expiry : Infinity, key?.expiresAtMs ?? Infinity),
            sessionId,
          ),
        );
      if (pending) afterwards(redis.incr(PENDING_COUNT));
      afterwards(redis.zadd(ACTIVE, 'GT', activityMs(draft.timestamp), sessionId));
      if (trimmed) options.onTimelineTrimmed?.(trimmed);
      const json = suppressed > 0 ? `${suppressedHead(draft)}${suppressed}}` : head;
      return readMessage(`${json},"seq":${first}}`);
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
      for (let i = 0; i < ids.length; i += ID_CHUNK) {
        acked += (await run.heraldAck(
          sk(sessionId, 'pending'),
          sk(sessionId, 'pexp'),
          sk(sessionId, 'exp'),
          sk(sessionId, 'msgs'),
          sk(sessionId, 'trimmed'),
          ...ids.slice(i, i + ID_CHUNK),
        )) as number;
      }
      // The session's entry in `expiring` may now be early: the next purge finds nothing and moves it.
      if (acked > 0) afterwards(redis.decrby(PENDING_COUNT, acked));
      return acked;
    },

    // Sessions whose earliest expiry has passed, a batch at a time: each session's script
    // purges it alone (its slot), then its entry in `expiring` moves to its next expiry. An
    // admission may add an earlier expiry between those two steps, so the session's earliest
    // is read again afterwards and put back with `LT`: nothing admitted is left out. Each
    // step's commands go out together (ioredis writes each as it is made): a few round trips
    // per batch, not per session, and no MULTI or pipeline, which Cluster wants in one slot.
    async purgeExpired(nowMs) {
      const purged: AgentMessage[] = [];
      for (let round = 0; round < PURGE_MAX_ROUNDS; round++) {
        const due = await redis.zrangebyscore(EXPIRING, '-inf', nowMs, 'LIMIT', 0, PURGE_BATCH);
        if (due.length === 0) break;
        const answers = (await Promise.all(
          due.map((sid) =>
            run.heraldPurgeSession(
              sk(sid, 'pending'),
              sk(sid, 'pexp'),
              sk(sid, 'msgs'),
              sk(sid, 'idem'),
              sk(sid, 'exp'),
              sk(sid, 'trimmed'),
              nowMs,
              PURGE_BATCH,
            ),
          ),
        )) as Array<[number, number, ...string[]]>;
        const moves: Array<Promise<unknown>> = [];
        let removed = 0;
        let cut = false;
        for (const [i, [handled, next, ...rows]] of answers.entries()) {
          const sid = due[i]!;
          for (const row of rows) purged.push(readMessage(row));
          removed += rows.length;
          // A session cut short at `batch` keeps its (passed) score and comes round again.
          if (handled >= PURGE_BATCH) {
            cut = true;
            continue;
          }
          moves.push(next === -1 ? redis.zrem(EXPIRING, sid) : redis.zadd(EXPIRING, 'XX', next, sid));
        }
        if (removed > 0) moves.push(redis.decrby(PENDING_COUNT, removed));
        await Promise.all(moves);
        const firsts = await Promise.all(due.map((sid) => redis.zrange(sk(sid, 'exp'), 0, 0, 'WITHSCORES')));
        await Promise.all(
          firsts.flatMap((first, i) =>
            first.length === 2 ? [redis.zadd(EXPIRING, 'LT', first[1]!, due[i]!)] : [],
          ),
        );
        if (due.length < PURGE_BATCH && !cut) break;
      }
      return purged;
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

    async pruneDeadLetters(beforeMs) {
      const before = new Date(beforeMs).toISOString();
      let pruned = 0;
      for (;;) {
        const n = (await run.heraldPruneDeadLetters(DEAD_LETTERS, before, PRUNE_BATCH)) as number;
        pruned += n;
        if (n < PRUNE_BATCH) return pruned;
      }
    },

    // Three slots, in steps: the session's keys (its meta kept, marked `deleting`), its owner's
    // index, the shared indexes, then the meta and its `active` entry. Nothing half deleted is
    // readable (the session is gone after the first step), and a crash before the end leaves
    // the `active` entry, so the next retention pass finishes the deletion.
    async deleteSession(id, deleteOptions) {
      const idleBefore = deleteOptions?.idleBeforeMs;
      const answer = (await run.heraldDeleteSession(
        ...store.sessionKeys(id),
        ...AGENT_TYPES.flatMap((type) => [sk(id, `rate:${type}`), sk(id, `rate:${type}:suppressed`)]),
        idleBefore === undefined ? '' : idleBefore,
      )) as [string, string | number, number?, number?] | 0;
      sessions.delete(id);
      if (answer === 0) {
        await redis.zrem(ACTIVE, id);
        return undefined;
      }
      const [state, value, pending = 0, entries = 0] = answer;
      if (state === 'busy') {
        // The index was behind: it learns the session's real activity.
        await redis.zadd(ACTIVE, 'GT', Number(value), id);
        return undefined;
      }
      const owner = String(value);
      await run.heraldUnlinkOwner(ownerSessions(owner), ownerChats(owner), id);
      await Promise.all([redis.zrem(EXPIRING, id), run.heraldDropDeadLetters(DEAD_LETTERS, id)]);
      if (pending > 0) {
        await redis.decrby(PENDING_COUNT, pending);
        await redis.hdel(sk(id, 'meta'), 'dpending');
      }
      await redis.del(sk(id, 'meta'));
      await redis.zrem(ACTIVE, id);
      return { entries };
    },

    async listIdleSessions(beforeMs, limit) {
      if (limit < 1) return [];
      return redis.zrangebyscore(ACTIVE, '-inf', `(${beforeMs}`, 'LIMIT', 0, Math.floor(limit));
    },

    async touchSessions(ids, nowMs) {
      await Promise.all(
        ids.map(async (id) => {
          if ((await run.heraldTouch(sk(id, 'meta'), nowMs)) === 1) await redis.zadd(ACTIVE, 'GT', nowMs, id);
        }),
      );
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

/**
 * The draft's text with `data.suppressed` last and its value cut off, for the admission script
 * to finish with the count it takes: `{ ...draft, data: { ...data, suppressed: n } }`.
 */
function suppressedHead(draft: AgentMessageDraft): string {
  const { data, ...rest } = draft;
  const { suppressed: _, ...others } = data ?? {};
  const text = JSON.stringify({ ...rest, seq: undefined, data: { ...others, suppressed: 0 } });
  // The text ends `"suppressed":0}}`: keep everything before the 0.
  return text.slice(0, -3);
}

/** A message parsed from its stored text, which stays its text (message-json.ts), frozen. */
function readMessage(json: string): AgentMessage {
  return rememberJson(deepFreeze(JSON.parse(json) as AgentMessage), json);
}
