import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import type { Principal } from '../../src/auth/principal.js';
import { TicketStore } from '../../src/auth/tickets.js';
import { HeraldError } from '../../src/errors/catalogue.js';

const alice = (): Principal => ({ sub: 'alice', scopes: new Set(['chat']), via: 'api-key' });

function throwsCode(fn: () => unknown, code = 'unauthorized'): HeraldError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(HeraldError);
  expect((err as HeraldError).code).toBe(code);
  return err as HeraldError;
}

describe('TicketStore', () => {
  it('issues a 32-byte base64url ticket that redeems once to the same principal via ticket', () => {
    let now = 1_000_000;
    const store = new TicketStore({ ttlMs: 30_000, now: () => now });
    const { ticket, expiresAt } = store.issue(alice());
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(ticket, 'base64url')).toHaveLength(32);
    expect(expiresAt).toBe(new Date(1_030_000).toISOString());
    now += 29_999;
    const p = store.redeem(ticket);
    expect(p).toEqual({ sub: 'alice', scopes: new Set(['chat']), via: 'ticket' });
    expect(store.size).toBe(0);
    throwsCode(() => store.redeem(ticket));
  });

  it('refuses an expired ticket', () => {
    let now = 0;
    const store = new TicketStore({ ttlMs: 30_000, now: () => now });
    const { ticket } = store.issue(alice());
    now = 30_000;
    throwsCode(() => store.redeem(ticket));
  });

  it('refuses unknown and malformed tickets', () => {
    const store = new TicketStore();
    store.issue(alice());
    throwsCode(() => store.redeem(''));
    throwsCode(() => store.redeem('x'.repeat(43)));
    throwsCode(() => store.redeem('not a ticket'));
  });

  it('keeps the original expiresAt and caps the ticket at it', () => {
    let now = 0;
    const store = new TicketStore({ ttlMs: 30_000, now: () => now });
    const jwtUser: Principal = { sub: 'j', scopes: new Set(['chat']), via: 'jwt', expiresAt: 10_000 };
    const { ticket, expiresAt } = store.issue(jwtUser);
    expect(expiresAt).toBe(new Date(10_000).toISOString());
    expect(store.redeem(ticket)).toMatchObject({ via: 'ticket', expiresAt: 10_000 });

    const second = store.issue(jwtUser).ticket;
    now = 10_000;
    throwsCode(() => store.redeem(second));
    throwsCode(() => store.issue(jwtUser));
  });

  it('snapshots the principal at issue time', () => {
    const store = new TicketStore();
    const p = alice();
    const { ticket } = store.issue(p);
    (p.scopes as Set<string>).add('admin');
    expect(store.redeem(ticket).scopes.has('admin')).toBe(false);
  });

  it('purges expired tickets lazily so the map stays bounded', () => {
    let now = 0;
    const store = new TicketStore({ ttlMs: 1_000, now: () => now });
    for (let i = 0; i < 100; i++) store.issue(alice());
    expect(store.size).toBe(100);
    now = 1_000;
    store.issue(alice());
    expect(store.size).toBe(1);
    now = 2_000;
    throwsCode(() => store.redeem('y'.repeat(43)));
    expect(store.size).toBe(0);
  });

  it('answers rate_limited past the live-ticket cap', () => {
    let now = 0;
    const store = new TicketStore({ ttlMs: 5_000, maxTickets: 2, now: () => now });
    store.issue(alice());
    store.issue(alice());
    const err = throwsCode(() => store.issue(alice()), 'rate_limited');
    expect(err.retryAfter).toBe(5);
    now = 5_000;
    expect(() => store.issue(alice())).not.toThrow();
  });
});

describe('tickets through the authenticator', () => {
  it('uses ticketTtlMs and the injected clock', async () => {
    let now = 50_000;
    const auth = await createAuthenticator(
      {
        apiKeys: [{ key: 'hk_ticket_test_key', sub: 'alice', scopes: ['chat'] }],
        jwtSecret: undefined,
        jwtPublicKey: undefined,
        ticketTtlMs: 2_000,
      },
      { now: () => now },
    );
    const principal = await auth.authenticate('Bearer hk_ticket_test_key');
    const { ticket, expiresAt } = await auth.issueTicket(principal);
    expect(expiresAt).toBe(new Date(52_000).toISOString());
    const p = await auth.redeemTicket(ticket);
    expect(p).toMatchObject({ sub: 'alice', via: 'ticket' });
    await expect(auth.redeemTicket(ticket)).rejects.toMatchObject({ code: 'unauthorized' });

    const late = (await auth.issueTicket(principal)).ticket;
    now += 2_000;
    await expect(auth.redeemTicket(late)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});
