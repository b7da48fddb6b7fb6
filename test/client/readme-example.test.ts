/**
 * The README's herald/client example, run as written (only the URL changed) in a Node process
 * of its own against a running Herald in open development mode: it imports `herald/client` by
 * package name (the `herald-source` condition), connects over `ws`, prints the sanitization
 * summary and the reply, and exits.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { useHarness } from '../support/harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const h = useHarness();

function readmeExample(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## The client SDK\n'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('no example in the README section');
  return match[1]!;
}

it("runs the README's herald/client example", async () => {
  const server = await h.start();
  const code = readmeExample().replace('http://127.0.0.1:8787', server.url);
  expect(code).toContain(server.url);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=herald-source', '--import', 'tsx', '--input-type=module', '-e', code],
    { cwd: ROOT, timeout: 15_000 },
  );
  expect(stdout).toMatch(/^\[sanitization\] .*Sanitization Summary/m);
  expect(stdout).toContain('I read your message');
  expect(stdout).not.toContain('jane@example.com');
});
