/**
 * `herald check`: validates the configuration with the server's own loader (src/config/config.ts),
 * which names every bad setting at once, and the checks Herald makes at start (repeated API keys,
 * an unusable JWT public key, open development mode off loopback); prints the resolved
 * configuration as JSON with every value the schema (src/config/schema.ts) marks secret masked.
 * It never prints a secret.
 */
import { ApiKeyStore } from '../auth/api-keys.js';
import { detectPublicKeyAlgorithm } from '../auth/jwt.js';
import {
  ConfigError,
  formatProblems,
  type HeraldConfig,
  hasAuth,
  isLoopbackHost,
  loadConfig,
} from '../config/config.js';
import { MASK, maskSecrets, maskUrl } from '../config/schema.js';
import { type Command, EXIT, parse } from './args.js';

export { MASK, maskUrl };

type Env = Record<string, string | undefined>;

const help = `Usage: herald check [--config <file>]

Validates the configuration Herald would start with (the environment, and HERALD_CONFIG_FILE
or HERALD_CONFIG under it) using the server's own loader, and the checks made at start:
repeated API keys, an unusable HERALD_JWT_PUBLIC_KEY, open development mode off loopback.

On success prints the resolved configuration as JSON on stdout, every secret masked (API keys,
HERALD_JWT_SECRET, OPENAI_API_KEY, passwords in REDIS_URL and OPENAI_BASE_URL), and exits 0.
Otherwise names every bad setting on stderr (unknown names with the closest known one) and
exits 2.

Options:
  --config <file>     check this configuration file (sets HERALD_CONFIG_FILE)
  -h, --help          this help
`;

export interface CheckResult {
  /** The configuration as loaded, when it loads. */
  config: HeraldConfig | undefined;
  /** One line per bad setting, each starting with the name at fault. */
  problems: string[];
}

/** The checks Herald makes at start, beyond the loader. */
function startProblems(config: HeraldConfig): string[] {
  const problems: string[] = [];
  try {
    new ApiKeyStore(config.apiKeys);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err.message);
  }
  if (config.jwtPublicKey) {
    try {
      detectPublicKeyAlgorithm(config.jwtPublicKey);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err.message);
    }
  }
  if (!hasAuth(config) && !isLoopbackHost(config.host))
    problems.push(
      `HOST ${config.host} is not a loopback address, and no credentials are configured (open development mode is allowed only on loopback): set HERALD_API_KEYS, HERALD_JWT_SECRET or HERALD_JWT_PUBLIC_KEY`,
    );
  return problems;
}

/** Every problem with the configuration in `input`, and the configuration when it loads. */
export function checkConfig(input: Env): CheckResult {
  try {
    const config = loadConfig(input);
    return { config, problems: startProblems(config) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { config: undefined, problems: [...err.lines] };
  }
}

/** The configuration with every secret masked (the schema's `secret`); unset values are null so every field shows. */
export function masked(config: HeraldConfig): unknown {
  let publicKey: string | null = null;
  if (config.jwtPublicKey) {
    try {
      publicKey = `(${detectPublicKeyAlgorithm(config.jwtPublicKey)} public key)`;
    } catch {
      publicKey = '(unreadable public key)';
    }
  }
  // Not a secret, but a PEM block says less than its algorithm.
  return { ...maskSecrets(config), jwtPublicKey: publicKey };
}

export const check: Command = {
  summary: 'validate the configuration and print it, secrets masked',
  help,
  async run(argv) {
    const { values } = parse(argv, { config: { type: 'string' } });
    if (values.help) {
      process.stdout.write(help);
      return EXIT.ok;
    }
    // The flag names the file, whatever HERALD_CONFIG (the alias) says.
    const env: Env =
      values.config === undefined
        ? process.env
        : { ...process.env, HERALD_CONFIG_FILE: values.config, HERALD_CONFIG: undefined };
    const { config, problems } = checkConfig(env);
    if (problems.length > 0 || !config) {
      process.stderr.write(formatProblems('herald check: bad configuration', problems));
      return EXIT.usage;
    }
    process.stdout.write(`${JSON.stringify(masked(config), null, 2)}\n`);
    process.stderr.write(
      `herald check: configuration ok${hasAuth(config) ? '' : ' (open development mode: no credentials configured)'}\n`,
    );
    return EXIT.ok;
  },
};
