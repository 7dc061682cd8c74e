import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { browserAvailable, launchBrowser } from '../helpers/browser.js';
import { ROOT, wp } from '../helpers/gitdir.js';
import { F, hookedRepo } from '../helpers/hooks.js';
import { startPostgres } from '../helpers/postgres.js';
import { login, startServer } from '../helpers/server.js';

async function openProject(url: string): Promise<Page> {
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  await page.goto(url);
  await page.getByLabel('Username').fill('demo');
  await page.getByLabel('Password').fill('demo-pass');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('[data-project]').first().click();
  return page;
}

describe.skipIf(!browserAvailable)('dashboard in a real browser', () => {
  it('logs in, opens the project, and moves a card live when a lane move is committed', async () => {
    const server = await startServer();
    const repo = await hookedRepo();
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    repo.commit('plan', {
      files: { [`${F}/WP01-cart.md`]: wp({ lane: 'planned', title: 'Cart' }), [`${F}/WP02-pay.md`]: wp({ lane: 'planned', title: 'Pay' }) },
    });
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);

    const page = await openProject(server.url);
    await page.locator('[data-lane="planned"] [data-wp="WP01"]').waitFor();
    await page.evaluate(() => Object.assign(window, { kittyNoReload: true }));

    expect((await repo.run(['wp', 'move', 'WP01', 'doing', '--note', 'started'])).code).toBe(0);
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);
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

describe.skipIf(!browserAvailable)('dashboard sessions', () => {
  it('outlives its access token: the page refreshes it and goes on moving cards, with no login asked', async () => {
    const server = await startServer({ args: ['--access-lifetime', '1'] });
    const repo = await hookedRepo();
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    repo.commit('plan', { files: { [`${F}/WP01-cart.md`]: wp({ lane: 'planned', title: 'Cart' }) } });
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);
    const page = await openProject(server.url);
    await page.locator('[data-lane="planned"] [data-wp="WP01"]').waitFor();
    // the live stream ends with the token that opened it; reopening it needs a refreshed one
    await page.waitForRequest((request) => request.url().endsWith('/api/v1/token/refresh/'), { timeout: 10_000 });

    expect((await repo.run(['wp', 'move', 'WP01', 'doing'])).code).toBe(0);
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);
    await page.locator('[data-lane="doing"] [data-wp="WP01"]').waitFor({ timeout: 5_000 });
    expect(await page.getByLabel('Password').count()).toBe(0);
  });
});

describe.skipIf(!browserAvailable)('dashboard courtesies', () => {
  it('shows titles and charts, keeps the project in its address across a reload, says when live updates stop, and logs out', async () => {
    const server = await startServer();
    const repo = await hookedRepo();
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    repo.commit('plan', {
      files: { [`${F}/WP01-cart.md`]: wp({ lane: 'planned', title: 'Cart' }), [`${F}/WP02-pay.md`]: wp({ lane: 'planned', title: 'Pay' }) },
    });
    expect((await repo.run(['wp', 'move', 'WP01', 'doing'])).code).toBe(0);
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);

    const page = await openProject(server.url);
    const card = page.locator('[data-lane="doing"] [data-wp="WP01"]');
    await card.waitFor();
    expect(await card.textContent()).toMatch(/^WP01Cart.* · \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    expect(await page.getByRole('img', { name: /cumulative flow/i }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('img', { name: /time in each lane/i }).count()).toBeGreaterThan(0);
    const address = page.url();
    expect(address).toMatch(/#\/projects\/[0-9a-f-]{36}$/);

    await page.reload();
    await page.getByLabel('Username').fill('demo');
    await page.getByLabel('Password').fill('demo-pass');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('[data-lane="doing"] [data-wp="WP01"]').waitFor();
    expect(page.url()).toBe(address);

    const banner = page.getByRole('status');
    expect(await banner.isVisible()).toBe(false);
    await server.stop();
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await banner.textContent()).toMatch(/Live updates stopped/);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await page.textContent('main')).toContain('You are logged out.');
    expect(await banner.isVisible()).toBe(false);
  });

  it('logging out revokes the session on the server', async () => {
    const server = await startServer();
    const repo = await hookedRepo();
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    repo.commit('plan', { files: { [`${F}/WP01-cart.md`]: wp({ lane: 'planned', title: 'Cart' }) } });
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);
    const page = await openProject(server.url);
    await page.locator('[data-wp="WP01"]').waitFor();
    const revoked = page.waitForResponse((response) => response.url().endsWith('/api/v1/token/revoke/'));
    await page.getByRole('button', { name: 'Log out' }).click();
    const response = await revoked;
    expect(response.status()).toBe(200);
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    const { refresh } = response.request().postDataJSON() as { refresh: string };
    const again = await fetch(`${server.url}/api/v1/token/refresh/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh }),
    });
    expect(again.status).toBe(401);
  });
});

describe.skipIf(!browserAvailable)('dashboard of a team server (2 instances on PostgreSQL)', () => {
  it('a page open on one instance moves the card when the events go to the other, pushed, never polled', async () => {
    const cluster = await startPostgres();
    onTestFinished(() => cluster.stop());
    const database = await cluster.createDatabase();
    const [a, b] = await Promise.all([startServer({ database }), startServer({ database })]);
    const repo = await hookedRepo();
    expect((await login(a!.url, repo.dir, repo.env)).code).toBe(0);
    // events reach the server only by the flushes below, never by a background flusher in between
    const config = join(repo.dir, '.kittify', 'config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('auto_start: true', 'auto_start: false'));
    expect(readFileSync(config, 'utf8')).toContain('auto_start: false');
    repo.commit('plan', { files: { [`${F}/WP01-cart.md`]: wp({ lane: 'planned', title: 'Cart' }) } });
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);

    const page = await openProject(b!.url);
    await page.locator('[data-lane="planned"] [data-wp="WP01"]').waitFor();
    const reads: string[] = [];
    page.on('request', (request) => void (/\/(events|board)\//.test(request.url()) && reads.push(request.url())));
    expect((await repo.run(['wp', 'move', 'WP01', 'doing'])).code).toBe(0);
    // nothing changed on the server yet: a polling page would have read events/ by now
    expect(reads).toEqual([]);
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);
    await page.locator('[data-lane="doing"] [data-wp="WP01"]').waitFor({ timeout: 5_000 });
  });
});
