/**
 * API keys (docs/protocol.md, section 2): the configured keys are kept only as SHA-256 hashes and a
 * presented token is compared in constant time against every one of them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import type { Principal } from './principal.js';

interface StoredKey {
  readonly hash: Buffer;
  readonly sub: string;
  readonly scopes: readonly string[];
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Holds hashed API keys; never keeps the plaintext keys or the configuration objects. */
export class ApiKeyStore {
  readonly #keys: readonly StoredKey[];

  /** Throws ConfigError when the same key is configured twice (it would name two users). */
  constructor(keys: readonly ApiKeyConfig[]) {
    const stored: StoredKey[] = [];
    for (const [i, entry] of keys.entries()) {
      const hash = sha256(entry.key);
      if (stored.some((s) => timingSafeEqual(s.hash, hash)))
        throw new ConfigError(`HERALD_API_KEYS[${i}].key repeats an earlier key`);
      stored.push({ hash, sub: entry.sub, scopes: Object.freeze([...entry.scopes]) });
    }
    this.#keys = Object.freeze(stored);
  }

  /** How many keys are configured. */
  get size(): number {
    return this.#keys.length;
  }

  /**
   * The principal of the key equal to `token`, or undefined. Every stored hash is compared,
   * match or not, so the time taken says neither whether nor which key matched.
   */
  lookup(token: string): Principal | undefined {
    const presented = sha256(token);
    let found: StoredKey | undefined;
    for (const key of this.#keys) {
      const equal = timingSafeEqual(key.hash, presented);
      found = equal && found === undefined ? key : found;
    }
    if (found === undefined || token === '') return undefined;
    return { sub: found.sub, scopes: new Set(found.scopes), via: 'api-key' };
  }

  toJSON(): { keys: number } {
    return { keys: this.#keys.length };
  }
}
