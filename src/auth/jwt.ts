/**
 * JWT verification (docs/protocol.md, section 2) through jose: HS256 with a shared secret, or an SPKI
 * PEM public key (RS256, ES256/384/512 or EdDSA, picked from the key's type). Only the
 * configured algorithms are accepted, so `alg: none` and algorithm swaps are refused.
 */
import { createPublicKey } from 'node:crypto';
import { errors, importSPKI, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { ConfigError } from '../config/config.js';
import { HeraldError } from '../errors/catalogue.js';
import type { Principal } from './principal.js';

export type AsymmetricJwtAlgorithm = 'RS256' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';
export type JwtAlgorithm = 'HS256' | AsymmetricJwtAlgorithm;

/** Seconds of clock skew allowed on `exp`, `nbf` and `iat`. */
export const JWT_CLOCK_TOLERANCE_S = 5;

export interface JwtVerifierOptions {
  /** HS256 shared secret (`HERALD_JWT_SECRET`), used as UTF-8 bytes. */
  secret?: string | undefined;
  /** SPKI PEM public key (`HERALD_JWT_PUBLIC_KEY`); literal `\n` sequences are read as newlines. */
  publicKeyPem?: string | undefined;
  /** Clock in epoch milliseconds (tests). Default Date.now. */
  now?: () => number;
}

export interface JwtVerifier {
  /** The algorithms accepted, e.g. ['HS256'] or ['RS256']. */
  readonly algorithms: readonly string[];
  /** The principal of a valid token; throws HeraldError('unauthorized') with a short reason. */
  verify(token: string): Promise<Principal>;
}

const EC_CURVES: Record<string, AsymmetricJwtAlgorithm> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

/** Reads the PEM as given in an environment variable (which often carries `\n` literally). */
function normalizePem(pem: string): string {
  return pem.replace(/\\n/g, '\n').trim();
}

/**
 * The JWS algorithm for an SPKI PEM public key: rsa → RS256, ec P-256/P-384/P-521 →
 * ES256/ES384/ES512, ed25519 → EdDSA. Throws ConfigError for anything else.
 */
export function detectPublicKeyAlgorithm(pem: string): AsymmetricJwtAlgorithm {
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey(normalizePem(pem));
  } catch {
    throw new ConfigError('HERALD_JWT_PUBLIC_KEY is not a readable PEM public key');
  }
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'ed25519':
      return 'EdDSA';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
      const alg = EC_CURVES[curve];
      if (alg) return alg;
      throw new ConfigError(`HERALD_JWT_PUBLIC_KEY uses the unsupported EC curve "${curve}"`);
    }
    default:
      throw new ConfigError(
        `HERALD_JWT_PUBLIC_KEY has the unsupported key type "${key.asymmetricKeyType ?? 'unknown'}" (use RSA, EC or Ed25519)`,
      );
  }
}

type VerifyKey = Awaited<ReturnType<typeof importSPKI>> | Uint8Array;

/** Builds a verifier; throws ConfigError when neither key is given or the PEM cannot be used. */
export async function createJwtVerifier(options: JwtVerifierOptions): Promise<JwtVerifier> {
  const keys = new Map<string, VerifyKey>();
  if (options.secret) keys.set('HS256', new TextEncoder().encode(options.secret));
  if (options.publicKeyPem) {
    const alg = detectPublicKeyAlgorithm(options.publicKeyPem);
    let key: VerifyKey;
    try {
      key = await importSPKI(normalizePem(options.publicKeyPem), alg);
    } catch {
      throw new ConfigError(
        'HERALD_JWT_PUBLIC_KEY must be an SPKI public key ("-----BEGIN PUBLIC KEY-----")',
      );
    }
    keys.set(alg, key);
    // RFC 9864 names the Ed25519 algorithm "Ed25519"; the same key verifies both names.
    if (alg === 'EdDSA') keys.set('Ed25519', key);
  }
  if (keys.size === 0)
    throw new ConfigError('JWT verification needs HERALD_JWT_SECRET or HERALD_JWT_PUBLIC_KEY');

  const algorithms = Object.freeze([...keys.keys()]);
  // The key is chosen by the header's alg, and jose checks the alg against `algorithms` and
  // the key's type first, so an HS256 token can never be checked with the public key.
  const getKey: JWTVerifyGetKey = (header) => {
    const key = header.alg === undefined ? undefined : keys.get(header.alg);
    if (!key) throw new errors.JOSEAlgNotAllowed('alg not allowed');
    return key;
  };
  const now = options.now;

  return {
    algorithms,
    async verify(token: string): Promise<Principal> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          algorithms: [...algorithms],
          requiredClaims: ['exp', 'sub'],
          clockTolerance: JWT_CLOCK_TOLERANCE_S,
          ...(now ? { currentDate: new Date(now()) } : {}),
        }));
      } catch (err) {
        throw new HeraldError('unauthorized', reasonFor(err), { cause: safeCause(err) });
      }
      return principalFrom(payload);
    },
  };
}

/** A short reason for the client; never the token or its claims. */
function reasonFor(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'invalid token signature';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `token has no "${err.claim}" claim`;
    if (err.claim === 'nbf') return 'token not yet valid';
    return `token claim "${err.claim}" is invalid`;
  }
  return 'invalid token';
}

/** jose errors carry the claims set (`payload`); keep only the name and code for logs. */
function safeCause(err: unknown): unknown {
  if (err instanceof errors.JOSEError) return { name: err.name, code: err.code };
  return undefined;
}

function principalFrom(payload: JWTPayload): Principal {
  const { sub, exp } = payload;
  if (typeof sub !== 'string' || sub === '') throw new HeraldError('unauthorized', 'token "sub" is invalid');
  if (typeof exp !== 'number') throw new HeraldError('unauthorized', 'token has no "exp" claim');
  // The tolerance that let the token in also bounds its life elsewhere (WebSocket expiry,
  // tickets), so a token just past `exp` is treated alike on every path.
  return { sub, scopes: scopesFrom(payload), via: 'jwt', expiresAt: (exp + JWT_CLOCK_TOLERANCE_S) * 1000 };
}

/** Scopes from `scope` (space-separated, as OAuth 2.0; an array is accepted too) and `scopes` (array). */
function scopesFrom(payload: JWTPayload): Set<string> {
  const scopes = new Set<string>();
  for (const claim of ['scope', 'scopes'] as const) {
    const value = payload[claim];
    if (value === undefined) continue;
    const list = typeof value === 'string' ? value.split(/\s+/) : value;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))
      throw new HeraldError('unauthorized', `token claim "${claim}" is invalid`);
    for (const s of list) if (s !== '') scopes.add(s);
  }
  return scopes;
}
