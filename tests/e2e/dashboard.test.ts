import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ROOT, wp } from '../helpers/gitdir.js';
import { F, hookedRepo } from '../helpers/hooks.js';
import { login, startServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
// CI installs Debian's chromium (.ci/run); elsewhere the test says why it did not run
const available = existsSync(CHROMIUM) || Boolean(process.env.CI);

describe.skipIf(!available)('dashboard in a real browser', () => {
  it('logs in, opens the project, and moves a card live when a lane move is committed', async () => {
    const server = await startServer();
    const repo = hookedRepo();
    expect(login(server.url, repo.dir, repo.env).code).toBe(0);
    repo.commit('plan', { files: { [`${F}/WP01-cart.md`]: wp({ lane: 'planned', title: 'Cart' }), [`${F}/WP02-pay.md`]: wp({ lane: 'planned', title: 'Pay' }) } });
    expect(repo.kitty(['sync', 'flush']).code).toBe(0);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    onTestFinished(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(server.url);
    await page.getByLabel('Username').fill('demo');
    await page.getByLabel('Password').fill('demo-pass');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('[data-project]').first().click();
    await page.locator('[data-lane="planned"] [data-wp="WP01"]').waitFor();
    await page.evaluate(() => Object.assign(window, { kittyNoReload: true }));

    expect(repo.kitty(['wp', 'move', 'WP01', 'doing', '--note', 'started']).code).toBe(0);
    expect(repo.kitty(['sync', 'flush']).code).toBe(0);
    await page.locator('[data-lane="doing"] [data-wp="WP01"]').waitFor({ timeout: 5_000 });
    expect(await page.evaluate(() => (window as unknown as { kittyNoReload?: boolean }).kittyNoReload)).toBe(true);
    expect(await page.locator('[data-lane="planned"] [data-wp="WP01"]').count()).toBe(0);

    await page.locator('[data-wp="WP01"]').click();
    const timeline = page.getByRole('region', { name: 'timeline' });
    await expect.poll(() => timeline.textContent()).toMatch(/∅ → planned by Ada Tester.*planned → doing by Ada Tester/s);
    expect(await page.evaluate(() => JSON.stringify(localStorage) + location.href)).not.toMatch(/access|token/);

    const shots = join(ROOT, 'test-results');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'dashboard.png'), fullPage: true });
  });
});
