/**
 * The agent message rate windows in Redis, so one session's limit holds over every instance:
 * per (session, type) a sorted set of admission times and a count of refusals since the last
 * admission, both under the session's hash tag, updated by one Lua script per decision. The
 * same rules as SlidingWindows (rate-window.ts): at most `limit` admitted in any 60 s, a
 * refusal says when the oldest leaves, and the next admission carries the refusals before it.
 * Times are the router's clock, so the instances' clocks must agree (NTP).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type RateWindows, WINDOW_MS, type WindowVerdict } from './rate-window.js';

// KEYS times, suppressed; ARGV now, window, limit, member
const ADMIT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], 86400000)
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
local suppressed = redis.call('GET', KEYS[2])
if suppressed then redis.call('DEL', KEYS[2]) end
return {1, tonumber(suppressed or '0')}
`;
// KEYS suppressed
const TAKE = `
local suppressed = redis.call('GET', KEYS[1])
if suppressed then redis.call('DEL', KEYS[1]) end
return tonumber(suppressed or '0')
`;

export function redisWindows(redis: Redis, keyPrefix: string): RateWindows {
  const keys = (sessionId: string, agentType: string) => {
    const base = `${keyPrefix}s:{${sessionId}}:rate:${agentType}`;
    return [base, `${base}:suppressed`] as const;
  };
  return {
    async tryAdmit(sessionId, agentType, limit, now): Promise<WindowVerdict> {
      const [times, suppressed] = keys(sessionId, agentType);
      const member = `${now}:${randomBytes(6).toString('base64url')}`;
      const [ok, value] = (await redis.eval(ADMIT, 2, times, suppressed, now, WINDOW_MS, limit, member)) as [
        number,
        number,
      ];
      return ok === 1 ? { ok: true, suppressed: value } : { ok: false, retryAfterMs: value };
    },
    async takeSuppressed(sessionId, agentType) {
      return (await redis.eval(TAKE, 1, keys(sessionId, agentType)[1])) as number;
    },
    // Redis forgets by itself: the keys expire.
    prune() {},
  };
}
