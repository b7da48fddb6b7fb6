/** The real process: SIGTERM closes WebSockets with 1001 and exits 0. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();

describe('signals', () => {
  it('shuts down gracefully on SIGTERM', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-signal-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: String(port), HERALD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      // Ready when it logs that it listens (LOG_LEVEL=warn still prints the open-mode warning).
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('open development mode') && resolve());
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const { client } = await h.connect(`ws://127.0.0.1:${port}/ws/chat`);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect(await client.closed()).toBe(1001);
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
