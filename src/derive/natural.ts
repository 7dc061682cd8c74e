import { laneIdentity } from '../workpackage/lanes.js';
import type { Transition } from './transitions.js';

/**
 * A transition's natural identity: what it is, whatever names it. `ref` is the WP's canonical
 * reference (a renamed feature keeps its first name). A history entry is its lane and time (its
 * `from` depends on what the reader saw before it); a status line or a lane change is its from,
 * to and time. Times are compared to the millisecond, lanes by identity (doing ≡ in_progress).
 */
export function naturalKey(transition: Pick<Transition, 'source' | 'fromLane' | 'toLane' | 'at'>, ref: string): string {
  const at = Date.parse(transition.at);
  const to = laneIdentity(transition.toLane);
  if (transition.source === 'history') return `h|${ref}|${to}|${at}`;
  const from = transition.fromLane === null ? '' : laneIdentity(transition.fromLane);
  return `${transition.source === 'status-log' ? 's' : 'f'}|${ref}|${from}|${to}|${at}`;
}
