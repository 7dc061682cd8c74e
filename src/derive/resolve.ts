import type { HistoryEntry } from '../workpackage/frontmatter.js';
import { creationFrom, sameLane } from '../workpackage/lanes.js';
import type { StatusTransition } from '../workpackage/status-log.js';
import { eventIdOf } from './event-id.js';
import type { Ledger } from './ledger.js';
import { naturalKey } from './natural.js';
import { type CommitFacts, laneChangeKey, type Transition } from './transitions.js';
import type { DerivedCommit, WpCandidate } from './walk.js';

interface Resolution {
  transitions: Transition[];
  /** Transitions named a second way (re-keyed, seen again, backfilled): already captured. */
  aliases: number;
  /** Later `from == to` status lines: no move. */
  sameLaneLines: number;
}

/**
 * Turns what a commit shows into the transitions it made, against what was captured before it:
 * the exactly-once rules. Runs commit by commit in walk order; every decision is recorded in the
 * ledger, so a later pass, or another machine walking the same history, decides the same way.
 */
export function resolveCommit(derived: DerivedCommit, ledger: Ledger, projectUuid: string | null): Resolution {
  const resolution: Resolution = { transitions: [], aliases: 0, sameLaneLines: 0 };
  const facts: CommitFacts = { authorDate: derived.authorDate, authorName: derived.commit.authorName };
  linkRenamedFeatures(derived, ledger);
  const take = (transition: Transition, ref: string): void => {
    const key = naturalKey(transition, ref);
    const eventId = eventIdOf(transition, projectUuid);
    const known = ledger.lookup(ref, key);
    if (known !== undefined) {
      // the same transition by the same name (a commit walked again) goes on: the queue keeps it once
      if (!known.alias && known.eventId === eventId) resolution.transitions.push(transition);
      else resolution.aliases++;
      return;
    }
    const atMs = Date.parse(transition.at);
    const restated = transition.source === 'status-log' && ledger.frontmatterAtMs(ref) >= atMs;
    ledger.record({ key, ref, eventId, source: transition.source, toLane: transition.toLane, atMs, alias: restated });
    if (restated) resolution.aliases++;
    else resolution.transitions.push(transition);
  };
  for (const wp of derived.wps) {
    const ref = ledger.ref(wp.featureSlug, wp.wpId);
    for (const transition of wp.moves) take(transition, ref);
    markSeen(wp, ledger, ref, facts);
  }
  for (const log of derived.logs) {
    resolution.aliases += log.restated;
    const created = new Set<string>();
    for (const line of log.lines) {
      const ref = ledger.ref(log.feature, line.wpId);
      const transition = lineTransition(log.feature, line, facts);
      // a `from == to` line creates a WP the first time only (or is that creation, walked again)
      const repeated = isSameLaneLine(line) && (ledger.hasAny(ref) || created.has(ref)) && ledger.lookup(ref, naturalKey(transition, ref)) === undefined;
      if (repeated) {
        resolution.sameLaneLines++;
        continue;
      }
      created.add(ref);
      take(transition, ref);
    }
  }
  return resolution;
}

function historyKey(entry: HistoryEntry, ref: string, facts: CommitFacts): string {
  return naturalKey({ source: 'history', fromLane: null, toLane: entry.lane, at: entry.at ?? facts.authorDate }, ref);
}

/**
 * History entries that were no move when first seen (the lane did not change) are remembered too:
 * read again later from a re-added file, they must not become moves.
 */
function markSeen(wp: WpCandidate, ledger: Ledger, ref: string, facts: CommitFacts): void {
  for (const entry of wp.added) {
    const key = historyKey(entry, ref, facts);
    if (ledger.lookup(ref, key) !== undefined) continue;
    ledger.record({ key, ref, eventId: '', source: 'history', toLane: entry.lane, atMs: Date.parse(entry.at ?? facts.authorDate), alias: true });
  }
}

function isSameLaneLine(line: StatusTransition): boolean {
  const from = creationFrom(line.fromLane);
  return from !== null && sameLane(from, line.toLane);
}

/** A status line as a transition: `genesis`, or `from == to`, is the WP's creation. */
function lineTransition(feature: string, line: StatusTransition, facts: CommitFacts): Transition {
  const at = line.at ?? facts.authorDate;
  return {
    featureSlug: feature,
    wpId: line.wpId,
    fromLane: isSameLaneLine(line) ? null : creationFrom(line.fromLane),
    toLane: line.toLane,
    at,
    actor: line.actor ?? facts.authorName,
    key: line.eventId ?? laneChangeKey(feature, line.wpId, line.fromLane, line.toLane, line.rawAt ?? at),
    source: 'status-log',
    lineEventId: line.eventId,
  };
}

/** A feature folder renamed in this commit keeps its WPs' history under its first name. */
function linkRenamedFeatures(derived: DerivedCommit, ledger: Ledger): void {
  for (const { from, to } of derived.renames) ledger.link(to, from);
}
