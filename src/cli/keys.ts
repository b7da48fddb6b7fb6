/**
 * `herald keys create --sub alice --scopes chat,agent:publish`: a new random API key, printed
 * once, and the HERALD_API_KEYS entry that makes Herald accept it. Herald keeps configured keys
 * only as SHA-256 hashes (src/auth/api-keys.ts); this command keeps nothing.
 */
import { randomBytes } from 'node:crypto';
import { SCOPES } from '../auth/principal.js';
import { type Command, EXIT, parse, required, scopeList, UsageError } from './args.js';

/** `hk_` and 32 random bytes in base64url: 46 characters, 256 bits. */
export function newApiKey(): string {
  return `hk_${randomBytes(32).toString('base64url')}`;
}

const help = `Usage: herald keys create --sub <user> --scopes <scope,…> [--json]

Makes a new random API key (256 bits) and prints it once, with the entry to add to the
HERALD_API_KEYS array. Herald stores nothing here: the key exists only in this output until you
add the entry to the configuration (Herald keeps configured keys as SHA-256 hashes in memory).

Prints two lines on stdout: the key, then the entry as JSON.

Options:
  --sub <user>        the user id the key authenticates as (required)
  --scopes <list>     comma-separated: ${SCOPES.join(', ')} (required)
  --json              one JSON object instead: {"key","entry"}
  -h, --help          this help
`;

export const keys: Command = {
  summary: 'make a new API key and its HERALD_API_KEYS entry',
  help,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { sub: { type: 'string' }, scopes: { type: 'string' }, json: { type: 'boolean' } },
      true,
    );
    if (values.help) {
      process.stdout.write(help);
      return EXIT.ok;
    }
    const [action, ...extra] = positionals;
    if (action !== 'create')
      throw new UsageError(
        action === undefined ? 'missing action: keys create' : `unknown action "${action}"`,
      );
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const sub = required(values.sub, '--sub').trim();
    const scopes = scopeList(required(values.scopes, '--scopes'), SCOPES);
    const key = newApiKey();
    const entry = { key, sub, scopes };
    if (values.json) process.stdout.write(`${JSON.stringify({ key, entry })}\n`);
    else {
      process.stdout.write(`${key}\n${JSON.stringify(entry)}\n`);
      if (process.stderr.isTTY)
        process.stderr.write(
          'The key is shown only now. Add the entry to the HERALD_API_KEYS array and restart Herald.\n',
        );
    }
    return EXIT.ok;
  },
};
