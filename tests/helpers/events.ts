import type { EnvelopeDraft } from '../../src/events/envelope.js';

export const NODE = 'abcdefabcdef';

/** A valid WPStatusChanged draft with event_id `id`, ready for EventQueue.enqueue. */
export function draft(id: string, overrides: Partial<EnvelopeDraft> = {}): EnvelopeDraft {
  return {
    event_id: id,
    event_type: 'WPStatusChanged',
    aggregate_id: 'WP01',
    aggregate_type: 'WorkPackage',
    payload: { wp_id: 'WP01', feature_slug: 'f', from_lane: null, to_lane: 'planned', actor: 'a', transition_key: id, source: 'frontmatter' },
    timestamp: '2026-01-01T00:00:00Z',
    node_id: NODE,
    causation_id: null,
    team_slug: 'local',
    project_uuid: '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e',
    project_slug: 'demo',
    git: { commit: 'c'.repeat(40), branch: 'main', author_date: '2026-01-01T00:00:00Z' },
    schema_version: '1.0.0',
    ...overrides,
  };
}
