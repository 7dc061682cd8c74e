import { sameLane } from '../workpackage/lanes.js';

export type Cause = 'pending' | 'dead' | 'other-team' | 'server-lost' | 'not-captured' | 'not-in-tree';

/** What the local queue holds for one WP of the project: enough to tell why the server differs. */
export interface QueuedMove {
  feature: string;
  wpId: string;
  toLane: string;
  state: 'pending' | 'delivered' | 'dead';
}

interface Explained {
  cause: Cause;
  fix: string;
}

/**
 * Pure: why the server's board lacks a WP's local lane, judged from the local queue. The move that
 * leads to the local lane is pending (not sent yet), dead (rejected), delivered (to another team
 * than the one asked now, or the server lost it), or was never captured.
 */
export function explain(
  difference: { feature: string; wp_id: string; kind: string; local_lane: string | null },
  moves: readonly QueuedMove[],
  team: { now: string | null; before: string | null },
): Explained {
  if (difference.kind === 'unknown-wp') {
    return {
      cause: 'not-in-tree',
      fix: `nothing if ${difference.feature}/${difference.wp_id} was removed; else check out the branch that has it (\`git log --all -- kitty-specs/${difference.feature}\`)`,
    };
  }
  const mine = moves.filter((move) => move.wpId === difference.wp_id && move.feature === difference.feature && sameLane(move.toLane, difference.local_lane));
  if (mine.some((move) => move.state === 'pending')) return { cause: 'pending', fix: 'kitty sync flush' };
  if (mine.some((move) => move.state === 'delivered')) {
    if (team.before && team.before !== team.now) {
      return {
        cause: 'other-team',
        fix: `its move went to team ${team.before} and you are in team ${team.now}: \`kitty auth login\` as a user of ${team.before}`,
      };
    }
    return {
      cause: 'server-lost',
      fix: 'the server acknowledged its move but its board lacks it: check the server (`kitty doctor`) and that you are logged in to the server and team it went to (`kitty auth status`)',
    };
  }
  if (mine.some((move) => move.state === 'dead')) return { cause: 'dead', fix: 'see why with `kitty events list --state dead`, then `kitty sync retry-dead`' };
  return { cause: 'not-captured', fix: 'kitty derive, then kitty sync flush' };
}
