/**
 * CORS in a real browser: a page served from another origin (another port on 127.0.0.1) calls
 * Herald the way the README's useChat example does (a JSON POST to /api/chat/stream with an
 * Authorization header, so Chromium sends a real preflight) and reads the streamed answer.
 * Allowed by HERALD_CORS_ORIGINS it works; another origin's page is blocked by the browser.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { startServer, type TestServer } from '../support/server.js';

/** A page that sends the useChat transport's request and reports what it could read. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>app</title><script>
window.callHerald = async (herald, key) => {
  try {
    const res = await fetch(herald + '/api/chat/stream', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key },
      body: JSON.stringify({ id: 'chat-cors', trigger: 'submit-message',
        messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hello from another origin' }] }] }),
    });
    return { status: res.status, stream: res.headers.get('x-vercel-ai-ui-message-stream'), body: await res.text() };
  } catch (err) {
    return { error: String(err) };
  }
};
</script>`;

async function serveApp(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.skipIf(!hasChromium)('CORS from a page on another origin (Chromium)', () => {
  let herald: TestServer;
  let allowed: { server: Server; origin: string };
  let other: { server: Server; origin: string };
  let browser: Browser;
  const preflights: string[] = [];

  beforeAll(async () => {
    allowed = await serveApp();
    other = await serveApp();
    herald = await startServer({ ...AUTH_ENV, HERALD_CORS_ORIGINS: JSON.stringify([allowed.origin]) });
    herald.app.server.on('request', (request) => {
      if (request.method === 'OPTIONS') preflights.push(`${request.headers.origin} ${request.url}`);
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await herald?.close();
    allowed?.server.close();
    other?.server.close();
  });

  async function callFrom(origin: string) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(origin);
      return await page.evaluate(
        ([url, key]) => (window as any).callHerald(url, key),
        [herald.url, KEYS.alice],
      );
    } finally {
      await context.close();
    }
  }

  it('lets an allowed origin stream a reply after a real preflight', async () => {
    const result = await callFrom(allowed.origin);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(200);
    expect(result.stream).toBe('v1');
    expect(result.body).toContain('"type":"text-delta"');
    expect(preflights).toContain(`${allowed.origin} /api/chat/stream`);
  });

  it('blocks a page on an origin not on the list', async () => {
    const result = await callFrom(other.origin);
    expect(result.error).toMatch(/Failed to fetch/);
  });
});
