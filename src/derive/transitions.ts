import type { WorkPackageState } from '../workpackage/frontmatter.js';
import { sameLane } from '../workpackage/lanes.js';

export type TransitionSource = 'frontmatter' | 'history' | 'status-log';

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

export function historyKey(featureSlug: string, wpId: string, timestamp: string, lane: string): string {
  return `${wpRef(featureSlug, wpId)}|${timestamp}|${lane}`;
}

export function laneChangeKey(featureSlug: string, wpId: string, from: string | null, to: string, authorDate: string): string {
  return `${wpRef(featureSlug, wpId)}|${from ?? ''}|${to}|${authorDate}`;
}

function entryId(entry: { at: string | null; timestamp: string; lane: string }): string {
  return `${entry.at ?? entry.timestamp}|${entry.lane}`;
}

/**
 * Pure: the transitions one commit made to one work package. New `history[]` entries give one hop
 * each, in order; a lane that still differs afterwards gives one more hop, so the last `to_lane` is
 * always the file's lane. A merge contributes only what no parent already had.
 */
export function deriveWpTransitions(change: WpChange, commit: CommitFacts): Transition[] {
  const { after, before, featureSlug, wpId } = change;
  if (!after) return [];
  const parents = [before, ...change.otherParents];
  const known = new Set<string>();
  for (const parent of parents) for (const entry of parent?.history ?? []) known.add(entryId(entry));

  const transitions: Transition[] = [];
  let from = before?.lane ?? null;
  for (const entry of after.history) {
    if (known.has(entryId(entry))) continue;
    known.add(entryId(entry));
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
  });
  return transitions;
}
