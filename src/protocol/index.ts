/**
 * Herald's protocol 1 (docs/protocol.md) as TypeBox schemas, their TypeScript types and the
 * limits: no server code, so a client (or a browser bundle) may import it.
 */
export * from './agent-message.js';
export * from './errors.js';
export * from './frames.js';
export * from './http.js';
export * from './limits.js';
export * from './streams.js';
