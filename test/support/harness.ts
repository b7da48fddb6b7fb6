/**
 * Per-test lifecycle for servers and WebSocket clients. Call `useHarness()` at the top of a test
 * file (or inside a `describe`) and start servers and clients through it: one `afterEach` closes
 * every client (in parallel), then every server, so each test releases its sockets and temp files
 * even when it fails half-way. A server the test already closed itself is not closed again.
 */
import { afterEach, vi } from 'vitest';
import { startServer, type TestServer } from './server.js';
import { connect, type WsClient } from './ws-client.js';

export interface Harness {
  start(...args: Parameters<typeof startServer>): Promise<TestServer>;
  connect(...args: Parameters<typeof connect>): ReturnType<typeof connect>;
  /** Closes `client` after the test; returns it. */
  track(client: WsClient): WsClient;
}

export function useHarness(): Harness {
  const clients: WsClient[] = [];
  const servers: TestServer[] = [];

  afterEach(async () => {
    // A test on fake timers (support/fake-clock.ts) must not leave closing to a clock that stands still.
    vi.useRealTimers();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  return {
    async start(...args) {
      const server = await startServer(...args);
      let closing: Promise<void> | undefined;
      const tracked: TestServer = { ...server, close: () => (closing ??= server.close()) };
      servers.push(tracked);
      return tracked;
    },
    async connect(...args) {
      const result = await connect(...args);
      clients.push(result.client);
      return result;
    },
    track(client) {
      clients.push(client);
      return client;
    },
  };
}
