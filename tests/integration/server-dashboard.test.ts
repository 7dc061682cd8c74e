import { describe, expect, it } from 'vitest';
import { browserAvailable, launchBrowser } from '../helpers/browser.js';
import { call, envelope, login, startHostileServer } from '../helpers/hostile.js';

describe('dashboard responses', () => {
  it('carry a Content-Security-Policy without inline script, frame-ancestors none and a referrer policy; the page has no inline code', async () => {
    const server = await startHostileServer();
    for (const path of ['/', '/app.js', '/app.css']) {
      const answer = await call(server.url, 'GET', path);
      expect(answer.status, path).toBe(200);
      const csp = answer.headers['content-security-policy'] as string;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(answer.headers['x-frame-options']).toBe('DENY');
    }
    const html = (await call(server.url, 'GET', '/')).text;
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>|<style|\son[a-z]+=/i);
    expect((await call(server.url, 'GET', '/api/health/')).headers['referrer-policy']).toBe('no-referrer');
  });

  it.skipIf(!browserAvailable)('the dashboard works under its policy in a real browser, and refuses to be framed', async () => {
    const server = await startHostileServer();
    const { access } = await login(server.url);
    await call(server.url, 'POST', '/api/v1/events/batch/', { body: { events: [envelope()] }, token: access });
    const page = await (await launchBrowser()).newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(server.url);
    expect(await page.evaluate(() => getComputedStyle(document.body).margin)).toBe('0px');
    await page.getByLabel('Username').fill('demo');
    await page.getByLabel('Password').fill('demo-pass');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('[data-project]').first().click();
    await page.locator('[data-lane="planned"] [data-wp="WP01"]').waitFor();
    expect(violations).toEqual([]);

    const framing = await (await launchBrowser()).newPage();
    const refusals: string[] = [];
    framing.on('console', (message) => refusals.push(message.text()));
    await framing.setContent(`<iframe src="${server.url}/"></iframe>`);
    await expect.poll(() => refusals.join('\n'), { timeout: 10_000 }).toMatch(/frame-ancestors 'none'/);
    expect(
      await framing
        .frames()[1]
        ?.locator('form')
        .count()
        .catch(() => 0),
    ).toBe(0);
  });
});
