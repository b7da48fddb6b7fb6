/**
 * CORS (docs/clients.md, "CORS"): browser apps on the origins HERALD_CORS_ORIGINS lists may call
 * Herald's routes from another origin; with the list empty (the default) no CORS header is sent
 * and no preflight route exists, so only same-origin pages can read Herald's answers.
 *
 * Herald's credentials are bearer tokens and tickets, never cookies, so CORS never allows
 * credentials (Access-Control-Allow-Credentials is never sent) and `*` is refused: every
 * allowed origin is named.
 */
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../../config/config.js';

/** What a browser may send on a cross-origin call (the Authorization header carries the credential). */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'last-event-id'];
/** What a cross-origin script may read besides the CORS-safelisted response headers. */
const EXPOSED_HEADERS = ['retry-after', 'x-vercel-ai-ui-message-stream'];
/** Browsers cache a preflight this long (seconds): 10 minutes, Chromium's cap is 2 hours. */
const PREFLIGHT_MAX_AGE_S = 600;

/** Each entry as an origin (`scheme://host[:port]`, lower-case, no path); problems name the index. */
export function parseCorsOrigins(list: readonly string[]): string[] {
  const problems = [];
  const origins: string[] = [];
  for (const [i, entry] of list.entries()) {
    const name = `HERALD_CORS_ORIGINS[${i}]`;
    if (entry === '*' || entry === 'null') {
      problems.push({ name, problem: `${JSON.stringify(entry)} is refused: name each origin allowed` });
      continue;
    }
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.origin !== entry.replace(/\/$/, '')
    ) {
      problems.push({
        name,
        problem: `${JSON.stringify(entry)} is not an origin (scheme://host[:port], no path)`,
      });
      continue;
    }
    origins.push(url.origin);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return origins;
}

/** Registers @fastify/cors on Herald's routes when origins are allowed; nothing otherwise. */
export async function registerCors(app: FastifyInstance, list: readonly string[]): Promise<void> {
  const allowed = new Set(parseCorsOrigins(list));
  if (allowed.size === 0) return;
  await app.register(cors, {
    // An origin not on the list gets no Access-Control-Allow-Origin: the browser blocks the read.
    origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin)),
    credentials: false,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_S,
    // Answer preflights with 204 before auth or rate limits see them.
    strictPreflight: true,
    hook: 'onRequest',
  });
}
