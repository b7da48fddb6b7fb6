/** Open development mode: allowed on loopback only; main exits non-zero elsewhere and says why. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';

function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, HERALD_STORE: 'memory', PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
}

describe('open development mode', () => {
  it('refuses to listen on 0.0.0.0 without credentials, naming the address and HERALD_API_KEYS', async () => {
    const { code, stderr } = await runMain({ HOST: '0.0.0.0', HERALD_API_KEYS: '' });
    expect(code).not.toBe(0);
    expect(stderr).toContain('0.0.0.0');
    expect(stderr).toContain('HERALD_API_KEYS');
  });

  it('refuses a configuration error with a clear message', async () => {
    const { code, stderr } = await runMain({ HERALD_STORE: 'mongo' });
    expect(code).not.toBe(0);
    expect(stderr).toContain('HERALD_STORE');
  });
});
