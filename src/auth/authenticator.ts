/**
 * The Authenticator (docs/protocol.md, section 2): `Authorization: Bearer <token>` with an API key or
 * a JWT, single-use WebSocket tickets, and open development mode when nothing is configured.
 */
import type { HeraldConfig } from '../config/config.js';
import { HeraldError } from '../errors/catalogue.js';
import { ApiKeyStore } from './api-keys.js';
import { createJwtVerifier, type JwtVerifier } from './jwt.js';
import { type Authenticator, type Principal, SCOPES, type Scope } from './principal.js';
import { TicketStore, type Tickets } from './tickets.js';

export type AuthConfig = Pick<HeraldConfig, 'apiKeys' | 'jwtSecret' | 'jwtPublicKey' | 'ticketTtlMs'>;

export interface AuthenticatorOptions {
  /** Clock in epoch milliseconds (tests): tickets and JWT `exp`. Default Date.now. */
  now?: () => number;
  /** Where tickets live (Redis, so every instance redeems them). Default: in this process. */
  tickets?: Tickets;
}

/** Longest token looked at; anything longer is refused before hashing or parsing. */
export const MAX_TOKEN_LENGTH = 8192;

const BEARER = /^Bearer +(\S+) *$/i;
/** Three dot-separated base64url parts (the signature may be empty, as in `alg: none`). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The one principal of open development mode: every scope. */
export const anonymousPrincipal = (): Principal => ({
  sub: 'anonymous',
  scopes: new Set(SCOPES),
  via: 'open',
});

/** Throws HeraldError('forbidden') unless the principal has the scope. */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) throw new HeraldError('forbidden', `missing scope "${scope}"`);
}

/** Builds the Authenticator; async because importing a PEM key is. Throws ConfigError for unusable keys. */
export async function createAuthenticator(
  config: AuthConfig,
  options: AuthenticatorOptions = {},
): Promise<Authenticator> {
  const apiKeys = new ApiKeyStore(config.apiKeys);
  const jwt: JwtVerifier | undefined =
    config.jwtSecret || config.jwtPublicKey
      ? await createJwtVerifier({
          secret: config.jwtSecret,
          publicKeyPem: config.jwtPublicKey,
          ...(options.now ? { now: options.now } : {}),
        })
      : undefined;
  const tickets: Tickets =
    options.tickets ??
    new TicketStore({
      ttlMs: config.ticketTtlMs,
      ...(options.now ? { now: options.now } : {}),
    });
  const openMode = apiKeys.size === 0 && jwt === undefined;

  async function authenticate(authorization: string | undefined): Promise<Principal> {
    if (openMode) return anonymousPrincipal();
    if (authorization === undefined || authorization.trim() === '')
      throw new HeraldError('unauthorized', 'missing credentials');
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined)
      throw new HeraldError('unauthorized', 'expected "Authorization: Bearer <token>"');
    if (token.length > MAX_TOKEN_LENGTH) throw new HeraldError('unauthorized', 'invalid credentials');
    if (jwt && JWT_SHAPE.test(token)) {
      try {
        return await jwt.verify(token);
      } catch (err) {
        // An API key may happen to look like a JWT: it still counts as one.
        const byKey = apiKeys.lookup(token);
        if (byKey) return byKey;
        throw err;
      }
    }
    const byKey = apiKeys.lookup(token);
    if (byKey) return byKey;
    throw new HeraldError('unauthorized', 'invalid credentials');
  }

  return {
    openMode,
    authenticate,
    issueTicket: async (principal) => tickets.issue(principal),
    redeemTicket: async (ticket) => tickets.redeem(ticket),
  };
}
