/**
 * `herald/protocol` imported by package name, as a client would (the package refers to itself
 * through package.json `exports`), in a Node process of its own that records every module it
 * loads: the protocol's schemas, types and codes, and nothing of the server or of Node.
 * The `herald-source` condition points the exports at the TypeScript source (run through tsx),
 * so no build is needed; without it they point at dist/.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A resolve hook that writes every URL it resolves to the file named by HERALD_TRACE. */
const TRACE_HOOK = `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.HERALD_TRACE, result.url + '\\n');
  return result;
}`)}`;

const SCRIPT = `
import { register } from 'node:module';
register(${JSON.stringify(TRACE_HOOK)});
const protocol = await import('herald/protocol');
process.stdout.write(JSON.stringify(Object.keys(protocol)));
`;

function importProtocol(): { names: string[]; loaded: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-protocol-'));
  const trace = path.join(dir, 'trace.txt');
  try {
    const out = execFileSync(
      process.execPath,
      ['--conditions=herald-source', '--import', 'tsx', '--input-type=module', '-e', SCRIPT],
      { cwd: ROOT, env: { ...process.env, HERALD_TRACE: trace }, encoding: 'utf8' },
    );
    return { names: JSON.parse(out), loaded: readFileSync(trace, 'utf8').trim().split('\n') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('herald/protocol', () => {
  it('imports by package name and pulls in no server code', () => {
    const { names, loaded } = importProtocol();
    for (const name of [
      'ServerFrame',
      'ClientFrame',
      'AgentMessage',
      'ChatBody',
      'ERROR_CODES',
      'UiStreamPart',
    ])
      expect(names).toContain(name);
    expect(names).toContain('PROTOCOL_VERSION');

    const src = pathToFileURL(path.join(ROOT, 'src')).href;
    // Wherever node_modules really is (a symlink resolves to its target).
    const isTypebox = (url: string) => url.includes('/node_modules/@sinclair/typebox/');
    const ours = loaded.filter((url) => url.startsWith(src));
    expect(ours).toContain(`${src}/protocol/index.ts`);
    // Every module loaded after the hook: the protocol folder and TypeBox, no Node built-ins.
    const protocolLoads = loaded.slice(loaded.indexOf(`${src}/protocol/index.ts`));
    for (const url of protocolLoads)
      expect(url.startsWith(`${src}/protocol/`) || isTypebox(url), url).toBe(true);
  });
});
