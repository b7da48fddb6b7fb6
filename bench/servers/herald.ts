/**
 * Herald as its own process for the bench:
 *
 *   node --expose-gc --import tsx bench/servers/herald.ts     (started by bench/run.ts)
 *
 * It loads src/app.ts and src/config/config.ts of BENCH_HERALD_DIR (default: this checkout, so a
 * before/after can be measured in one run), builds the app from the configuration in
 * BENCH_PARAMS.env only (never the caller's environment), listens on 127.0.0.1 port 0 and
 * reports the port over IPC. See servers/common.ts for heap, stats and close.
 */
import type { AddressInfo } from 'node:net';
import type * as AppModule from '../../src/app.js';
import type * as ConfigModule from '../../src/config/config.js';
import { heraldModule, params } from '../lib/child.js';
import { serve } from './common.js';

interface Params {
  /** Herald's configuration, as environment variable names. */
  env: Record<string, string>;
}

await serve(async () => {
  const { env } = params<Params>();
  const { buildApp } = (await import(heraldModule('src/app.js'))) as typeof AppModule;
  const { loadConfig } = (await import(heraldModule('src/config/config.js'))) as typeof ConfigModule;
  const config = loadConfig({ ...env, HOST: '127.0.0.1', PORT: '0' });
  const app = await buildApp(config, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { port, close: () => app.close() };
});
