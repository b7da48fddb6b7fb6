/**
 * `herald serve`: runs Herald, exactly as src/main.ts does (what `npm start` runs). Each flag
 * sets its configuration name in this process's environment before main reads it, so flags win
 * over the environment and the configuration file; main does the rest (the open-mode check,
 * listening, SIGTERM/SIGINT, exit 2 on bad configuration).
 */
import { type Command, EXIT, parse } from './args.js';

/** Flag → the configuration name it sets (README, Configuration). */
const FLAGS = {
  port: 'PORT',
  host: 'HOST',
  store: 'HERALD_STORE',
  'data-dir': 'HERALD_DATA_DIR',
  'redis-url': 'REDIS_URL',
  config: 'HERALD_CONFIG_FILE',
  'log-level': 'LOG_LEVEL',
} as const;

const help = `Usage: herald serve [options]

Runs Herald with the configuration from the environment and HERALD_CONFIG_FILE (README,
Configuration); each flag overrides its variable. With nothing configured: 127.0.0.1:8787,
SQLite in ./data, the built-in local agent, open development mode.

Options:
  --port <n>          PORT (default 8787; 0 picks a free port)
  --host <addr>       HOST (default 127.0.0.1)
  --store <kind>      HERALD_STORE: sqlite, memory or redis (default sqlite)
  --data-dir <dir>    HERALD_DATA_DIR (default ./data)
  --redis-url <url>   REDIS_URL (for --store redis)
  --config <file>     HERALD_CONFIG_FILE: a JSON object of configuration names
  --log-level <lvl>   LOG_LEVEL (default info)
  -h, --help          this help

Stops gracefully on SIGTERM or SIGINT (exit 0). Exit status 2 on bad configuration or a data
folder another Herald holds, 1 on any other failure to start.
`;

export const serve: Command = {
  summary: 'run Herald (what npm start runs)',
  help,
  async run(argv) {
    const options = Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }]));
    const { values } = parse(argv, options);
    if (values.help) {
      process.stdout.write(help);
      return EXIT.ok;
    }
    for (const [flag, name] of Object.entries(FLAGS)) {
      const value = values[flag];
      if (typeof value === 'string') process.env[name] = value;
    }
    // --config names the file whatever HERALD_CONFIG (the alias) says.
    if (typeof values.config === 'string') delete process.env.HERALD_CONFIG;
    // main.ts starts Herald when it is loaded, and from then on owns the process and its exit.
    await import('../main.js');
    return undefined;
  },
};
