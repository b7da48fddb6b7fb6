/**
 * An XSS corpus (test/browser/xss-corpus.txt: script tags, event handlers, javascript: and data:
 * URLs, SVG and MathML, entity-encoded, mixed case, broken and nested tags) through the built-in
 * page in Chromium, both ways text reaches it: as agent message content (a publish) and as chat
 * input (the user's bubble, the sanitization summary and the reply), then again after a reload,
 * when all of it comes back from the session's timeline.
 *
 * Every payload must show as literal text, and nothing may run: the flag a payload would set stays
 * unset, no dialog opens, no frame is made, and the messages hold only the elements the page makes
 * itself. The page's Content-Security-Policy is bypassed here, so that what is proved is the
 * rendering (text nodes, never HTML), not the policy that would otherwise stop an inline script.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { hasChromium, type OpenedPage, openPage, useHeraldInChromium } from '../support/chromium.js';
import { startServer } from '../support/server.js';

if (!hasChromium && !process.env.CI) console.log('chromium not installed: browser test skipped');

const CORPUS = readFileSync(new URL('./xss-corpus.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('# '));

/** The elements the page itself puts in the message list (bubbles, labels, light Markdown). */
const PAGE_ELEMENTS = new Set(['DIV', 'SPAN', 'P', 'UL', 'LI', 'PRE', 'CODE', 'STRONG', 'TIME']);

type Run = OpenedPage;

describe.skipIf(!hasChromium)(
  'built-in page: an XSS corpus renders as text and runs nothing (Chromium)',
  () => {
    const env = useHeraldInChromium(() =>
      startServer({
        HERALD_CHAT_RATE_LIMIT: '0',
        HERALD_SESSION_RATE_LIMIT: '0',
        HERALD_AGENT_RATE_LIMITS: '{"status":0,"sanitization":0}',
      }),
    );

    const open = (): Promise<Run> => openPage(env.browser, env.server.url, { bypassCSP: true });

    /** Nothing ran and nothing but text was made from the payloads. */
    async function expectNothingRan({ page, errors, dialogs }: Run): Promise<void> {
      // A payload that ran in a frame sets the flag on its parent; one that ran here sets it here.
      expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
      expect(dialogs).toEqual([]);
      expect(page.frames()).toHaveLength(1);
      const tags = await page
        .locator('[data-testid="messages"] *')
        .evaluateAll((nodes) => [...new Set(nodes.map((n) => n.tagName))]);
      expect(tags.filter((t) => !PAGE_ELEMENTS.has(t))).toEqual([]);
      // No attribute anywhere in the list came from a payload.
      const attributes = await page
        .locator('[data-testid="messages"] *')
        .evaluateAll((nodes) => [...new Set(nodes.flatMap((n) => n.getAttributeNames()))]);
      expect(
        attributes.filter((a) => a.startsWith('on') || a === 'href' || a === 'src' || a === 'style'),
      ).toEqual([]);
      expect(errors).toEqual([]);
    }

    const agentBodies = (page: Page) =>
      page
        .locator('[data-kind="agent"][data-agent-type="status"]')
        .evaluateAll((nodes) =>
          nodes.map((n) => [n.getAttribute('data-id'), n.querySelector('.body')?.textContent]),
        );

    it(`as agent message content: ${CORPUS.length} payloads, each shown literally, before and after a reload`, async () => {
      const run = await open();
      try {
        const sessionId = await run.page.evaluate(() => sessionStorage.getItem('herald.sessionId'));
        const ids: string[] = [];
        for (const [i, content] of CORPUS.entries()) {
          const published = await env.server.request('POST', '/api/agent-messages', {
            body: {
              target: { sessionId },
              agentType: 'status',
              content,
              source: 'xss-corpus',
              deliveryGuarantee: 'at-least-once',
            },
          });
          expect(published.status, `payload ${i + 1}`).toBe(202);
          ids.push(published.body.id);
        }
        await run.page.locator(`[data-kind="agent"][data-id="${ids.at(-1)}"]`).waitFor();

        // Delivered as published (the scrub of agent content leaves markup alone), shown as delivered.
        const expected = ids.map((id, i) => [id, CORPUS[i]]);
        expect(await agentBodies(run.page)).toEqual(expected);
        await expectNothingRan(run);

        await run.page.reload();
        await run.page.waitForSelector('[data-testid="status"][data-state="connected"]');
        await run.page.locator(`[data-kind="agent"][data-id="${ids.at(-1)}"]`).waitFor();
        expect(await agentBodies(run.page)).toEqual(expected);
        await expectNothingRan(run);
      } finally {
        await run.context.close();
      }
    });

    it(`as chat input: ${CORPUS.length} payloads, each in the user's bubble literally, with its summary and reply, before and after a reload`, async () => {
      const run = await open();
      const { page } = run;
      try {
        const replies = page.locator('[data-kind="reply"][aria-busy="false"]');
        for (const [i, payload] of CORPUS.entries()) {
          await page.fill('[data-testid="input"]', payload);
          await page.press('[data-testid="input"]', 'Enter');
          await replies.nth(i).waitFor();
        }
        const users = await page.locator('[data-kind="user"] .body').allTextContents();
        expect(users).toEqual(CORPUS);
        // The pipeline took markup out of what the model read: a summary came for most of them.
        const summaries = await page.locator('[data-kind="agent"][data-agent-type="sanitization"]').count();
        console.log(`chat input: ${CORPUS.length} payloads, ${summaries} sanitization summaries`);
        expect(summaries).toBeGreaterThan(CORPUS.length / 2);
        await expectNothingRan(run);

        // After a reload the timeline brings back the messages as the pipeline left them, the
        // summaries and the replies: still nothing runs.
        await page.reload();
        await page.waitForSelector('[data-testid="status"][data-state="connected"]');
        await expect.poll(() => replies.count()).toBe(CORPUS.length);
        expect(await page.locator('[data-kind="user"]').count()).toBe(CORPUS.length);
        await expectNothingRan(run);
      } finally {
        await run.context.close();
      }
    });
  },
);
