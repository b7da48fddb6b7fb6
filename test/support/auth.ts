/** Credentials for tests: API keys for two users, a publisher and an admin, and JWT helpers. */
import { SignJWT } from 'jose';

export const KEYS = {
  alice: 'alice-key-0123456789',
  bob: 'bob-key-0123456789',
  publisher: 'publisher-key-0123456789',
  admin: 'admin-key-0123456789',
};

export const JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';

/** Env that turns auth on: alice and bob chat, the publisher publishes, the admin administers. */
export const AUTH_ENV = {
  HERALD_API_KEYS: JSON.stringify([
    { key: KEYS.alice, sub: 'alice', scopes: ['chat'] },
    { key: KEYS.bob, sub: 'bob', scopes: ['chat'] },
    { key: KEYS.publisher, sub: 'publisher', scopes: ['agent:publish'] },
    { key: KEYS.admin, sub: 'admin', scopes: ['admin', 'chat'] },
  ]),
  HERALD_JWT_SECRET: JWT_SECRET,
};

export async function jwt(sub: string, scope: string, expiresIn: string | number = '5m'): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(JWT_SECRET));
}
