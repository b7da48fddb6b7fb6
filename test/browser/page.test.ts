/**
 * The built-in chat page (GET /) driven in a real browser: Debian's
 * chromium through playwright-core, against a real Herald in open development mode. Every
 * wait is for an event on the page (playwright auto-waiting), never for time.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, hasChromium, openPage, useHeraldInChromium } from '../support/chromium.js';
import { startServer } from '../support/server.js';

if (!hasChromium && !process.env.CI) console.log('chromium not installed: browser test skipped');

const SCREENSHOT = '/tmp/herald-page.png';
const XSS = '<img src=x onerror="window.__xss=1">';
const EMAIL = 'jane.doe@example.com';

it.runIf(!hasChromium && Boolean(process.env.CI))('has chromium installed in CI', () => {
  throw new Error(`chromium not installed at ${CHROMIUM}: apt-get install -y chromium`);
});

describe.skipIf(!hasChromium)('built-in chat page', () => {
  const env = useHeraldInChromium(() => startServer());

  /** A fresh tab (own sessionStorage) on the page, connected; page errors fail the test. */
  const open = () => openPage(env.browser, env.server.url, { viewport: { width: 1000, height: 760 } });

  const storedSessionId = (page: Page) => page.evaluate(() => sessionStorage.getItem('herald.sessionId'));

  it('streams a sanitized reply with the summary above it, and interprets no HTML', async () => {
    const { context, page, errors } = await open();
    try {
      const sessionId = await storedSessionId(page);
      expect(sessionId).toMatch(/^sess_/);

      const text = `Hello Herald ${XSS} please write to ${EMAIL} about the report.`;
      await page.fill('[data-testid="input"]', text);
      await page.press('[data-testid="input"]', 'Enter');

      const user = await page.waitForSelector('[data-testid="messages"] [data-kind="user"]');
      expect(await user.textContent()).toContain(text);
      expect(await page.inputValue('[data-testid="input"]')).toBe('');

      const summary = await page.waitForSelector('[data-kind="agent"][data-agent-type="sanitization"]');
      const reply = await page.waitForSelector('[data-kind="reply"][aria-busy="false"]');
      expect(await reply.textContent()).toContain('built-in local agent');
      expect(await summary.getAttribute('data-id')).toMatch(/^am_/);
      expect(await summary.textContent()).toContain('Sanitization Summary');

      // DOM order: user, then the summary, then the reply.
      const order = await page.evaluate(() => {
        const kinds = Array.from(document.querySelectorAll('[data-testid="messages"] [data-kind]'), (n) =>
          n.getAttribute('data-kind') === 'agent'
            ? `agent:${n.getAttribute('data-agent-type')}`
            : n.getAttribute('data-kind'),
        );
        return kinds;
      });
      expect(order.indexOf('user')).toBe(0);
      expect(order.indexOf('agent:sanitization')).toBeGreaterThan(order.indexOf('user'));
      expect(order.indexOf('agent:sanitization')).toBeLessThan(order.indexOf('reply'));
      const summaryBeforeReply = await summary.evaluate(
        (node, other) =>
          Boolean(node.compareDocumentPosition(other as Node) & Node.DOCUMENT_POSITION_FOLLOWING),
        reply,
      );
      expect(summaryBeforeReply).toBe(true);

      // Nothing was interpreted as HTML.
      expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
      expect(await page.locator('[data-testid="messages"] img').count()).toBe(0);
      // The raw e-mail appears only in the user's own bubble.
      const serverTexts = await page
        .locator('[data-testid="messages"] [data-kind="agent"], [data-testid="messages"] [data-kind="reply"]')
        .allTextContents();
      expect(serverTexts.length).toBeGreaterThanOrEqual(2);
      for (const t of serverTexts) expect(t).not.toContain(EMAIL);

      // The page acked the summary at once: nothing stays pending for the session.
      await expect
        .poll(
          async () =>
            (await env.server.request('GET', `/api/agent-messages?sessionId=${sessionId}`)).body.messages,
        )
        .toEqual([]);
      await page.waitForSelector('[data-testid="typing"]', { state: 'hidden' });

      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows agent message content literally, once per id', async () => {
    const { context, page, errors } = await open();
    try {
      const sessionId = await storedSessionId(page);
      const published = await env.server.request('POST', '/api/agent-messages', {
        body: {
          target: { sessionId },
          agentType: 'status',
          content: '<b>x</b> literal',
          source: 'test',
          deliveryGuarantee: 'at-least-once',
        },
      });
      expect(published.status).toBe(202);
      const id = published.body.id as string;

      const bubble = page.locator(`[data-kind="agent"][data-id="${id}"]`);
      await bubble.waitFor();
      expect(await bubble.getAttribute('data-agent-type')).toBe('status');
      expect(await bubble.textContent()).toContain('<b>x</b>');
      expect(await bubble.locator('b').count()).toBe(0);

      // A second publish goes after the first (seq order), and each id shows once.
      const second = await env.server.request('POST', '/api/agent-messages', {
        body: { target: { sessionId }, agentType: 'security', content: 'second', source: 'test' },
      });
      expect(second.status).toBe(202);
      await page.locator(`[data-kind="agent"][data-id="${second.body.id}"]`).waitFor();
      const ids = await page
        .locator('[data-kind="agent"]')
        .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-id')));
      expect(ids).toEqual([id, second.body.id]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('reconnects to the same session after the server drops the socket, resuming after the last seq', async () => {
    const { context, page, errors } = await open();
    try {
      const sessionId = await storedSessionId(page);
      const published = await env.server.request('POST', '/api/agent-messages', {
        body: { target: { sessionId }, agentType: 'status', content: 'before the drop', source: 'test' },
      });
      await page.locator(`[data-kind="agent"][data-id="${published.body.id}"]`).waitFor();

      const reconnected = page.waitForEvent('websocket');
      for (const connection of [...env.server.app.herald.connections]) connection.close(1012, 'restart');
      const url = new URL((await reconnected).url());
      expect(url.searchParams.get('sessionId')).toBe(sessionId);
      expect(url.searchParams.get('after')).toBe(String(published.body.seq));
      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      expect(await storedSessionId(page)).toBe(sessionId);

      // The conversation goes on in the same session.
      await page.fill('[data-testid="input"]', 'still there?');
      await page.click('[data-testid="send"]');
      await page.waitForSelector('[data-kind="reply"][aria-busy="false"]');
      expect(await page.locator(`[data-kind="agent"][data-id="${published.body.id}"]`).count()).toBe(1);

      // A reload in the same tab keeps the session and shows its timeline again, each agent message once.
      const afterReload = page.waitForEvent('websocket');
      await page.reload();
      expect(new URL((await afterReload).url()).searchParams.get('sessionId')).toBe(sessionId);
      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      await page.locator('[data-kind="reply"]').first().waitFor();
      expect(await page.locator('[data-kind="user"]').allTextContents()).toEqual([
        expect.stringContaining('still there?'),
      ]);
      expect(await page.locator(`[data-kind="agent"][data-id="${published.body.id}"]`).count()).toBe(1);
      expect(await storedSessionId(page)).toBe(sessionId);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('forgets a session the server does not know and starts a new one', async () => {
    const context = await env.browser.newContext();
    try {
      await context.addInitScript(() => {
        if (!sessionStorage.getItem('herald.test.seeded')) {
          sessionStorage.setItem('herald.test.seeded', '1');
          sessionStorage.setItem('herald.sessionId', 'sess_01JDX5Q8Z7K3V9M2N4P6R8T0W2');
          sessionStorage.setItem('herald.maxSeq', '7');
        }
      });
      const page = await context.newPage();
      // No timeline on load, as when the page stayed open across a server restart: the
      // socket itself must meet session_not_found.
      await page.route('**/api/sessions/**', (route) => route.abort());
      const refused = page.waitForEvent('websocket', (ws) => ws.url().includes('sessionId='));
      await page.goto(env.server.url);
      expect(new URL((await refused).url()).searchParams.get('after')).toBe('7');
      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      await page.getByText('previous session was not found').waitFor();
      const sessionId = await storedSessionId(page);
      expect(sessionId).toMatch(/^sess_/);
      expect(sessionId).not.toBe('sess_01JDX5Q8Z7K3V9M2N4P6R8T0W2');
      expect(await page.evaluate(() => sessionStorage.getItem('herald.maxSeq'))).toBe('0');

      await page.fill('[data-testid="input"]', 'hello again');
      await page.press('[data-testid="input"]', 'Enter');
      await page.waitForSelector('[data-kind="reply"][aria-busy="false"]');
    } finally {
      await context.close();
    }
  });

  it('shows the typing indicator while a reply is made, and error frames with their code', async () => {
    const slow = await startServer({ HERALD_LOCAL_THINK_MS: '400', HERALD_CHAT_RATE_LIMIT: '1' });
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(slow.url);
      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      await page.fill('[data-testid="input"]', 'first');
      await page.press('[data-testid="input"]', 'Enter');
      await page.waitForSelector('[data-testid="typing"]', { state: 'visible' });
      await page.waitForSelector('[data-kind="reply"][aria-busy="false"]');
      await page.waitForSelector('[data-testid="typing"]', { state: 'hidden' });

      await page.fill('[data-testid="input"]', 'second, over the limit');
      await page.press('[data-testid="input"]', 'Enter');
      const error = await page.waitForSelector('[data-testid="messages"] [data-kind="error"]');
      expect(await error.textContent()).toContain('rate_limited');
      expect(await page.locator('[data-kind="reply"]').count()).toBe(1);
      expect(await page.locator('[data-testid="status"]').getAttribute('data-state')).toBe('connected');
    } finally {
      await context.close();
      await slow.close();
    }
  });

  it('keeps Shift+Enter as a new line and fits a narrow screen', async () => {
    const context = await env.browser.newContext({ viewport: { width: 360, height: 700 } });
    try {
      const page = await context.newPage();
      await page.goto(env.server.url);
      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      const input = page.locator('[data-testid="input"]');
      await input.focus();
      await page.keyboard.type('line one');
      await page.keyboard.press('Shift+Enter');
      await page.keyboard.type('line two');
      expect(await input.inputValue()).toBe('line one\nline two');
      expect(await page.locator('[data-kind="user"]').count()).toBe(0);
      // Nothing scrolls sideways at 360 px, and the send button stays on screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      const box = await page.locator('[data-testid="send"]').boundingBox();
      expect(box && box.x + box.width).toBeLessThanOrEqual(360);
      await page.click('[data-testid="send"]');
      const user = await page.waitForSelector('[data-kind="user"]');
      expect(await user.textContent()).toContain('line one\nline two');
    } finally {
      await context.close();
    }
  });
});
