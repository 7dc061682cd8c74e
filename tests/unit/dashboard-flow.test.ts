import { describe, expect, it } from 'vitest';
import type * as Flow from '../../src/server/dashboard/flow.js';
import type { FlowEvent } from '../../src/server/dashboard/flow.js';

// Loaded by URL, not by a relative import: under coverage vitest.config.ts maps relative imports of
// src/*.js to dist/, which only holds what tsc compiled from .ts, and flow.js is served as written.
const { boardColumns, cumulativeFlow, formatDuration, timeInLanes }: typeof Flow = await import(
  new URL('../../src/server/dashboard/flow.js', import.meta.url).href
);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const F = 'checkout';
const at = (iso: string): number => Date.parse(iso);

let serial = 0;
/** One stored envelope; lamport and node default to a single machine's increasing clock. */
function ev(
  timestamp: string,
  wp: string,
  from: string | null,
  to: string,
  extra: { lamport?: number; node?: string; feature?: string; title?: string; id?: string } = {},
): FlowEvent {
  serial += 1;
  return {
    event_id: extra.id ?? `01JD${String(serial).padStart(22, '0')}`,
    event_type: 'WPStatusChanged',
    timestamp,
    lamport_clock: extra.lamport ?? serial,
    node_id: extra.node ?? 'aaaaaaaaaaaa',
    payload: { wp_id: wp, feature_slug: extra.feature ?? F, from_lane: from, to_lane: to, actor: 'Ada', ...(extra.title ? { title: extra.title } : {}) },
  };
}

/** Two WPs over a week: WP01 goes to done, WP02 is still being worked on. */
function week(): FlowEvent[] {
  return [
    ev('2026-11-02T09:00:00Z', 'WP01', null, 'planned'),
    ev('2026-11-02T09:00:00Z', 'WP02', null, 'planned'),
    ev('2026-11-03T09:00:00Z', 'WP01', 'planned', 'doing'),
    ev('2026-11-04T09:00:00Z', 'WP02', 'planned', 'in_progress'),
    ev('2026-11-05T21:00:00Z', 'WP01', 'doing', 'for_review'),
    ev('2026-11-06T09:00:00Z', 'WP01', 'for_review', 'done'),
  ];
}

describe('cumulativeFlow', () => {
  it('counts WPs per lane after each instant, whatever order the events came in, doing and in_progress as one lane', () => {
    const events = [
      ...week(),
      ev('2026-11-04T00:00:00Z', 'WP09', null, 'done', { feature: 'other' }),
      { ...ev('2026-11-04T00:00:00Z', 'WP01', null, 'blocked'), event_type: 'FeatureCreated' },
    ];
    const flow = cumulativeFlow(events.reverse(), F);
    expect(flow.lanes).toEqual(['planned', 'in_progress', 'for_review', 'done']);
    expect(flow.points.map((point) => [point.timestamp, point.counts, point.total])).toEqual([
      ['2026-11-02T09:00:00.000Z', { planned: 2, in_progress: 0, for_review: 0, done: 0 }, 2],
      ['2026-11-03T09:00:00.000Z', { planned: 1, in_progress: 1, for_review: 0, done: 0 }, 2],
      ['2026-11-04T09:00:00.000Z', { planned: 0, in_progress: 2, for_review: 0, done: 0 }, 2],
      ['2026-11-05T21:00:00.000Z', { planned: 0, in_progress: 1, for_review: 1, done: 0 }, 2],
      ['2026-11-06T09:00:00.000Z', { planned: 0, in_progress: 1, for_review: 0, done: 1 }, 2],
    ]);
    expect(flow.points[0]!.at).toBe(at('2026-11-02T09:00:00Z'));
  });

  it('breaks ties like the server board: nanoseconds, then lamport_clock, then node_id, then event_id', () => {
    const t = '2026-11-02T10:00:00';
    const cases: [FlowEvent, FlowEvent, string][] = [
      // the same millisecond; "0.5" is earlier than "0.50001" once padded, though not as plain text
      [ev(`${t}.50001Z`, 'WP01', null, 'for_review'), ev(`${t}.5Z`, 'WP01', null, 'doing'), 'for_review'],
      [ev(`${t}.000000002Z`, 'WP01', null, 'approved'), ev(`${t}.000000001Z`, 'WP01', null, 'blocked'), 'approved'],
      [ev(`${t}Z`, 'WP01', null, 'done', { lamport: 5 }), ev(`${t}Z`, 'WP01', null, 'blocked', { lamport: 4 }), 'done'],
      [
        ev(`${t}Z`, 'WP01', null, 'canceled', { lamport: 4, node: 'bbbbbbbbbbbb' }),
        ev(`${t}Z`, 'WP01', null, 'approved', { lamport: 4, node: 'aaaaaaaaaaaa' }),
        'canceled',
      ],
      [
        ev(`${t}Z`, 'WP01', null, 'claimed', { lamport: 4, id: '01JD0000000000000000000002' }),
        ev(`${t}Z`, 'WP01', null, 'planned', { lamport: 4, id: '01JD0000000000000000000001' }),
        'claimed',
      ],
    ];
    for (const [later, earlier, lane] of cases) {
      for (const order of [
        [later, earlier],
        [earlier, later],
      ]) {
        const flow = cumulativeFlow(order, F);
        // one point per millisecond: the state after both
        expect(flow.points).toHaveLength(1);
        expect(flow.points[0]!.counts[lane]).toBe(1);
        expect(flow.points[0]!.total).toBe(1);
      }
    }
  });

  it('takes a WP out of done when it is re-opened', () => {
    const events = [
      ev('2026-11-02T00:00:00Z', 'WP03', null, 'planned'),
      ev('2026-11-04T00:00:00Z', 'WP03', 'planned', 'done'),
      ev('2026-11-05T00:00:00Z', 'WP03', 'done', 'in_review'),
      ev('2026-11-05T12:00:00Z', 'WP03', 'in_review', 'done'),
    ];
    expect(cumulativeFlow(events, F).points.map((point) => point.counts.done)).toEqual([0, 1, 0, 1]);
  });

  it('keeps unknown lanes under their own names, after the known ones', () => {
    const events = [
      ev('2026-11-02T00:00:00Z', 'WP01', null, 'zeta'),
      ev('2026-11-02T01:00:00Z', 'WP02', null, 'qa'),
      ev('2026-11-02T02:00:00Z', 'WP03', null, 'canceled'),
      ev('2026-11-02T03:00:00Z', 'WP04', null, 'blocked'),
      ev('2026-11-02T04:00:00Z', 'WP05', null, 'planned'),
    ];
    const flow = cumulativeFlow(events, F);
    expect(flow.lanes).toEqual(['planned', 'blocked', 'canceled', 'qa', 'zeta']);
    expect(flow.points.at(-1)!.counts).toEqual({ planned: 1, blocked: 1, canceled: 1, qa: 1, zeta: 1 });
  });

  it('ignores other event types, other features, malformed events and a repeated event_id', () => {
    const twice = ev('2026-11-02T00:00:00Z', 'WP01', null, 'planned');
    const events = [
      twice,
      { ...twice },
      ev('yesterday', 'WP02', null, 'planned'),
      ev('2026-11-02T01:00:00+01:00', 'WP03', null, 'planned'),
      { ...ev('2026-11-02T02:00:00Z', 'WP04', null, 'planned'), payload: null } as unknown as FlowEvent,
    ];
    const flow = cumulativeFlow(events, F);
    expect(flow.points.map((point) => point.counts)).toEqual([{ planned: 1 }]);
    expect(cumulativeFlow(events, 'nothing-here')).toEqual({ lanes: [], points: [] });
  });
});

describe('timeInLanes', () => {
  it('measures each lane, lead and cycle time; an open WP up to now', () => {
    const { lanes, wps } = timeInLanes(week().reverse(), F, at('2026-11-08T09:00:00Z'));
    expect(lanes).toEqual(['planned', 'in_progress', 'for_review']);
    expect(wps).toEqual([
      {
        wp_id: 'WP01',
        title: null,
        lane: 'done',
        created: true,
        start: at('2026-11-02T09:00:00Z'),
        end: at('2026-11-06T09:00:00Z'),
        open: false,
        lanes: { planned: 1 * DAY, in_progress: 2.5 * DAY, for_review: 0.5 * DAY },
        lead: 4 * DAY,
        cycle: 3 * DAY,
      },
      {
        wp_id: 'WP02',
        title: null,
        lane: 'in_progress',
        created: true,
        start: at('2026-11-02T09:00:00Z'),
        end: at('2026-11-08T09:00:00Z'),
        open: true,
        lanes: { planned: 2 * DAY, in_progress: 4 * DAY },
        lead: 6 * DAY,
        cycle: 4 * DAY,
      },
    ]);
  });

  it('counts the stay in done before a re-open, and ends lead time at the arrival in done that held', () => {
    const events = [
      ev('2026-11-02T00:00:00Z', 'WP03', null, 'planned'),
      ev('2026-11-03T00:00:00Z', 'WP03', 'planned', 'doing'),
      ev('2026-11-04T00:00:00Z', 'WP03', 'doing', 'done'),
      ev('2026-11-05T00:00:00Z', 'WP03', 'done', 'in_review'),
      ev('2026-11-05T12:00:00Z', 'WP03', 'in_review', 'done'),
      // a repeated move into done does not restart the stay there
      ev('2026-11-06T00:00:00Z', 'WP03', 'done', 'done'),
      ev('2026-11-02T00:00:00Z', 'WP04', null, 'planned'),
      ev('2026-11-02T12:00:00Z', 'WP04', 'planned', 'done'),
      ev('2026-11-03T00:00:00Z', 'WP04', 'done', 'doing'),
    ];
    const [wp3, wp4] = timeInLanes(events, F, at('2026-11-04T00:00:00Z')).wps;
    expect(wp3).toMatchObject({
      open: false,
      end: at('2026-11-05T12:00:00Z'),
      lanes: { planned: DAY, in_progress: DAY, done: DAY, in_review: 12 * HOUR },
      lead: 3.5 * DAY,
      cycle: 2.5 * DAY,
    });
    // re-opened and not done again: open, measured to now; cycle started at its first arrival in done
    expect(wp4).toMatchObject({
      lane: 'in_progress',
      open: true,
      lanes: { planned: 12 * HOUR, done: 12 * HOUR, in_progress: DAY },
      lead: 2 * DAY,
      cycle: 1.5 * DAY,
    });
  });

  it('starts cycle time at work, not at a claim; gives a WP that went straight to done a cycle time of 0, and a canceled WP neither time', () => {
    const events = [
      ev('2026-11-02T00:00:00Z', 'WP04', null, 'planned'),
      ev('2026-11-02T12:00:00Z', 'WP04', 'planned', 'claimed'),
      ev('2026-11-03T00:00:00Z', 'WP04', 'claimed', 'doing'),
      ev('2026-11-03T12:00:00Z', 'WP04', 'doing', 'done'),
      ev('2026-11-02T00:00:00Z', 'WP05', null, 'planned'),
      ev('2026-11-02T06:00:00Z', 'WP05', 'planned', 'done'),
      ev('2026-11-02T00:00:00Z', 'WP06', null, 'planned'),
      ev('2026-11-03T00:00:00Z', 'WP06', 'planned', 'in_progress'),
      ev('2026-11-03T08:00:00Z', 'WP06', 'in_progress', 'canceled'),
    ];
    const [wp4, wp5, wp6] = timeInLanes(events, F, at('2026-11-09T00:00:00Z')).wps;
    expect(wp4).toMatchObject({ lanes: { planned: 12 * HOUR, claimed: 12 * HOUR, in_progress: 12 * HOUR }, lead: 1.5 * DAY, cycle: 12 * HOUR });
    expect(wp5).toMatchObject({ lanes: { planned: 6 * HOUR }, lead: 6 * HOUR, cycle: 0 });
    expect(wp6).toMatchObject({
      lane: 'canceled',
      open: false,
      end: at('2026-11-03T08:00:00Z'),
      lanes: { planned: DAY, in_progress: 8 * HOUR },
      lead: null,
      cycle: null,
    });
  });

  it('measures a WP with only its creation event to now, and never past a now behind the data', () => {
    const events = [ev('2026-11-02T00:00:00Z', 'WP07', null, 'planned', { title: 'Cart' })];
    expect(timeInLanes(events, F, at('2026-11-03T06:00:00Z')).wps).toEqual([
      {
        wp_id: 'WP07',
        title: 'Cart',
        lane: 'planned',
        created: true,
        start: at('2026-11-02T00:00:00Z'),
        end: at('2026-11-03T06:00:00Z'),
        open: true,
        lanes: { planned: 30 * HOUR },
        lead: 30 * HOUR,
        cycle: null,
      },
    ]);
    expect(timeInLanes(events, F, at('2026-11-01T00:00:00Z')).wps[0]).toMatchObject({ end: at('2026-11-02T00:00:00Z'), lanes: { planned: 0 }, lead: 0 });
  });

  it('keeps time in unknown lanes, marks a WP whose creation was not captured, and keeps the latest title', () => {
    const events = [
      ev('2026-11-02T00:00:00Z', 'WP08', 'doing', 'qa', { title: 'Old name' }),
      ev('2026-11-02T18:00:00Z', 'WP08', 'qa', 'doing', { title: 'New name' }),
      ev('2026-11-03T00:00:00Z', 'WP08', 'doing', 'done'),
    ];
    const result = timeInLanes(events, F, at('2026-11-09T00:00:00Z'));
    expect(result.lanes).toEqual(['in_progress', 'qa']);
    expect(result.wps[0]).toMatchObject({ title: 'New name', created: false, lanes: { qa: 18 * HOUR, in_progress: 6 * HOUR }, lead: DAY, cycle: 6 * HOUR });
  });
});

describe('formatDuration', () => {
  it('uses minutes, hours, then days', () => {
    expect([0, 59 * 60_000, 90 * 60_000, 23.96 * HOUR, 36 * HOUR, 9.25 * DAY].map(formatDuration)).toEqual([
      '0 min',
      '59 min',
      '1.5 h',
      '1.0 d',
      '1.5 d',
      '9.3 d',
    ]);
  });
});

describe('board columns', () => {
  it('shows `doing` under `in_progress` next to the 9-lane names, and as itself on a 4-lane board', () => {
    const nine = boardColumns(['doing', 'in_progress', 'parked']);
    expect(['doing', 'in_progress', 'parked', 'done'].map(nine)).toEqual(['in_progress', 'in_progress', 'parked', 'done']);
    expect(['doing', 'planned'].map(boardColumns(['doing', 'planned']))).toEqual(['doing', 'planned']);
  });
});
