import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../src/auth/api-keys.js';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import type { ApiKeyConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/config.js';
import { rejects } from './rejects.js';

const KEY = 'hk_live_0123456789abcdef';
const keys = (): ApiKeyConfig[] => [
  { key: KEY, sub: 'alice', scopes: ['chat'] },
  { key: 'hk_live_publisher_key_42', sub: 'pipeline', scopes: ['agent:publish'] },
];
const base = { jwtSecret: undefined, jwtPublicKey: undefined, ticketTtlMs: 30_000 };

describe('ApiKeyStore', () => {
  it('finds the principal of a configured key', () => {
    const store = new ApiKeyStore(keys());
    const p = store.lookup(KEY);
    expect(p).toEqual({ sub: 'alice', scopes: new Set(['chat']), via: 'api-key' });
    expect(store.lookup('hk_live_publisher_key_42')?.sub).toBe('pipeline');
  });

  it('finds nothing for a wrong, empty or near-miss key', () => {
    const store = new ApiKeyStore(keys());
    expect(store.lookup('something-else-entirely')).toBeUndefined();
    expect(store.lookup('')).toBeUndefined();
    expect(store.lookup(KEY.slice(0, -1))).toBeUndefined();
    expect(store.lookup(`${KEY}0`)).toBeUndefined();
    expect(store.lookup(`${KEY.slice(0, -1)}e`)).toBeUndefined();
    expect(store.lookup(KEY.toUpperCase())).toBeUndefined();
    expect(store.lookup(` ${KEY}`)).toBeUndefined();
  });

  it('refuses the same key configured twice', () => {
    expect(() => new ApiKeyStore([...keys(), { key: KEY, sub: 'mallory', scopes: ['admin'] }])).toThrow(
      ConfigError,
    );
  });

  it('hands out a fresh scope set each time', () => {
    const store = new ApiKeyStore(keys());
    const a = store.lookup(KEY)!;
    (a.scopes as Set<string>).add('admin');
    expect(store.lookup(KEY)!.scopes.has('admin')).toBe(false);
  });
});

describe('API keys through the authenticator', () => {
  it('accepts a configured key as a Bearer token, scheme case-insensitive', async () => {
    const auth = await createAuthenticator({ ...base, apiKeys: keys() });
    expect(auth.openMode).toBe(false);
    const p = await auth.authenticate(`Bearer ${KEY}`);
    expect(p).toMatchObject({ sub: 'alice', via: 'api-key' });
    expect([...p.scopes]).toEqual(['chat']);
    expect((await auth.authenticate(`bearer ${KEY}`)).sub).toBe('alice');
    expect((await auth.authenticate(`BEARER ${KEY}`)).sub).toBe('alice');
  });

  it('refuses a wrong key, an empty token, a near miss and other schemes', async () => {
    const auth = await createAuthenticator({ ...base, apiKeys: keys() });
    await rejects(auth.authenticate('Bearer not-a-configured-key'));
    await rejects(auth.authenticate(`Bearer ${KEY.slice(0, -1)}`));
    await rejects(auth.authenticate(`Bearer ${KEY}x`));
    await rejects(auth.authenticate('Bearer '));
    await rejects(auth.authenticate('Bearer'));
    await rejects(auth.authenticate(KEY));
    await rejects(auth.authenticate(`Basic ${Buffer.from(`alice:${KEY}`).toString('base64')}`));
    await rejects(auth.authenticate(`Bearer ${'a'.repeat(10_000)}`));
    const missing = await rejects(auth.authenticate(undefined));
    expect(missing.message).toBe('missing credentials');
    await rejects(auth.authenticate(''));
  });

  it('never echoes the presented token in the error', async () => {
    const auth = await createAuthenticator({ ...base, apiKeys: keys() });
    const err = await rejects(auth.authenticate('Bearer hk_live_guess_1234567'));
    expect(err.message).not.toContain('hk_live_guess_1234567');
    expect(JSON.stringify(err.toBody())).not.toContain('hk_live_guess_1234567');
  });

  it('keeps no plaintext key and no reference to the configuration', async () => {
    const config = { ...base, apiKeys: keys() };
    const auth = await createAuthenticator(config);
    const store = new ApiKeyStore(config.apiKeys);

    // Nothing reachable through serialization or inspection holds the plaintext.
    for (const obj of [auth, store]) {
      expect(JSON.stringify(obj)).not.toContain(KEY);
      expect(inspect(obj, { depth: 20, showHidden: true, getters: true })).not.toContain(KEY);
    }

    // Changing the configuration afterwards changes nothing: neither the array nor its
    // entries are kept (the key still works, a smuggled key or sub never does).
    const first = config.apiKeys[0]!;
    first.key = 'hk_live_replaced_after_start';
    first.sub = 'mallory';
    first.scopes.push('admin');
    config.apiKeys.push({ key: 'hk_live_pushed_after_start', sub: 'eve', scopes: ['admin'] });
    const viaAuth = await auth.authenticate(`Bearer ${KEY}`);
    const viaStore = store.lookup(KEY);
    for (const p of [viaAuth, viaStore]) {
      expect(p?.sub).toBe('alice');
      expect(p?.scopes.has('admin')).toBe(false);
    }
    await rejects(auth.authenticate('Bearer hk_live_replaced_after_start'));
    await rejects(auth.authenticate('Bearer hk_live_pushed_after_start'));
    expect(store.lookup('hk_live_pushed_after_start')).toBeUndefined();
    expect(store.size).toBe(2);
  });
});
