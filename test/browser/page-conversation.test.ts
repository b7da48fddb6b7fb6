/**
 * The built-in page in Chromium, the conversation as the user sees it: a reload shows the same
 * conversation (user messages, replies and agent messages, in order, each once) restored from
 * the session's timeline; the server cutting the socket and a message published while the page
 * is away shown once after the reconnect; and a `<script>`, an e-mail address and a card number typed into the
 * input give the sanitization summary right after the user's message and before the reply,
 * while the script never runs. Every wait is for something on the page, never for time.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, useHeraldInChromium } from '../support/chromium.js';
import { startServer } from '../support/server.js';

if (!hasChromium && !process.env.CI) console.log('chromium not installed: browser test skipped');

const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
const SCRIPT = '<script>window.__pwned = 1; alert("pwned")</script>';

/** What a bubble shows, as compared before and after a reload. */
interface Bubble {
  kind: string | null;
  id: string | null;
  agentType: string | null;
  replyTo: string | null;
  correlationId: string | null;
  body: string;
  busy: string | null;
}

describe.skipIf(!hasChromium)('built-in page: the conversation (Chromium)', () => {
  const env = useHeraldInChromium(() => startServer());

  const open = () => openPage(env.browser, env.server.url);

  async function say(page: Page, text: string): Promise<void> {
    const before = await page.locator('[data-kind="reply"][aria-busy="false"]').count();
    await page.fill('[data-testid="input"]', text);
    await page.press('[data-testid="input"]', 'Enter');
    await page.locator('[data-kind="reply"][aria-busy="false"]').nth(before).waitFor();
  }

  const bubbles = (page: Page): Promise<Bubble[]> =>
    page.locator('[data-testid="messages"] [data-kind]').evaluateAll((nodes) =>
      nodes.map((n) => ({
        kind: n.getAttribute('data-kind'),
        id: n.getAttribute('data-id'),
        agentType: n.getAttribute('data-agent-type'),
        replyTo: n.getAttribute('data-reply-to'),
        correlationId: n.getAttribute('data-correlation-id'),
        body: n.querySelector('.body')?.textContent ?? '',
        busy: n.getAttribute('aria-busy'),
      })),
    );

  it('shows the same conversation after a reload: user messages, replies and agent messages, in order, once', async () => {
    const { context, page, errors } = await open();
    try {
      const sessionId = await page.evaluate(() => sessionStorage.getItem('herald.sessionId'));
      await say(page, 'Hello Herald, first message.');
      const published = await env.server.request('POST', '/api/agent-messages', {
        body: { target: { sessionId }, agentType: 'status', content: 'Deploy finished', source: 'ci' },
      });
      expect(published.status).toBe(202);
      await page.locator(`[data-kind="agent"][data-id="${published.body.id}"]`).waitFor();
      // A message the pipeline changes: its summary and the reply come with it.
      await say(page, `Second one, with a ${SCRIPT} inside.`);
      await page.waitForSelector('[data-kind="agent"][data-agent-type="sanitization"]');
      // Everything the page shows has been acked (nothing pending is left to come back).
      await expect
        .poll(
          async () =>
            (await env.server.request('GET', `/api/agent-messages?sessionId=${sessionId}`)).body.messages,
        )
        .toEqual([]);

      const before = await bubbles(page);
      expect(before.map((b) => (b.kind === 'agent' ? `agent:${b.agentType}` : b.kind))).toEqual([
        'user',
        'reply',
        'agent:status',
        'user',
        'agent:sanitization',
        'reply',
      ]);

      await page.reload();
      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      await expect.poll(async () => (await bubbles(page)).length).toBe(before.length);
      const after = await bubbles(page);
      // The same bubbles in the same order, with the same ids and texts. The one exception is
      // the text of a user message the pipeline changed: the timeline keeps it as sanitized,
      // which is what the model read.
      expect(after.map(({ body, ...rest }) => rest)).toEqual(before.map(({ body, ...rest }) => rest));
      for (const [i, b] of after.entries()) {
        if (i === 3) {
          expect(b.body).toBe('Second one, with a  inside.');
          expect(before[i]!.body).toContain(SCRIPT);
        } else expect(b.body).toBe(before[i]!.body);
      }
      // Restored replies are whole, not waiting for chunks.
      expect(after.filter((b) => b.kind === 'reply').map((b) => b.busy)).toEqual(['false', 'false']);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();

      // The conversation goes on in the same session, and nothing shown is shown again.
      await say(page, 'Third, after the reload.');
      expect(await page.evaluate(() => sessionStorage.getItem('herald.sessionId'))).toBe(sessionId);
      const third = await bubbles(page);
      expect(third.slice(0, before.length)).toEqual(after);
      expect(third.slice(before.length).map((b) => b.kind)).toEqual(['user', 'reply']);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('reconnects after the server cuts the socket and shows a message published meanwhile exactly once', async () => {
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      // The page's sockets go through the test: the first one at once, the next ones only when
      // the test says, so the message is published while the page has no socket for sure.
      const urls: string[] = [];
      let letThrough!: () => void;
      const held = new Promise<void>((resolve) => {
        letThrough = resolve;
      });
      await page.routeWebSocket(/\/ws\/chat/, async (ws) => {
        urls.push(ws.url());
        if (urls.length > 1) await held;
        ws.connectToServer();
      });
      await page.goto(env.server.url);
      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      const sessionId = await page.evaluate(() => sessionStorage.getItem('herald.sessionId'));
      const before = await env.server.request('POST', '/api/agent-messages', {
        body: { target: { sessionId }, agentType: 'status', content: 'before the cut', source: 'ci' },
      });
      await page.locator(`[data-kind="agent"][data-id="${before.body.id}"]`).waitFor();

      for (const connection of [...env.server.app.herald.connections]) void connection.close(1012, 'restart');
      await page.waitForSelector('[data-testid="status"][data-state="reconnecting"]');
      await expect.poll(() => urls.length).toBe(2);
      // Exactly-once (a security message's default), published while the page is away.
      const meanwhile = await env.server.request('POST', '/api/agent-messages', {
        body: { target: { sessionId }, agentType: 'security', content: 'published meanwhile', source: 'ci' },
      });
      expect(meanwhile.status).toBe(202);
      expect(meanwhile.body.messages[0]).toMatchObject({ sessionId });
      letThrough();

      await page.waitForSelector('[data-testid="status"][data-state="connected"]');
      const bubble = page.locator(`[data-kind="agent"][data-id="${meanwhile.body.id}"]`);
      await bubble.waitFor();
      expect(new URL(urls[1]!).searchParams.get('after')).toBe(String(before.body.seq));
      // Acked, so no path sends it again; shown once, after the earlier one.
      await expect
        .poll(
          async () =>
            (await env.server.request('GET', `/api/agent-messages?sessionId=${sessionId}`)).body.messages,
        )
        .toEqual([]);
      expect(await bubble.count()).toBe(1);
      expect(await bubble.textContent()).toContain('published meanwhile');
      const ids = await page
        .locator('[data-kind="agent"]')
        .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-id')));
      expect(ids).toEqual([before.body.id, meanwhile.body.id]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('answers a script, an e-mail and a card number with the summary before the reply, and runs no script', async () => {
    const { context, page, errors, dialogs } = await open();
    try {
      const text = `Hi ${SCRIPT} please mail me at ${EMAIL} and charge ${CARD}.`;
      await say(page, text);
      const shown = await bubbles(page);
      expect(shown.map((b) => (b.kind === 'agent' ? `agent:${b.agentType}` : b.kind))).toEqual([
        'user',
        'agent:sanitization',
        'reply',
      ]);
      const [user, summary, reply] = shown as [Bubble, Bubble, Bubble];
      // The user's own bubble shows what was typed, literally.
      expect(user.body).toBe(text);
      // The summary is about that message and says what was taken out.
      expect(summary.correlationId).toBe(user.id);
      expect(summary.id).toMatch(/^am_/);
      expect(summary.body).toContain('Sanitization Summary');
      expect(summary.body).toMatch(/script 1/);
      expect(summary.body).toMatch(/email 1/);
      expect(summary.body).toMatch(/card 1/);
      expect(reply.replyTo).toBe(user.id);
      // Nothing Herald sent back repeats the e-mail address or the card number.
      for (const b of [summary, reply]) {
        expect(b.body).not.toContain(EMAIL);
        expect(b.body).not.toContain(CARD);
      }

      // No script ran: not the typed one (its flag stays unset, no dialog opened), and no
      // element was made from the text.
      expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
      expect(dialogs).toEqual([]);
      expect(await page.locator('[data-testid="messages"] script').count()).toBe(0);
      expect(await page.locator('body script').count()).toBe(1); // the page's own module
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
