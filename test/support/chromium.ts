/**
 * Debian's chromium for the browser tests, driven by playwright-core. Where it is not
 * installed the browser tests skip with one line; under CI page.test.ts fails instead
 * (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { TestServer } from './server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** A headless Chromium with nothing of its own on the network (updates, sync, QUIC probes). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Page errors and console errors (a missing favicon aside): a test expects none. */
  errors: string[];
  /** Every dialog the page opened (`alert: …`), dismissed at once. */
  dialogs: string[];
}

/** The built-in page at `url` in a fresh context, once its socket is connected. */
export async function openPage(
  browser: Browser,
  url: string,
  options: { bypassCSP?: boolean; viewport?: { width: number; height: number } } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 900, height: 720 },
    ...(options.bypassCSP && { bypassCSP: true }),
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.location().url.endsWith('/favicon.ico'))
      errors.push(`console: ${msg.text()}`);
  });
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  const response = await page.goto(url);
  if (response?.status() !== 200) throw new Error(`${url} answered ${response?.status()}, not 200`);
  await page.waitForSelector('[data-testid="status"][data-state="connected"]');
  return { context, page, errors, dialogs };
}

/**
 * A Herald (made by `start`) and a Chromium for the enclosing describe: started once before its
 * tests, closed after them. Read them from the returned object inside the tests.
 */
export function useHeraldInChromium(start: () => Promise<TestServer>): {
  readonly server: TestServer;
  readonly browser: Browser;
} {
  const live = {} as { server: TestServer; browser: Browser };
  beforeAll(async () => {
    live.server = await start();
    live.browser = await launchChromium();
  });
  afterAll(async () => {
    await live.browser?.close();
    await live.server?.close();
  });
  return live;
}
