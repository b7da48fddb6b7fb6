/**
 * Session lookup with ownership: a principal never sees another principal's session; every
 * such attempt answers exactly like an unknown session (docs/protocol.md, section 1).
 */

import type { Principal } from '../auth/principal.js';
import { HeraldError } from '../errors/catalogue.js';
import { newId } from '../ids.js';
import type { Session, Store } from '../store/store.js';
import type { SessionRateLimiter } from './session-rate-limiter.js';

export const SESSION_ID_PATTERN = /^sess_[0-9A-Za-z]{1,64}$/;

export const newSessionId = (): string => newId('sess_');

export class Sessions {
  constructor(
    private readonly store: Store,
    /** Counts each session made, per principal (HERALD_SESSION_RATE_LIMIT); none: no limit. */
    private readonly limiter?: SessionRateLimiter,
  ) {}

  /** The principal's session, or session_not_found for unknown, malformed and foreign ids alike. */
  async get(principal: Principal, sessionId: string): Promise<Session> {
    const session = SESSION_ID_PATTERN.test(sessionId) ? await this.store.getSession(sessionId) : undefined;
    if (!session || session.owner !== principal.sub) throw new HeraldError('session_not_found');
    return session;
  }

  /** The session an AI SDK chat id already maps to for this principal, if any. */
  findForChat(principal: Principal, chatKey: string): Promise<Session | undefined> {
    return this.store.findSessionByChatKey(principal.sub, chatKey);
  }

  /**
   * The named session (owned), or a new one; `chatKey` maps an AI SDK chat id to one session.
   * Making one counts against the principal's new-session limit (rate_limited past it).
   */
  async resolve(principal: Principal, sessionId?: string, chatKey?: string): Promise<Session> {
    if (sessionId !== undefined) return this.get(principal, sessionId);
    if (chatKey !== undefined) {
      const known = await this.store.findSessionByChatKey(principal.sub, chatKey);
      if (known) return known;
    }
    await this.limiter?.consume(principal.sub);
    return this.store.createSession(
      { id: newSessionId(), owner: principal.sub, createdAt: new Date().toISOString() },
      chatKey,
    );
  }
}
