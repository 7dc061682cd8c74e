import { type CommitFacts, laneChangeKey, type Transition } from './transitions.js';

/**
 * Pure: the transitions a rewritten commit (amend, rebase, squash) adds beyond those its old
 * commits already captured. History and status-log transitions keep their keys across rewrites
 * and pass through. A lane-only move is followed along the captured old moves of that WP: if they
 * reach its target, nothing is new; if they stop short, only the rest of the way is.
 */
export function reconcileRewrite(transitions: readonly Transition[], captured: readonly Transition[], commit: CommitFacts): Transition[] {
  const result: Transition[] = [];
  for (const transition of transitions) {
    if (transition.source !== 'frontmatter') {
      result.push(transition);
      continue;
    }
    const lane = followCaptured(transition, captured);
    if (lane === transition.fromLane) {
      result.push(transition);
    } else if (lane !== transition.toLane) {
      result.push({
        ...transition,
        fromLane: lane,
        key: laneChangeKey(transition.featureSlug, transition.wpId, lane, transition.toLane, commit.authorDate),
      });
    }
  }
  return result;
}

/**
 * Where the WP's captured old moves lead from the transition's starting lane. The old commits come
 * in no particular order (a chain of rewrites is found newest first), so the chain is followed by
 * lane, not by position: each captured move is taken at most once, which also ends a cycle.
 */
function followCaptured(transition: Transition, captured: readonly Transition[]): string | null {
  const mine = captured.filter((old) => old.featureSlug === transition.featureSlug && old.wpId === transition.wpId);
  const used = new Set<Transition>();
  let lane = transition.fromLane;
  for (let moved = true; moved; ) {
    moved = false;
    for (const old of mine) {
      if (used.has(old) || old.fromLane !== lane) continue;
      used.add(old);
      lane = old.toLane;
      moved = true;
    }
  }
  return lane;
}
