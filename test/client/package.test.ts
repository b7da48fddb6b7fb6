/**
 * `herald/client` as shipped: imported by package name in a Node process of its own (the
 * `herald-source` condition maps it onto src/, as for `herald/protocol`), loading nothing but
 * src/client (the protocol is types only, so not even TypeBox); and bundled for the browser by
 * bench/client-size.ts, with no import left to any package and a small size.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureClient } from '../../bench/client-size.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const SCRIPT = `
const client = await import('herald/client');
process.stdout.write(JSON.stringify(Object.keys(client).sort()));
`;

describe('herald/client package', () => {
  it('imports by package name', () => {
    const out = execFileSync(
      process.execPath,
      ['--conditions=herald-source', '--import', 'tsx', '--input-type=module', '-e', SCRIPT],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual([
      'ConnectionState',
      'HeraldClient',
      'HeraldClientError',
      'backoffDelay',
      'defaultStorage',
      'memoryStorage',
    ]);
  });

  it('bundles for the browser from src/client alone, with no dependency, under 6 KB gzipped', async () => {
    const size = await measureClient();
    expect(size.external).toEqual([]);
    for (const input of size.inputs) expect(input).toMatch(/^src\/client\//);
    expect(size.gzippedBytes).toBeLessThan(6 * 1024);
  });
});
