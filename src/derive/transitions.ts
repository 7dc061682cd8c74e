import type { TransitionSource } from '../events/envelope.js';
import type { HistoryEntry, WorkPackageState } from '../workpackage/frontmatter.js';
import { sameLane } from '../workpackage/lanes.js';

export interface Transition {
  featureSlug: string;
  wpId: string;
  fromLane: string | null;
  toLane: string;
  /** Transition time, ISO 8601 UTC. */
  at: string;
  actor: string;
  /** What the event_id is derived from; survives amend, rebase, cherry-pick, merge and pulls. */
  key: string;
  source: TransitionSource;
  /** A status line's own `event_id` (used as the envelope's id when it is a ULID). */
  lineEventId?: string | null;
  /** The WP's title as its file gives it after the move: shown by the dashboard, no part of the identity. */
  title?: string | null;
}

export interface CommitFacts {
  /** Author date in ISO 8601 UTC: kept by amend, rebase and cherry-pick. */
  authorDate: string;
  authorName: string;
}

export interface WpChange {
  featureSlug: string;
  wpId: string;
  /** State in the first parent (null: absent). */
  before: WorkPackageState | null;
  /** States in the other parents of a merge. */
  otherParents: (WorkPackageState | null)[];
  /** State in the commit (null: deleted). */
  after: WorkPackageState | null;
}

/**
 * The feature is part of every key: WP ids repeat across features, and two features moving their
 * WP01 in one commit are two transitions, not one.
 */
function wpRef(featureSlug: string, wpId: string): string {
  return `${featureSlug}/${wpId}`;
}

function historyKey(featureSlug: string, wpId: string, timestamp: string, lane: string): string {
  return `${wpRef(featureSlug, wpId)}|${timestamp}|${lane}`;
}

export function laneChangeKey(featureSlug: string, wpId: string, from: string | null, to: string, authorDate: string): string {
  return `${wpRef(featureSlug, wpId)}|${from ?? ''}|${to}|${authorDate}`;
}

function timeOf(entry: HistoryEntry): string {
  return entry.at ?? entry.timestamp;
}

function sameEntry(a: HistoryEntry, b: HistoryEntry): boolean {
  return a.lane === b.lane && timeOf(a) === timeOf(b);
}

type LanesByTime = Map<string, Set<string>>;

function addEntry(lanes: LanesByTime, entry: HistoryEntry): void {
  const at = timeOf(entry);
  const set = lanes.get(at) ?? new Set<string>();
  set.add(entry.lane);
  lanes.set(at, set);
}

/** States are shared by every commit that starts or ends with that blob: their entries by time too. */
const entryIndex = new WeakMap<WorkPackageState, LanesByTime>();

function lanesByTime(state: WorkPackageState): LanesByTime {
  let lanes = entryIndex.get(state);
  if (!lanes) {
    lanes = new Map();
    for (const entry of state.history) addEntry(lanes, entry);
    entryIndex.set(state, lanes);
  }
  return lanes;
}

/** Pure: the history entries of `after` that none of `parents` has. */
export function newEntries(after: WorkPackageState, parents: readonly (WorkPackageState | null)[]): HistoryEntry[] {
  const present = parents.filter((parent): parent is WorkPackageState => parent !== null);
  // versions of one file share the entry objects of their common history: skip that prefix cheaply
  const shared = present.length === 1 ? sharedPrefix(after.history, present[0]!.history) : 0;
  if (shared === after.history.length) return [];
  const rest = after.history.slice(shared);
  // a version adds an entry or two: comparing fields beats building a set of every entry the parents had
  if (rest.length > 8) {
    const known = present.map(lanesByTime);
    const seen: LanesByTime = new Map();
    return rest.filter((entry) => {
      const isIn = (lanes: LanesByTime): boolean => lanes.get(timeOf(entry))?.has(entry.lane) === true;
      if (isIn(seen) || known.some(isIn)) return false;
      addEntry(seen, entry);
      return true;
    });
  }
  return rest.filter((entry, index) => {
    for (let earlier = 0; earlier < index; earlier++) if (sameEntry(rest[earlier]!, entry)) return false;
    return !present.some((parent) => parent.history.some((other) => sameEntry(other, entry)));
  });
}

function sharedPrefix(a: readonly HistoryEntry[], b: readonly HistoryEntry[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * Pure: the transitions one commit made to one work package. New `history[]` entries give one hop
 * each, in order; a lane that still differs afterwards gives one more hop, so the last `to_lane` is
 * always the file's lane. A merge contributes only what no parent already had. `added`: the new
 * entries (`newEntries`), when the caller has them already.
 */
export function deriveWpTransitions(change: WpChange, commit: CommitFacts, added?: readonly HistoryEntry[]): Transition[] {
  const { after, before, featureSlug, wpId } = change;
  if (!after) return [];
  const parents = [before, ...change.otherParents];
  const transitions: Transition[] = [];
  let from = before?.lane ?? null;
  for (const entry of added ?? newEntries(after, parents)) {
    if (sameLane(entry.lane, from)) continue;
    transitions.push({
      featureSlug,
      wpId,
      fromLane: from,
      toLane: entry.lane,
      at: entry.at ?? commit.authorDate,
      actor: entry.agent ?? commit.authorName,
      key: historyKey(featureSlug, wpId, entry.timestamp, entry.lane),
      source: 'history',
      title: after.title,
    });
    from = entry.lane;
  }

  const lane = after.lane;
  if (lane === null || sameLane(lane, from)) return transitions;
  const mergedFromParent = change.otherParents.length > 0 && parents.some((parent) => sameLane(parent?.lane ?? null, lane));
  if (mergedFromParent && transitions.length === 0) return transitions;
  transitions.push({
    featureSlug,
    wpId,
    fromLane: from,
    toLane: lane,
    at: commit.authorDate,
    actor: commit.authorName,
    key: laneChangeKey(featureSlug, wpId, from, lane, commit.authorDate),
    source: 'frontmatter',
    title: after.title,
  });
  return transitions;
}
