/**
 * The built-in page on herald/client, in Chromium: a reply cut mid-way by the server (every
 * socket terminated after the first chunks) finishes after the page reconnects, its text whole
 * and once; the page loads the SDK from /herald-client.js and nothing else.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hasChromium, useHeraldInChromium } from '../support/chromium.js';
import { dripAgent } from '../support/drip-agent.js';
import { startServer } from '../support/server.js';

const CHUNKS = ['One, ', 'two, ', 'three, ', 'four, ', 'five, ', 'six.'];

describe.skipIf(!hasChromium)('built-in page on herald/client (Chromium)', () => {
  const drip = dripAgent(CHUNKS);
  const env = useHeraldInChromium(() => startServer({}, { agent: drip.agent }));
  // Registered after the Herald's: after-hooks run last registered first, so the drip's held
  // chunks are let go before that Herald closes.
  afterAll(() => drip.release(100));

  it('finishes a reply cut mid-way after reconnecting, with its text whole and once', async () => {
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('request', (r) => requests.push(new URL(r.url()).pathname));
      await page.goto(env.server.url);
      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      expect(requests).toContain('/herald-client.js');

      await page.fill('[data-testid="input"]', 'count to six');
      await page.press('[data-testid="input"]', 'Enter');
      drip.release(3);
      const reply = page.locator('[data-kind="reply"]');
      await expect.poll(() => reply.textContent(), { timeout: 5000 }).toContain('three, ');

      // Every state the indicator shows from now on, however brief.
      await page.evaluate(() => {
        const w = window as unknown as { __states: string[] };
        w.__states = [];
        const status = document.querySelector('[data-testid="status"]')!;
        new MutationObserver(() => w.__states.push(status.getAttribute('data-state') ?? '')).observe(status, {
          attributes: true,
        });
      });
      const states = () => page.evaluate(() => (window as unknown as { __states: string[] }).__states);
      // The server cuts the socket mid-reply; the model goes on meanwhile.
      for (const ws of env.server.app.websocketServer.clients) ws.terminate();
      await expect.poll(states).toContain('reconnecting');
      drip.release(2);
      await expect.poll(async () => (await states()).at(-1)).toBe('connected');
      drip.release(1);
      await page.waitForSelector('[data-kind="reply"][aria-busy="false"]');
      expect(await reply.count()).toBe(1);
      expect(await page.locator('[data-kind="reply"] .body').textContent()).toBe(CHUNKS.join(''));
      expect(await reply.getAttribute('data-interrupted')).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('follows a reply still in flight after a reload: the text so far, then the rest, once', async () => {
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(env.server.url);
      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      await page.fill('[data-testid="input"]', 'count to six, again');
      await page.press('[data-testid="input"]', 'Enter');
      drip.release(3);
      const reply = page.locator('[data-kind="reply"]');
      await expect.poll(() => reply.textContent(), { timeout: 5000 }).toContain('three, ');

      // The reload cuts the socket mid-reply; the model goes on meanwhile.
      await page.reload();
      drip.release(2);
      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      await expect.poll(() => reply.textContent(), { timeout: 5000 }).toContain('five, ');
      drip.release(1);
      await page.waitForSelector('[data-kind="reply"][aria-busy="false"]');
      expect(await reply.count()).toBe(1);
      expect(await page.locator('[data-kind="reply"] .body').textContent()).toBe(CHUNKS.join(''));
      expect(await reply.getAttribute('data-interrupted')).toBeNull();
      expect(await page.locator('[data-kind="user"]').count()).toBe(1);
      expect(await page.locator('[data-kind="error"]').count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
