/**
 * The cap on live connections per principal on this instance
 * (HERALD_MAX_CONNECTIONS_PER_PRINCIPAL): WebSockets and agent message streams together, each
 * holding a socket and a place in every dispatch to its session for as long as it lives. Past it
 * a new one is refused with `rate_limited` (docs/decisions.md, Fairness and slow clients), so one
 * principal cannot take the connections the instance has for everyone (HERALD_MAX_CONNECTIONS).
 */
import { HeraldError } from '../errors/catalogue.js';

/** Seconds a refused client is told to wait before trying again. */
const RETRY_AFTER_S = 5;
const NOTHING = () => {};

export class LiveLimit {
  private readonly open = new Map<string, number>();

  /** `max` 0: no limit. */
  constructor(readonly max: number) {}

  /** Live connections `sub` holds on this instance now. */
  count(sub: string): number {
    return this.open.get(sub) ?? 0;
  }

  /**
   * Takes a place for one more live connection of `sub`, or throws rate_limited. Returns the
   * function that gives it back (calling it again does nothing).
   */
  take(sub: string): () => void {
    if (this.max <= 0) return NOTHING;
    const held = this.count(sub);
    if (held >= this.max)
      throw new HeraldError('rate_limited', `At most ${this.max} live connections per principal.`, {
        retryAfter: RETRY_AFTER_S,
      });
    this.open.set(sub, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = this.count(sub) - 1;
      if (left > 0) this.open.set(sub, left);
      else this.open.delete(sub);
    };
  }
}
