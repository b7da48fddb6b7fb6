/**
 * WebSocket tickets in Redis (HERALD_STORE=redis), so a ticket issued by one instance is
 * redeemed by any instance sharing the Redis and key prefix, and only once: `issue` SETs
 * `<prefix>ticket:<sha256 of the ticket>` to the principal's snapshot (JSON) with PX ttl,
 * `redeem` takes it with GETDEL (Redis 6.2 or later), which only one caller can win. The key
 * holds a hash, never the ticket itself: whoever reads the keys cannot redeem them.
 *
 * Unlike the in-process TicketStore there is no cap on live tickets: each key expires with its
 * ticket and the ws-ticket route limit bounds how many one principal takes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { HeraldError } from '../errors/catalogue.js';
import type { RedisClient } from '../store/redis/client.js';
import { StoreUnavailableError } from '../store/shared.js';
import type { Principal } from './principal.js';
import { DEFAULT_TICKET_TTL_MS, type IssuedTicket, TICKET_PATTERN, type Tickets } from './tickets.js';

export interface RedisTicketStoreOptions {
  redis: RedisClient;
  /** The Herald key prefix (HERALD_REDIS_KEY_PREFIX), e.g. `herald:`. */
  keyPrefix: string;
  /** Milliseconds a ticket stays valid. Default 30,000. */
  ttlMs?: number;
  /** Clock in epoch milliseconds (tests). Default Date.now. */
  now?: () => number;
}

/** What the key holds: the principal's snapshot and when the ticket expires. */
interface Stored {
  sub: string;
  scopes: string[];
  /** The credential's own expiry (a JWT `exp`), if any. */
  credentialExpiresAt?: number;
  expiresAt: number;
}

/** The Redis key of a ticket: only its SHA-256 (base64url), never the ticket. */
export function ticketKey(keyPrefix: string, ticket: string): string {
  return `${keyPrefix}ticket:${createHash('sha256').update(ticket).digest('base64url')}`;
}

export class RedisTicketStore implements Tickets {
  readonly #redis: RedisClient;
  readonly #keyPrefix: string;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: RedisTicketStoreOptions) {
    const ttl = options.ttlMs;
    this.#redis = options.redis;
    this.#keyPrefix = options.keyPrefix;
    this.#ttlMs = ttl !== undefined && Number.isFinite(ttl) && ttl > 0 ? ttl : DEFAULT_TICKET_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  async issue(principal: Principal): Promise<IssuedTicket> {
    const now = this.#now();
    if (principal.expiresAt !== undefined && principal.expiresAt <= now)
      throw new HeraldError('unauthorized', 'token expired');
    const expiresAt = Math.min(now + this.#ttlMs, principal.expiresAt ?? Number.POSITIVE_INFINITY);
    const ticket = randomBytes(32).toString('base64url');
    const stored: Stored = { sub: principal.sub, scopes: [...principal.scopes], expiresAt };
    if (principal.expiresAt !== undefined) stored.credentialExpiresAt = principal.expiresAt;
    const ttl = Math.max(1, Math.ceil(expiresAt - now));
    await unavailableOnError(() =>
      this.#redis.set(ticketKey(this.#keyPrefix, ticket), JSON.stringify(stored), 'PX', ttl),
    );
    return { ticket, expiresAt: new Date(expiresAt).toISOString() };
  }

  async redeem(ticket: string): Promise<Principal> {
    if (!TICKET_PATTERN.test(ticket)) throw new HeraldError('unauthorized', 'invalid or used ticket');
    const raw = await unavailableOnError(() => this.#redis.getdel(ticketKey(this.#keyPrefix, ticket)));
    if (raw === null) throw new HeraldError('unauthorized', 'invalid or used ticket');
    const stored = JSON.parse(raw) as Stored;
    // Redis expires the key itself; this covers clocks (or PX rounding) a little apart.
    if (stored.expiresAt <= this.#now()) throw new HeraldError('unauthorized', 'ticket expired');
    const principal: Principal = { sub: stored.sub, scopes: new Set(stored.scopes), via: 'ticket' };
    if (stored.credentialExpiresAt !== undefined) principal.expiresAt = stored.credentialExpiresAt;
    return principal;
  }
}

/** A Redis failure answers as the store's does: 503 unavailable with a Retry-After, not internal. */
async function unavailableOnError<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new StoreUnavailableError(err);
  }
}
