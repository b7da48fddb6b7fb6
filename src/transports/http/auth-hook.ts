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
  const ticket = request.routeOptions.config.wsAuth
    ? (request.query as { ticket?: unknown }).ticket
    : undefined;
  if (typeof ticket === 'string' && ticket !== '' && !auth.openMode) return auth.redeemTicket(ticket);
  return auth.authenticate(request.headers.authorization);
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
