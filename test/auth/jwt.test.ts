import { generateKeyPairSync } from 'node:crypto';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { createJwtVerifier, detectPublicKeyAlgorithm, JWT_CLOCK_TOLERANCE_S } from '../../src/auth/jwt.js';
import { ConfigError } from '../../src/config/config.js';
import { rejects } from './rejects.js';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes!';
const secretBytes = new TextEncoder().encode(SECRET);
const nowS = () => Math.floor(Date.now() / 1000);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

const hs256 = (claims: Record<string, unknown>, key: Uint8Array = secretBytes) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);

const withSecret = () =>
  createAuthenticator({ apiKeys: [], jwtSecret: SECRET, jwtPublicKey: undefined, ticketTtlMs: 30_000 });
const withPublicKey = (pem: string) =>
  createAuthenticator({ apiKeys: [], jwtSecret: undefined, jwtPublicKey: pem, ticketTtlMs: 30_000 });

describe('JWT HS256', () => {
  it('accepts a valid token, scopes from the space-separated `scope` claim', async () => {
    const auth = await withSecret();
    const exp = nowS() + 600;
    const token = await hs256({ sub: 'user-1', scope: 'chat  agent:publish', exp });
    const p = await auth.authenticate(`Bearer ${token}`);
    expect(p.sub).toBe('user-1');
    expect(p.via).toBe('jwt');
    // The clock tolerance that admits a token also bounds its life on every path.
    expect(p.expiresAt).toBe((exp + JWT_CLOCK_TOLERANCE_S) * 1000);
    expect([...p.scopes].sort()).toEqual(['agent:publish', 'chat']);
  });

  it('takes scopes from a `scopes` array too', async () => {
    const auth = await withSecret();
    const token = await hs256({ sub: 'user-2', scopes: ['admin'], exp: nowS() + 60 });
    expect([...(await auth.authenticate(`Bearer ${token}`)).scopes]).toEqual(['admin']);
  });

  it('gives no scopes when the token names none, and refuses malformed scope claims', async () => {
    const auth = await withSecret();
    const none = await hs256({ sub: 'u', exp: nowS() + 60 });
    expect((await auth.authenticate(`Bearer ${none}`)).scopes.size).toBe(0);
    await rejects(auth.authenticate(`Bearer ${await hs256({ sub: 'u', exp: nowS() + 60, scope: 42 })}`));
    await rejects(auth.authenticate(`Bearer ${await hs256({ sub: 'u', exp: nowS() + 60, scopes: [1] })}`));
  });

  it('refuses an expired token', async () => {
    const auth = await withSecret();
    const token = await hs256({ sub: 'u', scope: 'chat', exp: nowS() - 60 });
    const err = await rejects(auth.authenticate(`Bearer ${token}`));
    expect(err.message).toBe('token expired');
    expect(err.message).not.toContain(token);
  });

  it('enforces exp against the injected clock', async () => {
    let now = Date.now();
    const auth = await createAuthenticator(
      { apiKeys: [], jwtSecret: SECRET, jwtPublicKey: undefined, ticketTtlMs: 30_000 },
      { now: () => now },
    );
    const token = await hs256({ sub: 'u', exp: Math.floor(now / 1000) + 60 });
    await auth.authenticate(`Bearer ${token}`);
    now += 120_000;
    await rejects(auth.authenticate(`Bearer ${token}`));
  });

  it('refuses a token without exp', async () => {
    const auth = await withSecret();
    const err = await rejects(auth.authenticate(`Bearer ${await hs256({ sub: 'u', scope: 'chat' })}`));
    expect(err.message).toContain('exp');
  });

  it('refuses a token without sub, or with a non-string sub', async () => {
    const auth = await withSecret();
    await rejects(auth.authenticate(`Bearer ${await hs256({ scope: 'chat', exp: nowS() + 60 })}`));
    await rejects(auth.authenticate(`Bearer ${await hs256({ sub: 7, exp: nowS() + 60 })}`));
    await rejects(auth.authenticate(`Bearer ${await hs256({ sub: '', exp: nowS() + 60 })}`));
  });

  it('refuses a token not yet valid (nbf)', async () => {
    const auth = await withSecret();
    const token = await hs256({ sub: 'u', exp: nowS() + 600, nbf: nowS() + 300 });
    await rejects(auth.authenticate(`Bearer ${token}`));
  });

  it('refuses an `alg: none` token', async () => {
    const auth = await withSecret();
    const payload = { sub: 'admin', scope: 'chat agent:publish admin', exp: nowS() + 600 };
    for (const header of [{ alg: 'none' }, { alg: 'none', typ: 'JWT' }, { alg: 'None' }]) {
      const token = `${b64url(header)}.${b64url(payload)}.`;
      await rejects(auth.authenticate(`Bearer ${token}`));
    }
  });

  it('refuses a token signed with the wrong secret', async () => {
    const auth = await withSecret();
    const token = await hs256({ sub: 'u', exp: nowS() + 60 }, new TextEncoder().encode(`${SECRET}-wrong`));
    const err = await rejects(auth.authenticate(`Bearer ${token}`));
    expect(err.message).toBe('invalid token signature');
  });

  it('refuses a tampered payload and garbage', async () => {
    const auth = await withSecret();
    const token = await hs256({ sub: 'u', scope: 'chat', exp: nowS() + 60 });
    const [h, , s] = token.split('.');
    const forged = `${h}.${b64url({ sub: 'u', scope: 'chat admin', exp: nowS() + 60 })}.${s}`;
    await rejects(auth.authenticate(`Bearer ${forged}`));
    await rejects(auth.authenticate('Bearer aaa.bbb.ccc'));
    await rejects(auth.authenticate(`Bearer ${b64url({ alg: 'HS256' })}.${b64url('x')}.abc`));
  });

  it('refuses HS384 when HS256 is configured', async () => {
    const auth = await withSecret();
    const token = await new SignJWT({ sub: 'u', exp: nowS() + 60 })
      .setProtectedHeader({ alg: 'HS384' })
      .sign(secretBytes);
    await rejects(auth.authenticate(`Bearer ${token}`));
  });
});

describe('JWT with a public key', () => {
  it('accepts RS256 tokens from an SPKI PEM key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    expect(detectPublicKeyAlgorithm(pem)).toBe('RS256');
    const auth = await withPublicKey(pem);
    const token = await new SignJWT({ sub: 'rs-user', scope: 'chat', exp: nowS() + 60 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(privateKey);
    const p = await auth.authenticate(`Bearer ${token}`);
    expect(p).toMatchObject({ sub: 'rs-user', via: 'jwt' });
    expect(p.scopes.has('chat')).toBe(true);
  });

  it('accepts EdDSA tokens from an Ed25519 SPKI PEM key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA');
    const pem = await exportSPKI(publicKey);
    expect(detectPublicKeyAlgorithm(pem)).toBe('EdDSA');
    const auth = await withPublicKey(pem);
    const token = await new SignJWT({ sub: 'ed-user', scope: 'admin', exp: nowS() + 60 })
      .setProtectedHeader({ alg: 'EdDSA' })
      .sign(privateKey);
    expect((await auth.authenticate(`Bearer ${token}`)).sub).toBe('ed-user');
  });

  it('accepts ES256 tokens from a P-256 SPKI PEM key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const pem = await exportSPKI(publicKey);
    expect(detectPublicKeyAlgorithm(pem)).toBe('ES256');
    const auth = await withPublicKey(pem);
    const token = await new SignJWT({ sub: 'es-user', exp: nowS() + 60 })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(privateKey);
    expect((await auth.authenticate(`Bearer ${token}`)).sub).toBe('es-user');
  });

  it('reads a PEM whose newlines came through an env var as literal \\n', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = (await exportSPKI(publicKey)).trim().replace(/\n/g, '\\n');
    const auth = await withPublicKey(pem);
    const token = await new SignJWT({ sub: 'u', exp: nowS() + 60 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(privateKey);
    expect((await auth.authenticate(`Bearer ${token}`)).sub).toBe('u');
  });

  it('refuses an HS256 token when an RS256 public key is configured (key confusion)', async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const auth = await withPublicKey(pem);
    const claims = { sub: 'attacker', scope: 'admin', exp: nowS() + 60 };
    // The classic attack: the public key's PEM text used as the HMAC secret.
    const forged = await hs256(claims, new TextEncoder().encode(pem));
    const err = await rejects(auth.authenticate(`Bearer ${forged}`));
    expect(err.message).toBe('token algorithm not allowed');
    await rejects(auth.authenticate(`Bearer ${await hs256(claims)}`));
  });

  it('refuses a token signed by another key pair', async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const other = await generateKeyPair('RS256');
    const auth = await withPublicKey(await exportSPKI(publicKey));
    const token = await new SignJWT({ sub: 'u', exp: nowS() + 60 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(other.privateKey);
    await rejects(auth.authenticate(`Bearer ${token}`));
  });

  it('refuses an RS256 token when an Ed25519 key is configured', async () => {
    const ed = await generateKeyPair('EdDSA');
    const rs = await generateKeyPair('RS256');
    const auth = await withPublicKey(await exportSPKI(ed.publicKey));
    const token = await new SignJWT({ sub: 'u', exp: nowS() + 60 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(rs.privateKey);
    await rejects(auth.authenticate(`Bearer ${token}`));
  });

  it('fails at start-up with a ConfigError for unusable keys', async () => {
    await expect(withPublicKey('not a pem')).rejects.toThrow(ConfigError);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(withPublicKey(pem)).rejects.toThrow(ConfigError);
    await expect(createJwtVerifier({})).rejects.toThrow(ConfigError);
  });

  it('accepts both kinds when a secret and a public key are configured, each only with its own alg', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const verifier = await createJwtVerifier({ secret: SECRET, publicKeyPem: await exportSPKI(publicKey) });
    expect([...verifier.algorithms].sort()).toEqual(['HS256', 'RS256']);
    const rs = await new SignJWT({ sub: 'a', exp: nowS() + 60 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(privateKey);
    expect((await verifier.verify(rs)).sub).toBe('a');
    expect((await verifier.verify(await hs256({ sub: 'b', exp: nowS() + 60 }))).sub).toBe('b');
  });
});
