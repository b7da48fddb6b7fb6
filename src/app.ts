/**
 * The standalone Herald server: a Fastify app of its own with the Herald plugin (plugin.ts),
 * Herald's request handling and errors for every path, 404s included. `main.ts` listens; tests
 * call it with their own config (ports 0, temp folders, memory store, fake models). To mount
 * Herald in an app of your own, register the plugin instead.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { HeraldConfig } from './config/config.js';
import { loggerOptions } from './observability/logger.js';
import { bodyLimitOf, type HeraldOptions, herald, useHeraldHttp } from './plugin.js';
import { sendError, sendNotFound } from './transports/http/error-handler.js';
import { capConnections, serverTimeoutOptions } from './transports/http/server-limits.js';

export interface AppOverrides extends Omit<HeraldOptions, 'config'> {
  /** Pino logger options or false to silence (tests). */
  logger?: boolean | object;
}

export async function createHerald(
  config: HeraldConfig,
  overrides: AppOverrides = {},
): Promise<FastifyInstance> {
  const { logger, ...options } = overrides;
  const app = Fastify({
    logger: logger ?? loggerOptions(config.logLevel),
    bodyLimit: bodyLimitOf(config),
    forceCloseConnections: true,
    // Shutdown answers with the catalogue's `unavailable` (the plugin's hook), not Fastify's own body.
    return503OnClosing: false,
    // Session ids are ~31 characters; longer path parameters are simply unknown.
    routerOptions: { maxParamLength: 500 },
    frameworkErrors: sendError,
    // Header, request and keep-alive timeouts, and the parser's errors as the catalogue's body.
    ...serverTimeoutOptions(config),
  });
  useHeraldHttp(app, config);
  app.setNotFoundHandler(sendNotFound);
  await app.register(herald, { config, ...options });
  capConnections(app, config.maxConnections);
  return app;
}

/** The name `main.ts`, the tests and the bench know. */
export const buildApp = createHerald;
