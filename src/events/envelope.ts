/**
 * The event model every part shares: what derivation produces, the queue keeps, the transport
 * sends and the server stores. Types only, so that the queue, the transport and the flusher do
 * not depend on derivation.
 */

/** Where a transition was read: a frontmatter `lane` change, a `history` entry, or a status-log line. */
export type TransitionSource = 'frontmatter' | 'history' | 'status-log';

interface WPStatusChangedPayload {
  wp_id: string;
  feature_slug: string;
  from_lane: string | null;
  to_lane: string;
  actor: string;
  transition_key: string;
  source: TransitionSource;
  /** The WP's frontmatter title, when the move was read from its file (optional, for display). */
  title?: string;
}

/** The event envelope the sync server accepts, field for field (docs/protocol.md). */
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
