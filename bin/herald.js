#!/usr/bin/env node
// The `herald` command (docs/cli.md). In a checkout it runs the TypeScript source through tsx,
// as `npm run dev` and the tests do, so it is never stale; where tsx is not installed (a
// production install) it runs the build from `npm run build`. docs/decisions.md, "The herald command".
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli/main.js', import.meta.url);

let entry;
if (existsSync(source)) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = source;
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  }
}
if (!entry && existsSync(built)) entry = built;
if (!entry) {
  process.stderr.write(
    'herald: cannot run: neither tsx (npm ci installs it) nor a build (npm run build) is here\n',
  );
  process.exit(1);
}
await import(entry.href);
