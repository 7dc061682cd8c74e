// Two pictures per feature, drawn as SVG with the DOM API (the page's CSP allows no inline markup or
// style): a cumulative-flow diagram and each WP's time per lane. Each lane has a pattern as well as a
// colour, names sit on the chart itself, and a table with the same numbers follows each picture, so
// neither colour vision nor sight is needed to read them.
import { cumulativeFlow, formatDuration, laneLabel, timeInLanes } from './flow.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Fills step from light (planned) to dark (done) so greyscale keeps an order, and each lane's marks
// differ in shape, so two lanes of the same grey still differ. Unknown lanes share the last look.
const LOOKS = {
  planned: { fill: '#e3edff', ink: '#3056a0', mark: 'dots' },
  claimed: { fill: '#bcd4f6', ink: '#1d3b74', mark: 'rising' },
  in_progress: { fill: '#f4c453', ink: '#6b4700', mark: 'horizontal' },
  for_review: { fill: '#cfb0ec', ink: '#41206a', mark: 'falling' },
  in_review: { fill: '#9677cf', ink: '#f4eeff', mark: 'cross' },
  approved: { fill: '#5aa987', ink: '#0a3323', mark: 'vertical' },
  done: { fill: '#1d6640', ink: '#1d6640', mark: 'solid' },
  blocked: { fill: '#d6453f', ink: '#ffffff', mark: 'zigzag' },
  canceled: { fill: '#8f8f8f', ink: '#1b1b1b', mark: 'ex' },
};
const OTHER_LOOK = { fill: '#d4d4d4', ink: '#3a3a3a', mark: 'grid' };

// 8×8 tiles; paths are stroked in the lane's ink
const MARKS = {
  dots: 'M1.5,2 h1 M5.5,6 h1',
  rising: 'M-1,1 l2,-2 M0,8 l8,-8 M7,9 l2,-2',
  falling: 'M-1,7 l2,2 M0,0 l8,8 M7,-1 l2,2',
  horizontal: 'M0,2 h8 M0,6 h8',
  vertical: 'M2,0 v8 M6,0 v8',
  cross: 'M0,8 l8,-8 M0,0 l8,8',
  zigzag: 'M0,6 l2,-4 l2,4 l2,-4 l2,4',
  ex: 'M1.5,1.5 l3,3 M4.5,1.5 l-3,3',
  grid: 'M0,.5 h8 M.5,0 v8',
  solid: '',
};

// pattern ids are document-wide, and a page shows one chart pair per feature
let serial = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.append(...children);
  return node;
}

const lookOf = (lane) => LOOKS[lane] ?? OTHER_LOOK;

/** One `<pattern>` per lane in `<defs>`, and the `fill` value that points at each. */
function patterns(lanes) {
  const prefix = `kitty-chart-${++serial}`;
  const defs = svg('defs');
  const fills = {};
  lanes.forEach((lane, index) => {
    const { fill, ink, mark } = lookOf(lane);
    const id = `${prefix}-${index}`;
    // a round cap makes the dots' zero-length-ish segments visible
    const marks = MARKS[mark]
      ? [svg('path', { d: MARKS[mark], stroke: ink, 'stroke-width': mark === 'dots' ? 2 : 1.2, 'stroke-linecap': 'round', fill: 'none' })]
      : [];
    defs.append(svg('pattern', { id, width: 8, height: 8, patternUnits: 'userSpaceOnUse' }, svg('rect', { width: 8, height: 8, fill }), ...marks));
    fills[lane] = `url(#${id})`;
  });
  return { defs, fills };
}

function legend(lanes, fills) {
  const items = lanes.map((lane) =>
    el(
      'li',
      {},
      svg(
        'svg',
        { width: 22, height: 14, 'aria-hidden': 'true', class: 'fc-swatch' },
        svg('rect', { x: 0.5, y: 0.5, width: 21, height: 13, fill: fills[lane] }),
      ),
      laneLabel(lane),
    ),
  );
  return el('ul', { class: 'fc-legend', 'aria-label': 'lanes' }, ...items);
}

/** A table with a caption, a header row, and a row header in each row's first cell. */
function table(caption, headers, rows) {
  const head = el('tr', {}, ...headers.map((text) => el('th', { scope: 'col' }, text)));
  const body = rows.map(([first, ...rest]) => el('tr', {}, el('th', { scope: 'row' }, first), ...rest.map((text) => el('td', {}, text))));
  return el(
    'details',
    { class: 'fc-data' },
    el('summary', {}, 'Numbers as a table'),
    el('table', { class: 'fc-table' }, el('caption', {}, caption), el('thead', {}, head), el('tbody', {}, ...body)),
  );
}

const scale = (d0, d1, r0, r1) => (value) => r0 + ((value - d0) / (d1 - d0 || 1)) * (r1 - r0);
// SVG text cannot be measured before it is in the page; 11px system-ui averages about 6.2px a character
const textWidth = (text) => text.length * 6.2;
const utc = (ms) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const dayMonth = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });

function text(x, y, content, attrs = {}) {
  return svg('text', { x, y, class: 'fc-text', ...attrs }, content);
}

/** Midnight-UTC ticks between t0 and t1, at most about eight of them. */
function dateTicks(t0, t1) {
  const days = (t1 - t0) / DAY;
  const step = [1, 2, 7, 14, 28, 56].find((s) => days / s <= 8) ?? Math.ceil(days / 8);
  const ticks = [];
  for (let t = Math.ceil(t0 / DAY) * DAY; t <= t1; t += step * DAY) ticks.push(t);
  return ticks;
}

/** Ticks for a duration axis: whole days past two days, whole hours below. */
function durationTicks(max) {
  const unit = max >= 2 * DAY ? DAY : HOUR;
  const step = [1, 2, 3, 5, 7, 10, 14, 21, 28, 56, 112].find((s) => max / unit / s <= 8) ?? Math.ceil(max / unit / 8);
  const ticks = [];
  for (let t = 0; t <= max; t += step * unit) ticks.push({ at: t, label: t === 0 ? '0' : `${t / unit} ${unit === DAY ? 'd' : 'h'}` });
  return ticks;
}

const CFD = { width: 760, height: 300, left: 48, right: 16, top: 12, bottom: 44 };

/** The step path of one band: its top edge left to right, its bottom edge back. */
function bandPath(xs, tops, bottoms) {
  const n = tops.length;
  let d = `M${xs[0]},${tops[0]}`;
  for (let i = 0; i < n; i += 1) d += `H${xs[i + 1]}${i + 1 < n ? `V${tops[i + 1]}` : ''}`;
  d += `V${bottoms[n - 1]}`;
  for (let i = n - 1; i >= 0; i -= 1) d += `H${xs[i]}${i > 0 ? `V${bottoms[i - 1]}` : ''}`;
  return `${d}Z`;
}

/**
 * Where a band's name fits best: the tallest flat stretch (consecutive steps with the same top and
 * bottom, as a change in another band splits a step without moving this one) wide enough for the text.
 */
function bandLabel(lane, xs, tops, bottoms) {
  const name = laneLabel(lane);
  let best = null;
  for (let i = 0, j = 0; i < tops.length; i = j + 1) {
    for (j = i; j + 1 < tops.length && tops[j + 1] === tops[i] && bottoms[j + 1] === bottoms[i]; ) j += 1;
    const [height, width] = [bottoms[i] - tops[i], xs[j + 1] - xs[i]];
    const better = !best || height > best.height || (height === best.height && width > best.width);
    if (height >= 14 && width >= textWidth(name) + 8 && better) best = { height, width, x: (xs[i] + xs[j + 1]) / 2, y: (tops[i] + bottoms[i]) / 2 };
  }
  return best && text(best.x, best.y, name, { class: 'fc-text fc-on-fill', 'text-anchor': 'middle', 'dominant-baseline': 'central' });
}

function flowAxes(t0, t1, x, y, maxTotal) {
  const g = svg('g', { class: 'fc-axis' });
  const step = Math.max(1, Math.ceil(maxTotal / 5));
  for (let n = 0; n <= maxTotal; n += step) {
    g.append(
      svg('line', { x1: CFD.left, x2: CFD.width - CFD.right, y1: y(n), y2: y(n), class: 'fc-grid' }),
      text(CFD.left - 6, y(n), String(n), { 'text-anchor': 'end', 'dominant-baseline': 'central' }),
    );
  }
  const base = CFD.height - CFD.bottom;
  for (const t of dateTicks(t0, t1).filter((t) => x(t1) - x(t) > 36)) {
    g.append(
      svg('line', { x1: x(t), x2: x(t), y1: base, y2: base + 4, class: 'fc-tick' }),
      text(x(t), base + 16, dayMonth.format(t), { 'text-anchor': 'middle' }),
    );
  }
  g.append(text(x(t1), base + 16, 'now', { 'text-anchor': 'end' }), text(CFD.left, CFD.height - 6, 'dates in UTC'));
  g.append(
    text(12, CFD.top + (base - CFD.top) / 2, 'work packages', { 'text-anchor': 'middle', transform: `rotate(-90 12 ${CFD.top + (base - CFD.top) / 2})` }),
  );
  return g;
}

/** The cumulative-flow diagram: lanes stacked with done at the bottom, in steps, up to `now`. */
function flowChart(feature, { lanes, points }, now) {
  const t0 = points[0].at;
  const t1 = Math.max(now, points.at(-1).at, t0 + HOUR);
  const maxTotal = Math.max(...points.map((point) => point.total));
  const x = scale(t0, t1, CFD.left, CFD.width - CFD.right);
  const y = scale(0, maxTotal, CFD.height - CFD.bottom, CFD.top);
  const xs = [...points.map((point) => x(point.at)), x(t1)];
  const { defs, fills } = patterns(lanes);
  const bands = svg('g', { class: 'fc-bands' });
  const labels = svg('g');
  // legend order is top to bottom, so the stack is built from the last lane up
  const below = points.map(() => 0);
  for (const lane of [...lanes].reverse()) {
    const bottoms = below.map((n) => y(n));
    points.forEach((point, i) => {
      below[i] += point.counts[lane];
    });
    const tops = below.map((n) => y(n));
    bands.append(svg('path', { d: bandPath(xs, tops, bottoms), fill: fills[lane], class: 'fc-band', 'data-lane': lane }));
    const label = bandLabel(lane, xs, tops, bottoms);
    if (label) labels.append(label);
  }
  const last = points.at(-1);
  const nowText = lanes.filter((lane) => last.counts[lane] > 0).map((lane) => `${last.counts[lane]} ${laneLabel(lane)}`);
  const label = `Cumulative flow of ${feature}: ${last.total} work packages, ${utc(t0).slice(0, 10)} to ${utc(t1).slice(0, 10)}; now ${nowText.join(', ')}.`;
  const picture = svg(
    'svg',
    { viewBox: `0 0 ${CFD.width} ${CFD.height}`, role: 'img', 'aria-label': label, class: 'fc-svg' },
    defs,
    flowAxes(t0, t1, x, y, maxTotal),
    bands,
    labels,
  );
  const rows = points.map((point) => [utc(point.at), ...lanes.map((lane) => String(point.counts[lane])), String(point.total)]);
  const data = table(`Work packages per lane of ${feature} after each change (UTC)`, ['Time (UTC)', ...lanes.map(laneLabel), 'Total'], rows);
  return el(
    'figure',
    { class: 'flow-chart fc-cfd' },
    el('figcaption', {}, 'Cumulative flow: work packages per lane over time'),
    picture,
    legend(lanes, fills),
    data,
  );
}

const BARS = { width: 760, left: 200, right: 180, top: 8, row: 28, bar: 18, bottom: 36 };

/** What a WP's bar ends with: lead and cycle time, or how long it has been open. */
function wpSummary(wp) {
  const cycle = wp.cycle === null ? 'not started' : `cycle ${formatDuration(wp.cycle)}`;
  if (wp.lane === 'canceled') return `canceled after ${formatDuration(wp.end - wp.start)}`;
  return wp.open ? `open ${formatDuration(wp.lead)} · ${cycle}` : `lead ${formatDuration(wp.lead)} · ${cycle}`;
}

function wpName(wp) {
  const name = wp.title ? `${wp.wp_id} ${wp.title}` : wp.wp_id;
  return name.length > 28 ? `${name.slice(0, 27)}…` : name;
}

function wpBar(wp, lanes, fills, x, top) {
  const g = svg('g', { class: 'fc-row', 'data-chart-wp': wp.wp_id });
  const middle = top + BARS.bar / 2;
  g.append(text(BARS.left - 8, middle, wpName(wp), { 'text-anchor': 'end', 'dominant-baseline': 'central' }));
  let from = 0;
  for (const lane of lanes.filter((key) => wp.lanes[key] > 0)) {
    const [x0, x1] = [x(from), x(from + wp.lanes[lane])];
    g.append(svg('rect', { x: x0, y: top, width: x1 - x0, height: BARS.bar, fill: fills[lane], class: 'fc-band', 'data-lane': lane }));
    const label = formatDuration(wp.lanes[lane]);
    if (x1 - x0 >= textWidth(label) + 6)
      g.append(text((x0 + x1) / 2, middle, label, { class: 'fc-text fc-on-fill', 'text-anchor': 'middle', 'dominant-baseline': 'central' }));
    from += wp.lanes[lane];
  }
  g.append(text(BARS.width - BARS.right + 8, middle, wpSummary(wp), { 'dominant-baseline': 'central' }));
  return g;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function lanesSummary(feature, wps) {
  const done = wps.filter((wp) => wp.lane === 'done');
  const open = wps.filter((wp) => wp.open).length;
  const cycles = done.map((wp) => wp.cycle);
  const medians = done.length
    ? `, median lead time ${formatDuration(median(done.map((wp) => wp.lead)))}, median cycle time ${formatDuration(median(cycles))}`
    : '';
  return `Time in each lane for the ${wps.length} work packages of ${feature}: ${done.length} done${medians}; ${open} open.`;
}

function timeAxis(x, max, base) {
  const g = svg('g', { class: 'fc-axis' });
  for (const tick of durationTicks(max)) {
    g.append(
      svg('line', { x1: x(tick.at), x2: x(tick.at), y1: BARS.top, y2: base, class: 'fc-grid' }),
      text(x(tick.at), base + 14, tick.label, { 'text-anchor': 'middle' }),
    );
  }
  g.append(text(BARS.left, base + 30, 'time since the work package was created'));
  return g;
}

/** Each WP's time per lane as a horizontal stacked bar, in lane order, from creation to done (or now). */
function lanesChart(feature, { lanes, wps }) {
  const max = Math.max(HOUR, ...wps.map((wp) => wp.end - wp.start));
  const base = BARS.top + wps.length * BARS.row;
  const height = base + BARS.bottom;
  const x = scale(0, max, BARS.left, BARS.width - BARS.right);
  const { defs, fills } = patterns(lanes);
  const rows = wps.map((wp, i) => wpBar(wp, lanes, fills, x, BARS.top + i * BARS.row + (BARS.row - BARS.bar) / 2));
  const picture = svg(
    'svg',
    { viewBox: `0 0 ${BARS.width} ${height}`, role: 'img', 'aria-label': lanesSummary(feature, wps), class: 'fc-svg' },
    defs,
    timeAxis(x, max, base),
    ...rows,
  );
  const cell = (ms) => (ms === null || ms === undefined ? '–' : formatDuration(ms));
  const data = wps.map((wp) => [
    wp.wp_id,
    wp.title ?? '',
    laneLabel(wp.lane),
    ...lanes.map((lane) => cell(wp.lanes[lane])),
    cell(wp.lead) + (wp.open ? ' (open)' : ''),
    cell(wp.cycle) + (wp.open && wp.cycle !== null ? ' (open)' : ''),
  ]);
  const numbers = table(
    `Time in each lane, lead time and cycle time per work package of ${feature}`,
    ['Work package', 'Title', 'Lane now', ...lanes.map(laneLabel), 'Lead time', 'Cycle time'],
    data,
  );
  const note = el(
    'p',
    { class: 'fc-note' },
    'Lead time: created → done. Cycle time: first in progress (or later lane) → done. Open work packages are measured up to now; time after reaching done or canceled is not counted.',
  );
  return el(
    'figure',
    { class: 'flow-chart fc-lanes' },
    el('figcaption', {}, 'Time in each lane per work package'),
    picture,
    legend(lanes, fills),
    note,
    numbers,
  );
}

/**
 * Draws a feature's cumulative-flow diagram and time-in-lanes chart into `container` (replacing what
 * it held), from the project's events as `GET /api/v1/projects/{uuid}/events/` returns them. `now`
 * (ms) is where open WPs are measured to and where the flow chart ends. Returns the new section.
 */
export function renderFeatureCharts(container, events, feature, { now = Date.now() } = {}) {
  const flow = cumulativeFlow(events, feature);
  const section = el('section', { class: 'flow-charts', 'aria-label': `${feature} charts` });
  if (flow.points.length === 0) section.append(el('p', { class: 'muted' }, `No lane changes for ${feature} yet.`));
  else section.append(flowChart(feature, flow, now), lanesChart(feature, timeInLanes(events, feature, now)));
  container.replaceChildren(section);
  return section;
}
