/**
 * The one error catalogue: every error Herald answers, with its HTTP status and,
 * where the WebSocket must close after it, the close code (docs/protocol.md, section 8).
 * Transports never invent codes; they look them up here. The codes themselves are the
 * protocol's (src/protocol/errors.ts), so the catalogue must hold exactly those.
 */
import type { ErrorBody, ErrorCode } from '../protocol/errors.js';
import type { ErrorFrame } from '../protocol/frames.js';

export type { ErrorBody, ErrorCode };

export const ERRORS = {
  bad_json: { status: 400, message: 'The body or frame is not valid JSON.' },
  invalid_request: { status: 400, message: 'The request is invalid.' },
  invalid_agent_message: { status: 400, message: 'The agent message is invalid.' },
  too_large: { status: 413, message: 'The message is too large.' },
  unauthorized: { status: 401, message: 'Missing or invalid credentials.', closeCode: 1008 },
  forbidden: { status: 403, message: 'A required scope is missing.', closeCode: 1008 },
  session_not_found: { status: 404, message: 'Session not found.', closeCode: 1008 },
  not_found: { status: 404, message: 'Not found.' },
  rate_limited: { status: 429, message: 'Too many requests; retry later.' },
  unavailable: { status: 503, message: 'The server is shutting down; retry shortly.' },
  upstream_failed: { status: 502, message: 'The model service failed; please try again.' },
  internal: { status: 500, message: 'Internal error.' },
} as const satisfies Record<ErrorCode, { status: number; message: string; closeCode?: number }>;

/** WebSocket close codes Herald uses (RFC 6455 section 7.4.1). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  internal: 1011,
  /** The server cannot serve this now (its store is unreachable): reconnect later. */
  tryAgainLater: 1013,
} as const;

export interface HeraldErrorOptions {
  /** Fields at fault (invalid_request, invalid_agent_message). */
  fields?: string[];
  /** Seconds until a retry may succeed (rate_limited). */
  retryAfter?: number;
  /** The chat message id a WebSocket error answers. */
  replyTo?: string;
  cause?: unknown;
}

/** An error meant for the client: its code and message are safe to show. */
export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly closeCode: number | undefined;
  readonly fields: string[] | undefined;
  readonly retryAfter: number | undefined;
  readonly replyTo: string | undefined;

  constructor(code: ErrorCode, message?: string, options: HeraldErrorOptions = {}) {
    super(message ?? ERRORS[code].message, { cause: options.cause });
    this.name = 'HeraldError';
    this.code = code;
    const entry: { status: number; closeCode?: number } = ERRORS[code];
    this.status = entry.status;
    this.closeCode = entry.closeCode;
    this.fields = options.fields;
    this.retryAfter = options.retryAfter;
    this.replyTo = options.replyTo;
  }

  /** The HTTP error body (docs/protocol.md, section 8). */
  toBody(): ErrorBody {
    const body: ErrorBody = { success: false, error: this.message, code: this.code };
    if (this.fields) body.fields = this.fields;
    if (this.retryAfter !== undefined) body.retryAfter = this.retryAfter;
    return body;
  }

  /** The WebSocket error frame (docs/protocol.md, section 8). */
  toFrame(): ErrorFrame {
    const { success: _s, ...rest } = this.toBody();
    return { type: 'error', ...rest, ...(this.replyTo !== undefined && { replyTo: this.replyTo }) };
  }
}

/** Wraps anything thrown into a HeraldError; unknown errors become `internal` with no details. */
export function toHeraldError(err: unknown): HeraldError {
  if (err instanceof HeraldError) return err;
  return new HeraldError('internal', undefined, { cause: err });
}

export const invalidRequest = (field: string, why: string): HeraldError =>
  new HeraldError('invalid_request', `${field}: ${why}`, { fields: [field] });
