/**
 * Which Redis client errors mean "Redis cannot be reached" (the store rejects with
 * StoreUnavailableError, 503) and which are the command's own fault (passed on unchanged).
 */
import { createRequire } from 'node:module';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isConnectionFailure } from '../../src/store/redis-store.js';
import { StoreUnavailableError } from '../../src/store/shared.js';

// What ioredis rejects queued commands with once it gave up retrying (not exported by its index).
const MaxRetriesPerRequestError: new (n: number) => Error = createRequire(import.meta.url)(
  'ioredis/built/errors/MaxRetriesPerRequestError.js',
).default;

describe('isConnectionFailure', () => {
  it('is true for a lost or refused connection, a timeout, and a Redis that cannot serve yet', () => {
    expect(isConnectionFailure(new MaxRetriesPerRequestError(1))).toBe(true);
    expect(isConnectionFailure(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionFailure(new Error('Command timed out'))).toBe(true);
    expect(
      isConnectionFailure(new Error("Stream isn't writeable and enableOfflineQueue options is false")),
    ).toBe(true);
    expect(
      isConnectionFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isConnectionFailure(new ReplyError('LOADING Redis is loading the dataset in memory'))).toBe(true);
  });

  it("is false for the command's own errors and for anything not from the client", () => {
    expect(
      isConnectionFailure(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind')),
    ).toBe(false);
    expect(isConnectionFailure(new TypeError('expiresAt is not a date'))).toBe(false);
    expect(isConnectionFailure('Connection is closed.')).toBe(false);
  });
});

describe('StoreUnavailableError', () => {
  it('is the catalogue error unavailable with a Retry-After, naming no address', () => {
    const err = new StoreUnavailableError(new Error('connect ECONNREFUSED 10.0.0.7:6379'));
    expect(err.code).toBe('unavailable');
    expect(err.status).toBe(503);
    expect(err.retryAfter).toBe(5);
    expect(err.toBody()).toEqual({
      success: false,
      code: 'unavailable',
      error: 'The store cannot be reached; retry shortly.',
      retryAfter: 5,
    });
  });
});
