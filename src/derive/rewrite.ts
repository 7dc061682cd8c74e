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
    let lane = transition.fromLane;
    for (const old of captured) {
      if (old.featureSlug === transition.featureSlug && old.wpId === transition.wpId && old.fromLane === lane) lane = old.toLane;
    }
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
