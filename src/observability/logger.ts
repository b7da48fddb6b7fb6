/**
 * pino options shared by Fastify and the rest of Herald. Secrets never reach the log:
 * credentials in headers, keys and tokens in bodies or config are redacted by path.
 */
import type { LoggerOptions } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'apiKey',
  '*.apiKey',
  'key',
  '*.key',
  'token',
  '*.token',
  'ticket',
  '*.ticket',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'config.apiKeys',
  'config.jwtSecret',
  'config.openai.apiKey',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      // Query strings may carry a WebSocket ticket: log the path only.
      req(req: { method?: string; url?: string; id?: string }) {
        return { method: req.method, url: req.url?.split('?')[0], id: req.id };
      },
    },
  };
}
