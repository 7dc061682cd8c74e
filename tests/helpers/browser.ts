import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { onTestFinished } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';

/** Debian's Chromium is there: CI installs it (.ci/run); elsewhere the browser tests say why they did not run. */
export const browserAvailable = existsSync(CHROMIUM) || Boolean(process.env.CI);

/**
 * Headless Chromium, closed after the test. Without the background-networking flags it keeps
 * trying to reach Google's hosts, which this machine's closed network refuses.
 */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
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
  onTestFinished(() => browser.close());
  return browser;
}
