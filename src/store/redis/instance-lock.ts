/**
 * One Herald per Redis key prefix, for now. The Redis store keeps everything a second
 * instance would need, but live delivery between instances (a publish on one reaching the
 * sockets held by another) does not exist yet, so two instances on one prefix would each miss
 * the other's live messages without a word. Until it does, the first instance holds a lease on
 * `<prefix>instance` (SET NX PX, renewed at a third of its time) and a second one is refused at
 * start with a message that says who holds it and what to do instead. A crashed holder's lease
 * runs out by itself, and one on this machine whose process is gone is taken over at once.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';

export interface InstanceLock {
  /** Gives the lease back (at shutdown); calling it again does nothing. */
  release(): Promise<void>;
}

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const TAKE_OVER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Takes the lease on `<keyPrefix>instance` or throws an Error saying who holds it. */
export async function takeInstanceLock(
  redis: Redis,
  keyPrefix: string,
  options: { ttlMs?: number; onLost?: (holder: string | null) => void; where?: string } = {},
): Promise<InstanceLock> {
  const key = `${keyPrefix}instance`;
  const ttlMs = options.ttlMs ?? 15_000;
  const me = `${hostname()} pid ${process.pid} since ${new Date().toISOString()}`;
  let taken = (await redis.set(key, me, 'PX', ttlMs, 'NX')) === 'OK';
  if (!taken) {
    const holder = await redis.get(key);
    // A holder on this machine whose process is gone (a crash, then a quick restart by a process
    // manager) is taken over at once rather than waited out.
    if (holder !== null && isDeadLocalHolder(holder))
      taken = (await redis.eval(TAKE_OVER, 1, key, holder, me, String(ttlMs))) === 1;
  }
  if (!taken) {
    const holder = await redis.get(key);
    throw new Error(
      `another Herald (${holder ?? 'unknown'}) already uses the Redis key prefix "${keyPrefix}"` +
        `${options.where ? ` at ${options.where}` : ''}. Several instances on one Redis are not supported ` +
        'yet (live delivery between them is missing): stop the other one, or give this one its own ' +
        'HERALD_REDIS_KEY_PREFIX. A crashed instance frees the prefix within ' +
        `${Math.ceil(ttlMs / 1000)} s (at once for a restart on the machine it ran on).`,
    );
  }
  const renew = setInterval(
    async () => {
      try {
        const kept = await redis.eval(RENEW, 1, key, me, String(ttlMs));
        if (kept !== 1) options.onLost?.(await redis.get(key));
      } catch {
        // Redis away for a moment: the next renewal tries again.
      }
    },
    Math.max(1, Math.floor(ttlMs / 3)),
  );
  renew.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(renew);
      await redis.eval(RELEASE, 1, key, me).catch(() => undefined);
    },
  };
}

/** True for a holder written by this machine (`host pid N since …`) whose process no longer runs. */
function isDeadLocalHolder(holder: string): boolean {
  const match = /^(.*) pid (\d+) since /.exec(holder);
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
