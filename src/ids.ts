/**
 * Sortable ids (ULID) with a prefix: `sess_…`, `m_…`, `am_…`, `ws_…`. The ulid package asks
 * crypto for one byte per character by default, which showed as 12% of chat CPU in the
 * benchmark; here its PRNG reads from a pooled buffer of crypto-random bytes instead.
 */
import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

const pool = new Uint8Array(4096);
let offset = pool.length;

function pooledRandom(): number {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  return pool[offset++]! / 256;
}

/** A new ULID with the given prefix, e.g. `newId('am_')`; `time` seeds its first 48 bits. */
export const newId = (prefix: string, time?: number): string => prefix + ulid(time, pooledRandom);
