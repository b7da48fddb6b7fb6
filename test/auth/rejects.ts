/** Awaits a promise expected to reject with a HeraldError of `code`, and returns that error. */
import { expect } from 'vitest';
import { HeraldError } from '../../src/errors/catalogue.js';

export async function rejects(p: Promise<unknown>, code = 'unauthorized'): Promise<HeraldError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HeraldError);
  expect((err as HeraldError).code).toBe(code);
  return err as HeraldError;
}
