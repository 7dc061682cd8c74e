// The numbers behind the dashboard's charts, computed from the stored events: pure functions with no
// DOM, so the page and the unit tests run the same code, in the browser and in Node alike.
//
// Lanes: `doing` and `in_progress` are one lane here, keyed `in_progress` and labelled "in progress"
// (both mean someone is working on it; two bands for one state would split the flow). Every other
// lane of the vocabulary is its own lane. A lane outside the vocabulary is kept under its own name and
// shown after all known ones, so a client newer than this page still adds up.

/** Display order: the workflow from left to right, then the side lanes, then unknown ones (alphabetical). */
export const LANE_ORDER = ['planned', 'claimed', 'in_progress', 'for_review', 'in_review', 'approved', 'done', 'blocked', 'canceled'];

const LABELS = { in_progress: 'in progress', for_review: 'for review', in_review: 'in review' };

// A WP in one of these has stopped: its time there is not "time in lane" and its lead time has ended.
const TERMINAL = new Set(['done', 'canceled']);

// The commitment point for cycle time: work has started once a WP reaches one of these. `claimed` is
// not in it: a claim reserves a WP without starting it, and WPs often wait in `claimed`.
const STARTED = new Set(['in_progress', 'for_review', 'in_review', 'approved', 'done']);

/** The lane a raw `to_lane` counts in. */
export function laneKey(lane) {
  return lane === 'doing' ? 'in_progress' : lane;
}

// Lanes only the 9-lane vocabulary has: next to one of them, a board is in that vocabulary.
const NINE_ONLY = new Set(['claimed', 'in_progress', 'in_review', 'approved', 'blocked', 'canceled']);

/**
 * The board column of each lane given: its own, except `doing` on a board in the 9-lane vocabulary,
 * which is `in_progress` there (one lane in two vocabularies, as the terminal board shows it).
 */
export function boardColumns(lanes) {
  const nine = lanes.some((lane) => NINE_ONLY.has(lane));
  return (lane) => (nine && lane === 'doing' ? 'in_progress' : lane);
}

/** What people read for a lane key. */
export function laneLabel(key) {
  return LABELS[key] ?? key;
}

/** Lane keys in display order; unknown lanes last, alphabetically, so the order never depends on the data's order. */
export function orderLanes(keys) {
  const rank = (key) => (LANE_ORDER.includes(key) ? LANE_ORDER.indexOf(key) : LANE_ORDER.length);
  return [...new Set(keys)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The timestamp as the server orders it (to the nanosecond, like `timestampKey` in validate.ts) and
 * as milliseconds for drawing; null for something the server would not have stored.
 */
function instant(timestamp) {
  const match = typeof timestamp === 'string' ? /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(timestamp) : null;
  const ms = match ? Date.parse(`${match[1]}Z`) : Number.NaN;
  if (Number.isNaN(ms)) return null;
  const fraction = match[2] ?? '';
  return { key: `${match[1]}.${fraction.padEnd(9, '0')}Z`, at: ms + Number(fraction.padEnd(3, '0').slice(0, 3)) };
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The server's board order: (timestamp, lamport_clock, node_id, event_id). */
function boardOrder(a, b) {
  return cmp(a.key, b.key) || a.lamport_clock - b.lamport_clock || cmp(a.node_id, b.node_id) || cmp(a.event_id, b.event_id);
}

/**
 * The feature's lane changes in board order, whatever order they arrived in: only `WPStatusChanged`
 * events move a card (as on the server's board), and one event_id counts once.
 */
export function featureMoves(events, feature) {
  const seen = new Set();
  const moves = [];
  for (const event of events) {
    const payload = event?.payload;
    if ((event?.event_type ?? 'WPStatusChanged') !== 'WPStatusChanged' || payload?.feature_slug !== feature) continue;
    if (typeof payload.wp_id !== 'string' || typeof payload.to_lane !== 'string' || seen.has(event.event_id)) continue;
    const when = instant(event.timestamp);
    if (!when) continue;
    seen.add(event.event_id);
    moves.push({
      ...when,
      lamport_clock: event.lamport_clock,
      node_id: event.node_id,
      event_id: event.event_id,
      wp_id: payload.wp_id,
      lane: laneKey(payload.to_lane),
      created: payload.from_lane == null,
      title: payload.title,
    });
  }
  return moves.sort(boardOrder);
}

/**
 * Work packages per lane over time. Each point is the state just after every change at its instant
 * (changes in the same millisecond make one point): each WP counts in the lane of its latest event in
 * board order. `lanes` lists every lane that ever held a WP, in display order; each point's `counts`
 * has all of them (zeros included) and `total` is the number of WPs known by then.
 * → { lanes: string[], points: { at: number, timestamp: string, counts: Record<string, number>, total: number }[] }
 */
export function cumulativeFlow(events, feature) {
  const where = new Map();
  const states = [];
  for (const move of featureMoves(events, feature)) {
    where.set(move.wp_id, move.lane);
    if (states.at(-1)?.at === move.at) states.pop();
    states.push({ at: move.at, lanes: [...where.values()] });
  }
  const lanes = orderLanes(states.flatMap((state) => state.lanes));
  const points = states.map(({ at, lanes: held }) => {
    const counts = Object.fromEntries(lanes.map((lane) => [lane, 0]));
    for (const lane of held) counts[lane] += 1;
    return { at, timestamp: new Date(at).toISOString(), counts, total: held.length };
  });
  return { lanes, points };
}

/**
 * Each WP's time per lane, lead time and cycle time, in milliseconds.
 *
 * - A WP's clock starts at its first event in board order: its creation (`from_lane: null`), or, when
 *   the creation was never captured, the first change seen (`created: false`: its times are lower bounds).
 * - A WP has ended when it is in a terminal lane (done, canceled) now: it ended at the arrival that
 *   began its current stay there. Otherwise it is open and measured to `now` (never earlier than its
 *   last event, so a `now` behind the data cannot give negative times).
 * - `lanes`: time in each lane from the start to the end. The stay in the terminal lane it ended in is
 *   not counted (it would grow forever); an earlier stay in done, before a re-open, is.
 * - Lead time: start → end, for a WP done now or still open (so far). A re-opened WP's earlier arrival
 *   in done does not end it: that "done" did not hold. A canceled WP has none (null).
 * - Cycle time: first arrival ever in a started lane (in progress, for review, in review, approved or
 *   done) → end. Null while not started and for a canceled WP; 0 for a WP that went to done directly.
 * → { lanes: string[], wps: { wp_id, title, lane, created, start, end, open, lanes, lead, cycle }[] }
 *   with WPs sorted by wp_id and `lanes` every lane some WP spent counted time in, in display order.
 */
export function timeInLanes(events, feature, now) {
  const byWp = new Map();
  for (const move of featureMoves(events, feature)) {
    if (!byWp.has(move.wp_id)) byWp.set(move.wp_id, []);
    byWp.get(move.wp_id).push(move);
  }
  const wps = [...byWp.keys()].sort(cmp).map((wpId) => measure(wpId, byWp.get(wpId), now));
  return { lanes: orderLanes(wps.flatMap((wp) => Object.keys(wp.lanes))), wps };
}

function measure(wpId, moves, now) {
  const last = moves.at(-1);
  // the current stay began with the first of the trailing moves into the current lane
  let arrival = moves.length - 1;
  while (arrival > 0 && moves[arrival - 1].lane === last.lane) arrival -= 1;
  const open = !TERMINAL.has(last.lane);
  const end = open ? Math.max(now, last.at) : moves[arrival].at;
  const lanes = {};
  for (let i = 0; i < (open ? moves.length : arrival); i += 1) {
    const until = i + 1 < moves.length ? moves[i + 1].at : end;
    lanes[moves[i].lane] = (lanes[moves[i].lane] ?? 0) + until - moves[i].at;
  }
  const started = moves.find((move) => STARTED.has(move.lane));
  const canceled = last.lane === 'canceled';
  return {
    wp_id: wpId,
    title: moves.findLast((move) => typeof move.title === 'string' && move.title !== '')?.title ?? null,
    lane: last.lane,
    created: moves[0].created,
    start: moves[0].at,
    end,
    open,
    lanes,
    lead: canceled ? null : end - moves[0].at,
    cycle: canceled || !started ? null : end - started.at,
  };
}

/** A duration as people read it: minutes under an hour, hours under a day, then days (one decimal). */
export function formatDuration(ms) {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  // rounded first, so 23.96 h reads "1.0 d" rather than "24.0 h"
  const hours = Math.round(ms / 360_000) / 10;
  return hours < 24 ? `${hours.toFixed(1)} h` : `${(ms / 86_400_000).toFixed(1)} d`;
}
