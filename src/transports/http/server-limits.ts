/**
 * What the standalone server's HTTP layer allows one connection (docs/decisions.md, Fairness):
 * how long a client may take over its headers, its whole request and an idle keep-alive, how
 * many connections the instance holds, and the answer to anything Node's HTTP parser refuses
 * (a malformed request line, a bad Content-Length, headers over the limit, a timeout): the
 * catalogue's error body, never Fastify's default one. `createHerald` (app.ts) applies them; a
 * caller mounting the plugin on an app of its own owns its server and sets its own.
 */
import { type ServerOptions, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { Counter } from 'prom-client';
import type { HeraldConfig } from '../../config/config.js';
import { HeraldError, invalidRequest } from '../../errors/catalogue.js';

type ServerLimitConfig = Pick<
  HeraldConfig,
  'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'connectionTimeoutMs' | 'maxConnections'
>;

/** Node checks headers and request timeouts on an interval: often enough to honour them within ~25%. */
export function checkingIntervalMs(config: ServerLimitConfig): number {
  const shortest = Math.min(
    config.headersTimeoutMs,
    config.requestTimeoutMs > 0 ? config.requestTimeoutMs : Number.POSITIVE_INFINITY,
  );
  return Math.max(10, Math.min(1_000, Math.floor(shortest / 4)));
}

/** Fastify's server options for the timeouts and the parser's errors. */
export function serverTimeoutOptions(
  config: ServerLimitConfig,
): Partial<FastifyServerOptions> & { http: ServerOptions } {
  // Node refuses a headers timeout longer than a (non-zero) request timeout.
  const headersTimeout =
    config.requestTimeoutMs > 0
      ? Math.min(config.headersTimeoutMs, config.requestTimeoutMs)
      : config.headersTimeoutMs;
  return {
    http: {
      headersTimeout,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(config),
    },
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    clientErrorHandler,
  };
}

/** The catalogue's error for what Node's HTTP parser (or its timeouts) refused. */
export function parserError(err: { code?: string }): HeraldError {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return invalidRequest('request', 'was not received in time');
    case 'HPE_HEADER_OVERFLOW':
      return new HeraldError('too_large', 'The request headers are over the size limit.', {
        fields: ['headers'],
      });
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return invalidRequest('content-length', 'is invalid');
    default:
      return invalidRequest('request', 'is not valid HTTP/1.1');
  }
}

/**
 * Fastify's `clientErrorHandler`: answers once with the catalogue's body (when nothing was
 * written on the connection yet) and closes the connection. A connection the client reset
 * needs nothing. Logged at debug: these are the client's faults, not Herald's.
 */
function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error = parserError(err);
  this.log.debug({ code: err.code, answer: error.code }, 'client error');
  const response = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !response?.headersSent) {
    const body = JSON.stringify(error.toBody());
    socket.write(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n` +
        'content-type: application/json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * The cap on open connections (HTTP, SSE and WebSocket alike: an upgraded socket still counts
 * until it closes). Past it Node closes each new connection as it is accepted, before reading a
 * byte: under a flood, answering would cost what the cap is there to save. Counted in
 * `herald_connections_refused_total`.
 */
export function capConnections(app: FastifyInstance, maxConnections: number): void {
  if (maxConnections <= 0) return;
  app.server.maxConnections = maxConnections;
  const refused = new Counter({
    name: 'herald_connections_refused_total',
    help: 'TCP connections closed unanswered because HERALD_MAX_CONNECTIONS were open',
    registers: [app.herald.metrics.registry],
  });
  app.server.on('drop', () => refused.inc());
}
