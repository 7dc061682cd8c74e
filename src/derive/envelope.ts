import { AGGREGATE_TYPE_WORK_PACKAGE, ENVELOPE_SCHEMA_VERSION, EVENT_TYPE_WP_STATUS_CHANGED } from '../constants.js';
import type { EnvelopeDraft } from '../events/envelope.js';
import { eventIdOf } from './event-id.js';
import type { Transition } from './transitions.js';

export interface StampContext {
  projectUuid: string | null;
  projectSlug: string | null;
  nodeId: string;
  teamSlug: string;
  branch: string | null;
}

/** Titles are for display: a long one is cut (by code point, never inside a pair) so it cannot make the event too large to send. */
const MAX_TITLE_CHARS = 200;

function displayTitle(title: string): string {
  const chars = Array.from(title);
  return chars.length <= MAX_TITLE_CHARS ? title : `${chars.slice(0, MAX_TITLE_CHARS - 1).join('')}…`;
}

export function buildEnvelope(transition: Transition, context: StampContext, commit: { sha: string; authorDate: string }): EnvelopeDraft {
  return {
    event_id: eventIdOf(transition, context.projectUuid),
    event_type: EVENT_TYPE_WP_STATUS_CHANGED,
    aggregate_id: transition.wpId,
    aggregate_type: AGGREGATE_TYPE_WORK_PACKAGE,
    payload: {
      wp_id: transition.wpId,
      feature_slug: transition.featureSlug,
      from_lane: transition.fromLane,
      to_lane: transition.toLane,
      actor: transition.actor,
      transition_key: transition.key,
      source: transition.source,
      ...(transition.title ? { title: displayTitle(transition.title) } : {}),
    },
    timestamp: transition.at,
    node_id: context.nodeId,
    causation_id: null,
    team_slug: context.teamSlug,
    project_uuid: context.projectUuid,
    project_slug: context.projectSlug,
    git: { commit: commit.sha, branch: context.branch, author_date: commit.authorDate },
    schema_version: ENVELOPE_SCHEMA_VERSION,
  };
}
