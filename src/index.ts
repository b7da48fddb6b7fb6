/**
 * The `herald` package: the Fastify plugin that mounts Herald on an app you own, the standalone
 * server, and the configuration they take. Protocol types and schemas without server code are
 * `herald/protocol` (src/protocol).
 */
export { type AppOverrides, createHerald } from './app.js';
export { ConfigError, type HeraldConfig, loadConfig } from './config/config.js';
export type { HeraldContext } from './context.js';
export { type HeraldOptions, herald } from './plugin.js';
