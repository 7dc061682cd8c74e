import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { onTestFinished } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';

/** Debian's Chromium is there: CI installs it (.ci/run); elsewhere the browser tests say why they did not run. */
export const browserAvailable = existsSync(CHROMIUM) || Boolean(process.env.CI);

let shared: Promise<Browser> | undefined;

/**
 * Headless Chromium, one per test process (a launch costs about a second of CPU): each test opens
 * its pages in contexts of their own (`browser.newPage()` makes one), closed after the test, so no
 * cookie or storage crosses tests. Playwright ends the browser with the process.
 */
export async function launchBrowser(): Promise<Browser> {
  shared ??= launch();
  shared.catch(() => {
    shared = undefined;
  });
  const browser = await shared;
  onTestFinished(async () => {
    for (const context of browser.contexts()) await context.close();
  });
  return browser;
}

/** Without the background-networking flags Chromium keeps trying to reach Google's hosts, which this machine's closed network refuses. */
function launch(): Promise<Browser> {
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
