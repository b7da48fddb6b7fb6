/**
 * Starts a real Herald on 127.0.0.1 port 0 for a test, with a temp data folder, and gives
 * typed helpers for HTTP calls and WebSocket clients. Always `await h.close()` (or use
 * `afterEach`) so sockets and files are released.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type AppOverrides, buildApp } from '../../src/app.js';
import { type HeraldConfig, loadConfig } from '../../src/config/config.js';

export interface TestServer {
  app: FastifyInstance;
  config: HeraldConfig;
  url: string;
  wsUrl: string;
  dataDir: string;
  /** fetch against the server with JSON in and out. */
  request(
    method: string,
    route: string,
    options?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

export async function startServer(
  env: Record<string, string> = {},
  overrides: AppOverrides = {},
  options: { dataDir?: string; keepData?: boolean } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'herald-test-'));
  const config = loadConfig({ HERALD_STORE: 'memory', PORT: '0', HERALD_DATA_DIR: dataDir, ...env });
  const app = await buildApp(config, { logger: false, defaultMetrics: false, ...overrides });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    app,
    config,
    url,
    wsUrl: `ws://127.0.0.1:${address.port}/ws/chat`,
    dataDir,
    async request(method, route, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      }
      const res = await fetch(url + route, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async close() {
      await app.close();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
