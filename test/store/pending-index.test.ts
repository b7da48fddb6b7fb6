import { describe, expect, it } from 'vitest';
import { type PendingEntry, PendingIndex } from '../../src/store/sqlite/pending-index.js';

const entry = (id: string, seq: number): PendingEntry => ({ id, seq, expiresAtMs: 1000, message: undefined });
const none = (): PendingEntry[] => [];

describe('PendingIndex', () => {
  it('keeps sessions known to be empty apart: adding to one never shows in another', () => {
    const index = new PendingIndex();
    index.created('a');
    index.created('b');
    index.added('a', entry('am_1', 1));
    expect([...index.get('a', none)!.keys()]).toEqual(['am_1']);
    expect(index.get('b', none)!.size).toBe(0);
    index.created('c');
    expect(index.get('c', none)!.size).toBe(0);
  });

  it('loads a session once, and answers from memory after', () => {
    const index = new PendingIndex();
    let loads = 0;
    const load = () => {
      loads++;
      return [entry('am_1', 1), entry('am_2', 2)];
    };
    expect([...index.get('s', load)!.keys()]).toEqual(['am_1', 'am_2']);
    index.removed('s', ['am_1']);
    expect([...index.get('s', load)!.keys()]).toEqual(['am_2']);
    expect(loads).toBe(1);
  });

  it('hands a session with more than one index holds to the file, until it is evicted', () => {
    const index = new PendingIndex({ maxPerSession: 2 });
    expect(index.get('big', () => [entry('a', 1), entry('b', 2), entry('c', 3)])).toBeUndefined();
    index.created('s');
    index.added('s', entry('a', 1));
    index.added('s', entry('b', 2));
    index.added('s', entry('c', 3));
    expect(index.get('s', none)).toBeUndefined();
    expect(index.size.entries).toBe(0);
  });

  it('evicts the least recently used sessions past its bounds', () => {
    const index = new PendingIndex({ maxSessions: 2, maxEntries: 3 });
    index.created('a');
    index.created('b');
    index.get('a', none); // a is now the most recently used
    index.created('c'); // evicts b
    expect(index.size.sessions).toBe(2);
    let reloaded = false;
    index.get('b', () => {
      reloaded = true;
      return [];
    });
    expect(reloaded).toBe(true);
    index.added('b', entry('1', 1));
    index.added('b', entry('2', 2));
    index.added('b', entry('3', 3));
    index.added('b', entry('4', 4));
    expect(index.size.entries).toBeLessThanOrEqual(3);
  });
});
