/**
 * Authentication at the edge: an onRequest hook that runs before body parsing, for every
 * route whose config names a scope. WebSocket routes keep the outcome for the handler, which
 * must answer with an error frame and close 1008 rather than an HTTP status (docs/protocol.md, section 5).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireScope } from '../../auth/authenticator.js';
import type { Principal } from '../../auth/principal.js';
import { isLoopbackHost } from '../../config/config.js';
import { HeraldError } from '../../errors/catalogue.js';
import { parseCorsOrigins } from './cors.js';

const wsAuthResults = new WeakMap<FastifyRequest, Principal | HeraldError>();

export function registerAuth(app: FastifyInstance): void {
  app.decorateRequest('principal', undefined as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    const { scope, wsAuth } = request.routeOptions.config;
    // Open mode trusts whoever reaches the loopback port: on every route, public ones too, only
    // a loopback Host (no DNS rebinding) and no Origin or a loopback one (no other site's page).
    // The WebSocket route answers the same faults as frames, below.
    if (app.herald.auth.openMode && !wsAuth) checkLoopbackRequest(request);
    if (!scope) return;
    try {
      const principal = await authenticateRequest(app, request);
      requireScope(principal, scope);
      request.principal = principal;
      if (wsAuth) wsAuthResults.set(request, principal);
    } catch (err) {
      if (!wsAuth) throw err;
      wsAuthResults.set(request, err instanceof HeraldError ? err : new HeraldError('unauthorized'));
    }
  });
}

/** A WebSocket ticket (`?ticket=`) or the Authorization header. Tokens never come in the query. */
async function authenticateRequest(app: FastifyInstance, request: FastifyRequest): Promise<Principal> {
  const { auth } = app.herald;
  // Open mode trusts whoever reaches the loopback port, and browsers let any page open a
  // WebSocket anywhere: only pages served from a loopback origin, by a loopback name, may use it.
  if (auth.openMode && request.routeOptions.config.wsAuth) checkLoopbackRequest(request);
  // With credentials, a browser's upgrade must come from Herald's own origin or one that
  // HERALD_CORS_ORIGINS allows (docs/clients.md, CORS), like every other call a page makes.
  else if (request.routeOptions.config.wsAuth) checkUpgradeOrigin(request, app.herald.config.corsOrigins);
  const ticket = request.routeOptions.config.wsAuth
    ? (request.query as { ticket?: unknown }).ticket
    : undefined;
  if (typeof ticket === 'string' && ticket !== '' && !auth.openMode) return auth.redeemTicket(ticket);
  return auth.authenticate(request.headers.authorization);
}

/**
 * A browser's upgrade (it has an Origin) from the origin Herald is served on (the Host, or the
 * X-Forwarded-Host a proxy sets) or one on the CORS list; anything without an Origin is not a
 * browser and is let through to the credential check.
 */
function checkUpgradeOrigin(request: FastifyRequest, corsOrigins: readonly string[]): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new HeraldError('forbidden', 'Origin is not a URL.');
  }
  const forwarded = request.headers['x-forwarded-host'];
  const hosts = [request.headers.host, ...(typeof forwarded === 'string' ? forwarded.split(',') : [])];
  if (hosts.some((h) => h?.trim().toLowerCase() === url.host)) return;
  if (parseCorsOrigins(corsOrigins).includes(url.origin)) return;
  throw new HeraldError(
    'forbidden',
    'Pages on this origin may not open a WebSocket here: list it in HERALD_CORS_ORIGINS.',
  );
}

/** Open mode's check (docs/protocol.md, section 2): a loopback Host, and a loopback Origin if any. */
function checkLoopbackRequest(request: FastifyRequest): void {
  checkLoopbackHost(request.headers.host);
  checkLoopbackOrigin(request.headers.origin);
}

function checkLoopbackHost(host: string | undefined): void {
  if (host === undefined) return; // HTTP/1.0 without Host: not a browser
  let name: string | undefined;
  try {
    name = new URL(`http://${host}`).hostname;
  } catch {}
  if (name === undefined || !isLoopbackHost(name))
    throw new HeraldError(
      'forbidden',
      'In open development mode Herald answers only requests to a loopback name (localhost, 127.0.0.1, [::1]).',
    );
}

function checkLoopbackOrigin(origin: string | undefined): void {
  if (origin === undefined) return; // not a browser
  let host: string;
  try {
    host = new URL(origin).hostname;
  } catch {
    throw new HeraldError('forbidden', 'Origin is not a URL.');
  }
  if (!isLoopbackHost(host))
    throw new HeraldError(
      'forbidden',
      'In open development mode only pages on a loopback origin may connect.',
    );
}

/** What the auth hook decided for a WebSocket upgrade. */
export function wsAuthResult(request: FastifyRequest): Principal | HeraldError {
  return wsAuthResults.get(request) ?? new HeraldError('unauthorized');
}
