import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, requireScope } from '../../src/auth/authenticator.js';
import { SCOPES } from '../../src/auth/principal.js';
import { HeraldError } from '../../src/errors/catalogue.js';

const none = { apiKeys: [], jwtSecret: undefined, jwtPublicKey: undefined, ticketTtlMs: 30_000 };

describe('open development mode', () => {
  it('gives every caller the anonymous principal with all scopes, header or not', async () => {
    const auth = await createAuthenticator(none);
    expect(auth.openMode).toBe(true);
    for (const header of [undefined, '', 'Bearer whatever', 'Basic abc']) {
      const p = await auth.authenticate(header);
      expect(p.sub).toBe('anonymous');
      expect(p.via).toBe('open');
      expect([...p.scopes].sort()).toEqual([...SCOPES].sort());
      expect(p.expiresAt).toBeUndefined();
    }
  });

  it('still issues and checks single-use tickets', async () => {
    const auth = await createAuthenticator(none);
    const { ticket } = await auth.issueTicket(await auth.authenticate(undefined));
    expect(await auth.redeemTicket(ticket)).toMatchObject({ sub: 'anonymous', via: 'ticket' });
    await expect(auth.redeemTicket(ticket)).rejects.toThrow(HeraldError);
  });

  it('is off as soon as a key or a JWT secret is configured', async () => {
    const withKey = await createAuthenticator({
      ...none,
      apiKeys: [{ key: 'hk_configured_key', sub: 'a', scopes: ['chat'] }],
    });
    expect(withKey.openMode).toBe(false);
    await expect(withKey.authenticate(undefined)).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'missing credentials',
    });
    const withJwt = await createAuthenticator({ ...none, jwtSecret: 'a-secret-for-tests-only-xxxxxxxxxxxx' });
    expect(withJwt.openMode).toBe(false);
    await expect(withJwt.authenticate(undefined)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});

describe('routing between JWT and API keys', () => {
  const SECRET = 'routing-secret-for-tests-xxxxxxxxxxxxxx';
  const config = {
    ...none,
    jwtSecret: SECRET,
    apiKeys: [
      { key: 'hk_plain_key_1234', sub: 'key-user', scopes: ['chat'] },
      // An API key that happens to have the shape of a JWT still works as a key.
      { key: 'abc.def.ghi', sub: 'dotted-user', scopes: ['chat'] },
    ],
  };

  it('sends JWT-shaped tokens to the verifier and others to the keys', async () => {
    const auth = await createAuthenticator(config);
    const jwt = await new SignJWT({ sub: 'jwt-user', exp: Math.floor(Date.now() / 1000) + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET));
    expect(await auth.authenticate(`Bearer ${jwt}`)).toMatchObject({ sub: 'jwt-user', via: 'jwt' });
    expect(await auth.authenticate('Bearer hk_plain_key_1234')).toMatchObject({
      sub: 'key-user',
      via: 'api-key',
    });
    expect(await auth.authenticate('Bearer abc.def.ghi')).toMatchObject({
      sub: 'dotted-user',
      via: 'api-key',
    });
    await expect(auth.authenticate('Bearer abc.def.ghj')).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('checks JWT-shaped tokens against the keys when no JWT key is configured', async () => {
    const auth = await createAuthenticator({ ...config, jwtSecret: undefined });
    expect((await auth.authenticate('Bearer abc.def.ghi')).sub).toBe('dotted-user');
    await expect(auth.authenticate('Bearer a.b.c')).rejects.toMatchObject({ code: 'unauthorized' });
  });
});

describe('requireScope', () => {
  it('passes with the scope and throws forbidden without it', () => {
    const p = { sub: 'u', scopes: new Set(['chat']), via: 'api-key' as const };
    expect(() => requireScope(p, 'chat')).not.toThrow();
    let err: unknown;
    try {
      requireScope(p, 'admin');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ code: 'forbidden', status: 403, message: 'missing scope "admin"' });
  });
});
