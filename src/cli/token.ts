/**
 * `herald token --sub alice --scopes chat --ttl 1h`: a JWT that Herald accepts
 * (src/auth/jwt.ts): HS256 with the configured HERALD_JWT_SECRET, `sub`, `iat`, `exp` and the
 * scopes as `scope` (space-separated). The secret is read from the configuration the server
 * reads (the environment and HERALD_CONFIG_FILE), never from a flag.
 */
import { SignJWT } from 'jose';
import { SCOPES } from '../auth/principal.js';
import { ConfigError, type HeraldConfig, loadConfig } from '../config/config.js';
import {
  type Command,
  ConfigurationError,
  duration,
  EXIT,
  parse,
  required,
  scopeList,
  UsageError,
} from './args.js';

const help = `Usage: herald token --sub <user> --scopes <scope,…> [--ttl 1h] [--config <file>]

Prints a JWT signed with the configured HERALD_JWT_SECRET (HS256), which Herald accepts as
"Authorization: Bearer <token>" until it expires. The secret comes from the environment or the
configuration file, as for the server; it is never printed.

Options:
  --sub <user>        the user id (the token's "sub"; required)
  --scopes <list>     comma-separated: ${SCOPES.join(', ')} (required)
  --ttl <duration>    how long it is valid: 30s, 15m, 1h, 7d (default 1h; a unit is required)
  --config <file>     a configuration file (sets HERALD_CONFIG_FILE)
  -h, --help          this help

Exit status 2 when no HERALD_JWT_SECRET is configured (an HERALD_JWT_PUBLIC_KEY alone cannot sign).
`;

/** The configuration, or a UsageError (exit 2) saying what is wrong with it. */
export function configFrom(env: NodeJS.ProcessEnv, configFile?: string): HeraldConfig {
  try {
    return loadConfig(
      configFile === undefined ? env : { ...env, HERALD_CONFIG_FILE: configFile, HERALD_CONFIG: undefined },
    );
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigurationError(`configuration error: ${err.message}`);
    throw err;
  }
}

export const token: Command = {
  summary: 'print a JWT signed with the configured HERALD_JWT_SECRET',
  help,
  async run(argv) {
    const { values } = parse(argv, {
      sub: { type: 'string' },
      scopes: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      config: { type: 'string' },
    });
    if (values.help) {
      process.stdout.write(help);
      return EXIT.ok;
    }
    const sub = required(values.sub, '--sub').trim();
    const scopes = scopeList(required(values.scopes, '--scopes'), SCOPES);
    const ttlMs = duration(values.ttl, '--ttl');
    if (ttlMs < 1000) throw new UsageError('--ttl must be at least 1s');
    const config = configFrom(process.env, values.config);
    if (!config.jwtSecret)
      throw new ConfigurationError(
        config.jwtPublicKey
          ? 'HERALD_JWT_PUBLIC_KEY is configured but no HERALD_JWT_SECRET: sign with the private key that pairs with it instead'
          : 'no HERALD_JWT_SECRET is configured',
      );
    const nowS = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ scope: scopes.join(' ') })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + Math.ceil(ttlMs / 1000))
      .sign(new TextEncoder().encode(config.jwtSecret));
    process.stdout.write(`${jwt}\n`);
    return EXIT.ok;
  },
};
