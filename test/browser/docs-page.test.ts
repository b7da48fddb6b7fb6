/**
 * The API reference page (GET /docs) in a real browser (Debian's chromium through
 * playwright-core): it renders Herald's operations, and every request it makes goes to Herald
 * itself, never to another origin.
 */
import { describe, expect, it } from 'vitest';
import { AUTH_ENV } from '../support/auth.js';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { useHarness } from '../support/harness.js';

const h = useHarness();

// page.test.ts already fails CI without chromium.
describe.skipIf(!hasChromium)('API reference page', () => {
  it('renders the operations from this server alone', async () => {
    const server = await h.start(AUTH_ENV);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
      });
      await page.goto(`${server.url}/docs`);
      await page.getByText('/api/agent-messages/stream').first().waitFor();
      await expect(page.getByText('Publish an agent message').count()).resolves.toBeGreaterThan(0);
      expect(problems).toEqual([]);
      expect(requests).toContain(`${server.url}/docs/json`);
      const foreign = requests.filter((url) => !url.startsWith(`${server.url}/`) && !url.startsWith('data:'));
      expect(foreign).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
