/**
 * `herald check`: validates the configuration with the server's own loader (src/config/config.ts)
 * and the checks Herald makes at start (repeated API keys, an unusable JWT public key, open
 * development mode off loopback), names every bad field, and prints the resolved configuration
 * as JSON with every secret masked. It never prints a secret.
 *
 * The loader stops at the first bad name, so to name them all, check puts the configuration
 * file's values under the environment itself (as the loader does), then loads again with each
 * name at fault set back to its default until the rest loads; API key entries and agent rate
 * limits are checked one by one so each bad entry is named.
 */
import { readFileSync } from 'node:fs';
import { ApiKeyStore } from '../auth/api-keys.js';
import { detectPublicKeyAlgorithm } from '../auth/jwt.js';
import {
  CONFIG_NAMES,
  ConfigError,
  type HeraldConfig,
  hasAuth,
  isLoopbackHost,
  loadConfig,
} from '../config/config.js';
import { type Command, EXIT, parse } from './args.js';

type Env = Record<string, string | undefined>;

const help = `Usage: herald check [--config <file>]

Validates the configuration Herald would start with (the environment, and HERALD_CONFIG_FILE
under it) using the server's own loader, and the checks made at start: repeated API keys, an
unusable HERALD_JWT_PUBLIC_KEY, open development mode off loopback.

On success prints the resolved configuration as JSON on stdout, every secret masked (API keys,
HERALD_JWT_SECRET, OPENAI_API_KEY, passwords in REDIS_URL and OPENAI_BASE_URL), and exits 0.
Otherwise names every bad field on stderr and exits 2.

Options:
  --config <file>     check this configuration file (sets HERALD_CONFIG_FILE)
  -h, --help          this help
`;

export const MASK = '********';

export interface CheckResult {
  /** The configuration as loaded, when it loads. */
  config: HeraldConfig | undefined;
  /** One line per bad field, each starting with the name at fault. */
  problems: string[];
}

const NAME = /^[A-Z][A-Z0-9_]*/;

/** The configuration file's values under the environment, or the file's own problems. */
function withFile(env: Env, problems: string[]): Env {
  const file = env.HERALD_CONFIG_FILE?.trim();
  const merged: Env = { ...env, HERALD_CONFIG_FILE: undefined };
  if (!file) return merged;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(
      `HERALD_CONFIG_FILE ${file} ${err instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read'}`,
    );
    return merged;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`HERALD_CONFIG_FILE ${file} must hold a JSON object of configuration names`);
    return merged;
  }
  for (const [name, value] of Object.entries(parsed)) {
    if (!(CONFIG_NAMES as readonly string[]).includes(name)) {
      problems.push(`HERALD_CONFIG_FILE ${file}: unknown name "${name}"`);
      continue;
    }
    if (value === null || value === undefined || env[name] !== undefined) continue;
    merged[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return merged;
}

/** Loads `env` and returns the loader's message, or undefined when it loads. */
function loadError(env: Env): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

/** Each bad entry of a JSON array or object value, checked on its own by the loader. */
function entryProblems(name: string, raw: string | undefined): string[] {
  let value: unknown;
  try {
    value = JSON.parse(raw ?? '');
  } catch {
    return [];
  }
  const found: string[] = [];
  if (name === 'HERALD_API_KEYS' && Array.isArray(value)) {
    for (const [i, entry] of value.entries()) {
      const message = loadError({ HERALD_API_KEYS: JSON.stringify([entry]) });
      if (message) found.push(message.replace('HERALD_API_KEYS[0]', `HERALD_API_KEYS[${i}]`));
    }
  } else if (
    name === 'HERALD_AGENT_RATE_LIMITS' &&
    typeof value === 'object' &&
    value &&
    !Array.isArray(value)
  ) {
    for (const [type, n] of Object.entries(value)) {
      const message = loadError({ HERALD_AGENT_RATE_LIMITS: JSON.stringify({ [type]: n }) });
      if (message) found.push(message);
    }
  }
  return found;
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
  }
  const problems: string[] = [];
  const env = withFile(input, problems);
  const reset = new Set<string>();
  for (;;) {
    const message = loadError(env);
    if (message === undefined) break;
    const name = NAME.exec(message)?.[0];
    const each = name ? entryProblems(name, env[name]) : [];
    problems.push(...(each.length > 0 ? each : [message]));
    if (name === undefined || reset.has(name)) break;
    reset.add(name);
    env[name] = ''; // empty is the default for every name, and wins over the file
  }
  return { config: undefined, problems };
}

/** A URL with any password (or a lone user name, which is often a token) masked. */
export function maskUrl(url: string | undefined): string | null {
  if (url === undefined) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${MASK} (not a URL; not shown)`;
  }
  if (u.password) u.password = MASK;
  else if (u.username) u.username = MASK;
  return u.toString();
}

/** Names whose string values are secrets wherever they appear (a field added later included). */
const SECRET_NAME = /secret|password|passwd|token|api_?key|private_?key|credential/i;

function maskDeep(value: unknown, name = ''): unknown {
  if (typeof value === 'string') return SECRET_NAME.test(name) && value !== MASK ? MASK : value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, name));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, k)]));
  return value;
}

/** The configuration with every secret masked; unset values are null so every field shows. */
export function masked(config: HeraldConfig): unknown {
  let publicKey: string | null = null;
  if (config.jwtPublicKey) {
    try {
      publicKey = `(${detectPublicKeyAlgorithm(config.jwtPublicKey)} public key)`;
    } catch {
      publicKey = '(unreadable public key)';
    }
  }
  return maskDeep({
    ...config,
    redisUrl: maskUrl(config.redisUrl),
    apiKeys: config.apiKeys.map((k) => ({ key: MASK, sub: k.sub, scopes: k.scopes })),
    jwtSecret: config.jwtSecret ? MASK : null,
    jwtPublicKey: publicKey,
    openai: {
      ...config.openai,
      baseUrl: maskUrl(config.openai.baseUrl),
      apiKey: config.openai.apiKey ? MASK : null,
    },
  });
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
    const env: Env =
      values.config === undefined ? process.env : { ...process.env, HERALD_CONFIG_FILE: values.config };
    const { config, problems } = checkConfig(env);
    if (problems.length > 0 || !config) {
      process.stderr.write(
        `herald check: bad configuration (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):\n`,
      );
      for (const p of problems) process.stderr.write(`  ${p}\n`);
      return EXIT.usage;
    }
    process.stdout.write(`${JSON.stringify(masked(config), null, 2)}\n`);
    process.stderr.write(
      `herald check: configuration ok${hasAuth(config) ? '' : ' (open development mode: no credentials configured)'}\n`,
    );
    return EXIT.ok;
  },
};
