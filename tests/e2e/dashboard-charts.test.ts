import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { browserAvailable, launchBrowser } from '../helpers/browser.js';
import { ROOT } from '../helpers/gitdir.js';

// the same policy as src/server/routes.ts serves the dashboard with, so what passes here passes there
const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const DASHBOARD = join(ROOT, 'src', 'server', 'dashboard');
const FEATURE = 'checkout-flow';
const NOW = Date.parse('2026-11-16T12:00:00Z');

type Step = [day: string, lane: string];
/** Eight WPs over three weeks, as a team would move them: reviews, a block, a re-open, a cancel. */
const STORY: Record<string, [title: string, steps: Step[]]> = {
  WP01: [
    'Cart model',
    [
      ['10-26 09', 'planned'],
      ['10-27 09', 'claimed'],
      ['10-27 10', 'doing'],
      ['10-30 15', 'for_review'],
      ['10-31 09', 'in_review'],
      ['11-02 09', 'approved'],
      ['11-02 13', 'done'],
    ],
  ],
  WP02: [
    'Price rules',
    [
      ['10-26 09', 'planned'],
      ['10-28 09', 'in_progress'],
      ['11-03 09', 'for_review'],
      ['11-04 09', 'in_review'],
      ['11-05 12', 'done'],
    ],
  ],
  WP03: [
    'Payment provider',
    [
      ['10-26 09', 'planned'],
      ['10-29 09', 'doing'],
      ['11-02 09', 'blocked'],
      ['11-06 09', 'doing'],
      ['11-10 09', 'for_review'],
      ['11-11 09', 'done'],
    ],
  ],
  WP04: [
    'Receipts email',
    [
      ['10-28 09', 'planned'],
      ['11-04 09', 'claimed'],
      ['11-05 09', 'doing'],
      ['11-07 09', 'for_review'],
      ['11-08 09', 'done'],
      ['11-10 09', 'doing'],
      ['11-12 09', 'for_review'],
      ['11-13 09', 'done'],
    ],
  ],
  WP05: [
    'Address form',
    [
      ['10-28 09', 'planned'],
      ['11-06 09', 'in_progress'],
      ['11-12 09', 'for_review'],
      ['11-13 09', 'in_review'],
    ],
  ],
  WP06: [
    'Gift cards',
    [
      ['10-30 09', 'planned'],
      ['11-09 09', 'canceled'],
    ],
  ],
  WP07: [
    'Tax display',
    [
      ['11-02 09', 'planned'],
      ['11-11 09', 'doing'],
    ],
  ],
  WP08: ['Saved carts', [['11-09 09', 'planned']]],
};

/** The stored envelopes, from two machines, handed over newest first: the charts must sort them. */
function storyEvents(): unknown[] {
  const events = Object.entries(STORY).flatMap(([wp, [title, steps]]) =>
    steps.map(([day, lane], i) => ({
      event_id: `01JC${wp}${String(i).padStart(18, '0')}`,
      event_type: 'WPStatusChanged',
      timestamp: `2026-${day.replace(' ', 'T')}:00:00Z`,
      lamport_clock: 0,
      node_id: wp < 'WP05' ? '0a1b2c3d4e5f' : 'f5e4d3c2b1a0',
      payload: {
        wp_id: wp,
        feature_slug: FEATURE,
        from_lane: i === 0 ? null : steps[i - 1]![1],
        to_lane: lane,
        actor: 'Ada Tester',
        ...(i === 0 ? { title } : {}),
      },
    })),
  );
  for (const [i, event] of events.sort((a, b) => a.timestamp.localeCompare(b.timestamp)).entries()) event.lamport_clock = i + 1;
  const elsewhere = { ...events[0]!, event_id: '01JCOTHER00000000000000000', payload: { ...events[0]!.payload, feature_slug: 'search', wp_id: 'WP01' } };
  return [...events.reverse(), elsewhere];
}

const FIXTURE_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>kitty charts</title>
<link rel="stylesheet" href="/app.css"><link rel="stylesheet" href="/charts.css"><link rel="stylesheet" href="/extra.css">
</head>
<body><main id="app"><h2>shop-web</h2><h3>${FEATURE}</h3><div id="charts"></div></main>
<script type="module" src="/fixture.js"></script></body>
</html>`;

// Records CSP violations, then proves the policy is on (an inline style attribute must be refused),
// then draws the charts the way app.js will.
const FIXTURE_JS = `window.violations = [];
document.addEventListener('securitypolicyviolation', (event) => window.violations.push(event.violatedDirective));
document.body.append(Object.assign(document.createElement('p'), { id: 'probe' }));
document.getElementById('probe').setAttribute('style', 'color: red');
const { renderFeatureCharts } = await import('/charts.js');
const events = await (await fetch('/events.json')).json();
renderFeatureCharts(document.getElementById('charts'), events, ${JSON.stringify(FEATURE)}, { now: ${NOW} });
document.body.dataset.ready = 'yes';
`;

async function fixtureServer(extraCss: string): Promise<string> {
  const asset = (file: string) => readFileSync(join(DASHBOARD, file));
  const files: Record<string, [string, string | Buffer]> = {
    '/': ['text/html; charset=utf-8', FIXTURE_HTML],
    '/fixture.js': ['text/javascript; charset=utf-8', FIXTURE_JS],
    '/events.json': ['application/json', JSON.stringify(storyEvents())],
    '/extra.css': ['text/css; charset=utf-8', extraCss],
    '/app.css': ['text/css; charset=utf-8', asset('app.css')],
    '/charts.css': ['text/css; charset=utf-8', asset('charts.css')],
    '/charts.js': ['text/javascript; charset=utf-8', asset('charts.js')],
    '/flow.js': ['text/javascript; charset=utf-8', asset('flow.js')],
  };
  const server = createServer((req, res) => {
    // the browser asks for a favicon on its own; the dashboard has none either
    if (req.url === '/favicon.ico') return void res.writeHead(204).end();
    const file = files[req.url ?? ''];
    res.writeHead(file ? 200 : 404, { 'content-security-policy': DASHBOARD_CSP, 'content-type': file?.[0] ?? 'text/plain' });
    res.end(file?.[1] ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // the browser may still hold a keep-alive connection: closing waits for none
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function openPage(extraCss = ''): Promise<{ page: Page; errors: string[] }> {
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 840, height: 900 }, locale: 'en-US' });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  await page.goto(await fixtureServer(extraCss));
  await page.locator('body[data-ready="yes"]').waitFor();
  return { page, errors };
}

/** A table as its rows of cell texts, header row first. */
function tableRows(page: Page, name: RegExp): Promise<string[][]> {
  return page
    .getByRole('table', { name })
    .locator('tr')
    .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent ?? '')));
}

/** The lane of the band under a point given in the chart's own coordinates, as a pointer there would find it. */
function laneAt(page: Page, chart: string, x: number, y: number): Promise<string | null> {
  return page.locator(chart).evaluate(
    (svg, [px, py]) => {
      const point = new DOMPoint(px, py).matrixTransform((svg as SVGSVGElement).getScreenCTM()!);
      return document.elementFromPoint(point.x, point.y)?.getAttribute('data-lane') ?? null;
    },
    [x, y],
  );
}

describe.skipIf(!browserAvailable)('feature charts in a real browser', () => {
  it('draws the cumulative flow and the time in lanes under the dashboard CSP, labelled and with tables', async () => {
    const { page, errors } = await openPage();
    // the policy is on (the probe's inline style was refused) and nothing of the charts needed an exception
    await expect.poll(() => page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual(['style-src-attr']);
    expect(errors.filter((error) => !/Applying inline style violates/.test(error))).toEqual([]);
    expect(await page.locator('#probe').evaluate((probe) => getComputedStyle(probe).color)).not.toBe('rgb(255, 0, 0)');

    const flow = page.getByRole('img', { name: /^Cumulative flow of checkout-flow/ });
    await expect
      .poll(() => flow.getAttribute('aria-label'))
      .toBe('Cumulative flow of checkout-flow: 8 work packages, 2026-10-26 to 2026-11-16; now 1 planned, 1 in progress, 1 in review, 4 done, 1 canceled.');
    const lanes = page.getByRole('img', { name: /^Time in each lane/ });
    expect(await lanes.getAttribute('aria-label')).toBe(
      'Time in each lane for the 8 work packages of checkout-flow: 4 done, median lead time 13.1 d, median cycle time 8.1 d; 3 open.',
    );
    expect(await flow.isVisible()).toBe(true);
    expect(await lanes.isVisible()).toBe(true);

    // names on the chart itself, not only in the legend
    const onFlow = await page.locator('.fc-cfd text.fc-on-fill').allTextContents();
    expect(onFlow).toEqual(expect.arrayContaining(['planned', 'in progress', 'done', 'canceled']));
    expect(await page.locator('.fc-cfd .fc-legend li').allTextContents()).toEqual([
      'planned',
      'claimed',
      'in progress',
      'for review',
      'in review',
      'approved',
      'done',
      'blocked',
      'canceled',
    ]);
    const wp04 = page.locator('.fc-lanes g[data-chart-wp="WP04"]');
    expect(await wp04.locator('text').allTextContents()).toEqual(['WP04 Receipts email', '7.0 d', '4.0 d', '2.0 d', '2.0 d', 'lead 16.0 d · cycle 8.0 d']);
    expect(await page.locator('.fc-lanes g[data-chart-wp="WP08"] text').last().textContent()).toBe('open 7.1 d · not started');

    // every band is painted with its own pattern, defined once in the page
    const fills = await page.locator('.fc-band').evaluateAll((bands) => bands.map((band) => band.getAttribute('fill')));
    const ids = await page.locator('pattern').evaluateAll((all) => all.map((pattern) => pattern.id));
    expect(new Set(ids).size).toBe(ids.length);
    for (const fill of fills) expect(ids.map((id) => `url(#${id})`)).toContain(fill);

    // stacked as the legend reads, top to bottom: at the right edge, 4 done sit on the 1 canceled
    const [right, bottom, top] = [760 - 16 - 2, 300 - 44, 12];
    const atCount = (n: number) => bottom - ((bottom - top) * n) / 8;
    expect(await laneAt(page, '.fc-cfd svg.fc-svg', right, atCount(0.5))).toBe('canceled');
    expect(await laneAt(page, '.fc-cfd svg.fc-svg', right, atCount(3))).toBe('done');
    expect(await laneAt(page, '.fc-cfd svg.fc-svg', right, atCount(7.5))).toBe('planned');

    // the same numbers as tables, for whoever opens them
    await page.locator('.fc-cfd summary').click();
    await page.locator('.fc-lanes summary').click();
    const flowTable = await tableRows(page, /^Work packages per lane of checkout-flow/);
    expect(flowTable[0]).toEqual([
      'Time (UTC)',
      'planned',
      'claimed',
      'in progress',
      'for review',
      'in review',
      'approved',
      'done',
      'blocked',
      'canceled',
      'Total',
    ]);
    expect(flowTable).toContainEqual(['2026-11-08 09:00', '2', '0', '2', '0', '0', '0', '3', '0', '0', '7']);
    expect(flowTable.at(-1)).toEqual(['2026-11-13 09:00', '1', '0', '1', '0', '1', '0', '4', '0', '1', '8']);
    const timeTable = await tableRows(page, /^Time in each lane, lead time and cycle time/);
    expect(timeTable[0]).toEqual([
      'Work package',
      'Title',
      'Lane now',
      'planned',
      'claimed',
      'in progress',
      'for review',
      'in review',
      'approved',
      'done',
      'blocked',
      'Lead time',
      'Cycle time',
    ]);
    expect(timeTable).toContainEqual(['WP04', 'Receipts email', 'done', '7.0 d', '1.0 d', '4.0 d', '2.0 d', '–', '–', '2.0 d', '–', '16.0 d', '8.0 d']);
    expect(timeTable).toContainEqual([
      'WP05',
      'Address form',
      'in review',
      '9.0 d',
      '–',
      '6.0 d',
      '1.0 d',
      '3.1 d',
      '–',
      '–',
      '–',
      '19.1 d (open)',
      '10.1 d (open)',
    ]);
    expect(timeTable).toContainEqual(['WP06', 'Gift cards', 'canceled', '10.0 d', '–', '–', '–', '–', '–', '–', '–', '–', '–']);
    await expect.poll(() => page.getByRole('table', { name: /^Time in each lane/ }).isVisible()).toBe(true);
    // charts.css is applied (the halo that keeps names readable on any fill)
    expect(
      await page
        .locator('.fc-on-fill')
        .first()
        .evaluate((label) => getComputedStyle(label).paintOrder),
    ).toMatch(/^stroke/);

    const shots = join(ROOT, 'test-results');
    mkdirSync(shots, { recursive: true });
    await page.locator('.fc-data[open]').evaluateAll((details) => {
      for (const detail of details) detail.removeAttribute('open');
    });
    await page.screenshot({ path: join(shots, 'dashboard-charts.png'), fullPage: true });
    // the picture in docs/ changes only when asked for, not on every run
    if (process.env.KITTY_UPDATE_DOCS === '1') await page.screenshot({ path: join(ROOT, 'docs', 'dashboard-charts.png'), fullPage: true });
  });

  it('stays readable in greyscale: the patterns differ where the greys are alike', async () => {
    const { page } = await openPage('html { filter: grayscale(1); }');
    const marks = await page.locator('pattern').evaluateAll((all) => all.map((pattern) => pattern.querySelector('path')?.getAttribute('d') ?? 'solid'));
    const perChart = marks.slice(0, await page.locator('.fc-cfd pattern').count());
    expect(new Set(perChart).size).toBe(perChart.length);
    await page.screenshot({ path: join(ROOT, 'test-results', 'dashboard-charts-grey.png'), fullPage: true });
  });
});
