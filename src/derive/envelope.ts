import { AGGREGATE_TYPE_WORK_PACKAGE, EVENT_TYPE_WP_STATUS_CHANGED, SCHEMA_VERSION } from '../constants.js';
import { eventIdOf } from './event-id.js';
import type { Transition, TransitionSource } from './transitions.js';

export interface WPStatusChangedPayload {
  wp_id: string;
  feature_slug: string;
  from_lane: string | null;
  to_lane: string;
  actor: string;
  transition_key: string;
  source: TransitionSource;
}

/** The event envelope the sync server accepts, field for field. */
export interface Envelope {
  event_id: string;
  event_type: string;
  aggregate_id: string;
  aggregate_type: string;
  payload: WPStatusChangedPayload | Record<string, unknown>;
  timestamp: string;
  node_id: string;
  lamport_clock: number;
  causation_id: string | null;
  team_slug: string;
  project_uuid: string | null;
  project_slug: string | null;
  git: { commit: string; branch: string | null; author_date: string };
  schema_version: string;
}

/** An envelope before the queue stamps its Lamport clock (at insert, so values never repeat). */
export type EnvelopeDraft = Omit<Envelope, 'lamport_clock'>;

export interface StampContext {
  projectUuid: string | null;
  projectSlug: string | null;
  nodeId: string;
  teamSlug: string;
  branch: string | null;
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
    },
    timestamp: transition.at,
    node_id: context.nodeId,
    causation_id: null,
    team_slug: context.teamSlug,
    project_uuid: context.projectUuid,
    project_slug: context.projectSlug,
    git: { commit: commit.sha, branch: context.branch, author_date: commit.authorDate },
    schema_version: SCHEMA_VERSION,
  };
}
