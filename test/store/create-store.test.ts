import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import { newSession } from './conformance.js';

describe('createStore', () => {
  it('opens herald.db in the data folder for sqlite', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'herald-create-')), 'data');
    try {
      const store = await createStore({ store: 'sqlite', dataDir, redisUrl: '' });
      const s = newSession();
      await store.createSession(s);
      expect(await store.getSession(s.id)).toEqual(s);
      await store.close();
      expect(fs.existsSync(path.join(dataDir, 'herald.db'))).toBe(true);
    } finally {
      fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
    }
  });

  it('makes a memory store', async () => {
    const store = await createStore({ store: 'memory', dataDir: '/nonexistent', redisUrl: '' });
    const s = newSession();
    await store.createSession(s);
    expect(await store.getSession(s.id)).toEqual(s);
  });

  it('says clearly that redis is not available yet', async () => {
    await expect(
      createStore({ store: 'redis', dataDir: '.', redisUrl: 'redis://127.0.0.1:6379' }),
    ).rejects.toThrow('HERALD_STORE=redis is not available yet');
  });
});
