/**
 * Entry point: read the configuration, refuse open development mode off loopback, build the
 * app, listen, and shut down gracefully on SIGTERM and SIGINT. Exits 2 on bad configuration
 * (every problem named, one line each) or a data folder another Herald holds, 1 on any other
 * start failure.
 */
import { buildApp } from './app.js';
import { ConfigError, formatProblems, hasAuth, isLoopbackHost, loadConfig } from './config/config.js';
import { DataFolderInUseError } from './store/sqlite/folder-lock.js';

/** Every problem with the configuration, one line each naming the setting, then exit 2. */
function refuseConfiguration(err: ConfigError): never {
  process.stderr.write(formatProblems('herald: bad configuration', err.lines));
  process.exit(2);
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) refuseConfiguration(err);
    throw err;
  }
  if (!hasAuth(config) && !isLoopbackHost(config.host)) {
    process.stderr.write(
      `herald: refusing to listen on ${config.host}: no credentials are configured (open development mode), ` +
        'which is allowed only on a loopback address. Set HERALD_API_KEYS (or HERALD_JWT_SECRET / ' +
        'HERALD_JWT_PUBLIC_KEY), or listen on 127.0.0.1.\n',
    );
    process.exit(1);
  }

  const app = await buildApp(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  if (!hasAuth(config))
    app.log.warn('open development mode: no HERALD_API_KEYS or JWT key; every caller is the anonymous user');
}

main().catch((err) => {
  // Found while building the app (a repeated API key, an unusable HERALD_JWT_PUBLIC_KEY): still configuration.
  if (err instanceof ConfigError) refuseConfiguration(err);
  if (err instanceof DataFolderInUseError) {
    // Another Herald holds HERALD_DATA_DIR: the same status as any other refused setting.
    process.stderr.write(`herald: refusing to start: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`herald: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
