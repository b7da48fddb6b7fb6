/**
 * Talking to a running Herald from the command line: where it is (--url, HERALD_URL, default
 * http://127.0.0.1:8787), the bearer credential (--api-key or HERALD_API_KEY, or --token), and
 * turning a refusal into a Failure that names the status and the error code.
 */
import { Failure, UsageError } from './args.js';

export const DEFAULT_URL = 'http://127.0.0.1:8787';

/** The flags publish and tail share, for parse(). */
export const CLIENT_OPTIONS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  token: { type: 'string' },
} as const;

export const CLIENT_HELP = `  --url <url>         Herald's address (default $HERALD_URL or ${DEFAULT_URL})
  --api-key <key>     an API key (default $HERALD_API_KEY; prefer the variable: flags show in ps)
  --token <jwt>       a JWT instead of an API key
`;

export interface Client {
  readonly base: URL;
  readonly headers: Record<string, string>;
}

export function clientFrom(
  values: { url?: string | undefined; 'api-key'?: string | undefined; token?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): Client {
  const raw = values.url ?? (env.HERALD_URL || DEFAULT_URL);
  let base: URL;
  try {
    base = new URL(raw);
  } catch {
    throw new UsageError(`--url is not a URL: "${raw}"`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new UsageError(`--url must be http: or https:, got "${base.protocol}"`);
  if (values['api-key'] !== undefined && values.token !== undefined)
    throw new UsageError('give --api-key or --token, not both');
  const credential = values.token ?? values['api-key'] ?? (env.HERALD_API_KEY || undefined);
  const headers: Record<string, string> = {};
  if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
  return { base, headers };
}

/** The URL of `route` (with its query) on the client's Herald. */
export function urlOf(client: Client, route: string): URL {
  return new URL(route, client.base);
}

/** A Failure for a network error: Herald could not be reached. */
export function unreachable(url: URL, err: unknown): Failure {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new Failure(`cannot reach ${url.origin}: ${why}`);
}

/** A Failure for an answer that is not 2xx: `HTTP 404 session_not_found: …` with its fields. */
export async function refused(res: Response): Promise<Failure> {
  const text = await res.text().catch(() => '');
  let detail = text.trim().slice(0, 500);
  try {
    const body = JSON.parse(text) as {
      code?: string;
      error?: string;
      fields?: string[];
      retryAfter?: number;
    };
    if (typeof body.code === 'string') {
      detail = `${body.code}: ${body.error ?? ''}`;
      if (Array.isArray(body.fields) && body.fields.length > 0)
        detail += ` (fields: ${body.fields.join(', ')})`;
      if (typeof body.retryAfter === 'number') detail += ` (retry after ${body.retryAfter}s)`;
    }
  } catch {}
  return new Failure(`refused: HTTP ${res.status}${detail ? ` ${detail}` : ''}`);
}
