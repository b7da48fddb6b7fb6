/**
 * Single-use WebSocket tickets (docs/protocol.md, section 2): browsers cannot set headers on a
 * WebSocket, so an authenticated `POST /api/ws-ticket` gets a short-lived ticket that the
 * upgrade passes as `?ticket=`. A ticket is redeemed at most once. `Tickets` is what the
 * Authenticator needs; `TicketStore` (here) holds them in this process, `RedisTicketStore`
 * (./redis-tickets.ts) in Redis, so any instance sharing it redeems a ticket, once.
 */
import { randomBytes } from 'node:crypto';
import { HeraldError } from '../errors/catalogue.js';
import type { Principal } from './principal.js';

/** Default ticket lifetime in milliseconds (docs/protocol.md, section 2: 30 s). */
export const DEFAULT_TICKET_TTL_MS = 30_000;
/** Default most live tickets held at once; issuing past it answers rate_limited. */
export const DEFAULT_MAX_TICKETS = 100_000;

/** 32 random bytes, base64url: 43 characters. */
export const TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface IssuedTicket {
  ticket: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** Where tickets live: in this process or in Redis. Both throw the same HeraldErrors. */
export interface Tickets {
  /** A new ticket for a snapshot of the principal; throws unauthorized for an expired credential. */
  issue(principal: Principal): IssuedTicket | Promise<IssuedTicket>;
  /** The principal with `via: 'ticket'`, once; throws unauthorized for unknown, used or expired tickets. */
  redeem(ticket: string): Principal | Promise<Principal>;
}

export interface TicketStoreOptions {
  /** Milliseconds a ticket stays valid. Default 30,000. */
  ttlMs?: number;
  /** Most live tickets held at once. Default 100,000. */
  maxTickets?: number;
  /** Clock in epoch milliseconds (tests). Default Date.now. */
  now?: () => number;
}

interface Entry {
  readonly principal: Principal;
  readonly expiresAt: number;
}

export class TicketStore implements Tickets {
  readonly #tickets = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxTickets: number;
  readonly #now: () => number;

  constructor(options: TicketStoreOptions = {}) {
    const ttl = options.ttlMs;
    this.#ttlMs = ttl !== undefined && Number.isFinite(ttl) && ttl > 0 ? ttl : DEFAULT_TICKET_TTL_MS;
    this.#maxTickets = options.maxTickets ?? DEFAULT_MAX_TICKETS;
    this.#now = options.now ?? Date.now;
  }

  /** Live (unredeemed, possibly not yet purged) tickets held. */
  get size(): number {
    return this.#tickets.size;
  }

  /**
   * A new ticket for a snapshot of `principal`. It expires after the ttl, or when the
   * principal's own credential expires (a JWT's `exp`), whichever comes first.
   */
  issue(principal: Principal): IssuedTicket {
    const now = this.#now();
    this.#purge(now);
    if (principal.expiresAt !== undefined && principal.expiresAt <= now)
      throw new HeraldError('unauthorized', 'token expired');
    if (this.#tickets.size >= this.#maxTickets) {
      const oldest = this.#tickets.values().next().value;
      const retryAfter = oldest ? Math.max(1, Math.ceil((oldest.expiresAt - now) / 1000)) : 1;
      throw new HeraldError('rate_limited', 'too many open WebSocket tickets', { retryAfter });
    }
    const expiresAt = Math.min(now + this.#ttlMs, principal.expiresAt ?? Number.POSITIVE_INFINITY);
    const ticket = randomBytes(32).toString('base64url');
    const snapshot: Principal = { ...principal, scopes: new Set(principal.scopes) };
    this.#tickets.set(ticket, { principal: snapshot, expiresAt });
    return { ticket, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * The ticket's principal with `via: 'ticket'` (and the original `expiresAt`). The ticket is
   * gone afterwards. Unknown, used or expired tickets throw HeraldError('unauthorized').
   */
  redeem(ticket: string): Principal {
    const now = this.#now();
    const entry = TICKET_PATTERN.test(ticket) ? this.#tickets.get(ticket) : undefined;
    if (entry) this.#tickets.delete(ticket);
    this.#purge(now);
    if (!entry) throw new HeraldError('unauthorized', 'invalid or used ticket');
    if (entry.expiresAt <= now) throw new HeraldError('unauthorized', 'ticket expired');
    return { ...entry.principal, scopes: new Set(entry.principal.scopes), via: 'ticket' };
  }

  /**
   * Drops expired tickets. Every ticket gets the same ttl, so the Map's insertion order is
   * expiry order (save for tickets cut short by a JWT `exp`, which a later pass collects, or
   * redeem refuses): stopping at the first live one keeps this amortized O(1).
   */
  #purge(now: number): void {
    for (const [ticket, entry] of this.#tickets) {
      if (entry.expiresAt > now) break;
      this.#tickets.delete(ticket);
    }
  }

  toJSON(): { tickets: number } {
    return { tickets: this.#tickets.size };
  }
}
