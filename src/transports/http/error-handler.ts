/**
 * Every HTTP error leaves as `{"success":false,"error","code"}` with a code from the catalogue.
 * Fastify's own errors (bad JSON, body too large, schema validation) are mapped here; anything
 * unknown becomes `internal` with no details, and is logged with its stack. A store that cannot
 * reach its backend throws StoreUnavailableError, a HeraldError: 503 `unavailable` + Retry-After.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError, invalidRequest } from '../../errors/catalogue.js';
import { StoreUnavailableError } from '../../store/shared.js';

interface ValidationIssue {
  instancePath?: string;
  params?: { missingProperty?: string; additionalProperty?: string };
  message?: string;
}

function fieldOf(issue: ValidationIssue, context: string | undefined): string {
  const path = (issue.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  const child = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  const field = [path, child].filter(Boolean).join('.');
  return field || context || 'body';
}

/** Turns anything thrown in a route into the HeraldError the client sees. */
export function toClientError(err: unknown): HeraldError {
  if (err instanceof HeraldError) return err;
  const e = err as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (e.validation && e.validation.length > 0) {
    const issue = e.validation[0]!;
    const field = fieldOf(issue, e.validationContext);
    return invalidRequest(field, issue.message ?? 'is invalid');
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HeraldError('bad_json', 'The body is not valid JSON.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HeraldError('too_large', 'The body is over the size limit.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return invalidRequest('content-type', 'must be application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidRequest('content-length', 'does not match the body');
  }
  if (e.code === 'FST_ERR_BAD_URL') return invalidRequest('url', 'is not a valid URL');
  // A path parameter longer than any id Herald makes: no such thing here.
  if (e.code === 'FST_ERR_MAX_PARAM_LENGTH') return new HeraldError('not_found');
  if (e instanceof SyntaxError && e.statusCode === 400) return new HeraldError('bad_json');
  if (e.statusCode === 429) return new HeraldError('rate_limited', undefined, { retryAfter: 60 });
  return new HeraldError('internal', undefined, { cause: err });
}

/** Sends the catalogue's body for anything thrown; also Fastify's `frameworkErrors` (bad URLs). */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  if (isClientAbort(err, request)) {
    // The client went away mid-upload: its doing, not Herald's, and nobody reads the answer.
    request.log.debug({ code: (err as { code?: unknown }).code }, 'client aborted the request');
    return reply.code(400).send(invalidRequest('body', 'was cut short by the client').toBody());
  }
  const error = toClientError(err);
  // Answered before the body was read (401 in the auth hook, 413, 403): close the connection
  // rather than let Node read and discard the rest at whatever pace the client sends it.
  if (!request.raw.complete) void reply.header('connection', 'close');
  if (error.code === 'internal') request.log.error({ err }, 'internal error');
  else if (err instanceof StoreUnavailableError)
    request.log.warn(
      { reason: err.cause instanceof Error ? err.cause.message : undefined },
      'store unavailable',
    );
  else request.log.debug({ code: error.code }, 'request refused');
  if (error.retryAfter !== undefined) void reply.header('retry-after', String(error.retryAfter));
  return reply.code(error.status).send(error.toBody());
}

/** The client closed the connection before its request was whole (an aborted upload). */
function isClientAbort(err: unknown, request: FastifyRequest): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return (
    (code === 'ECONNRESET' || code === 'ECONNABORTED') && (request.raw.destroyed || !request.raw.complete)
  );
}

/** The standalone server's 404: `not_found` naming the method and path. */
export function sendNotFound(request: FastifyRequest, reply: FastifyReply) {
  const error = new HeraldError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}.`);
  return reply.code(404).send(error.toBody());
}
