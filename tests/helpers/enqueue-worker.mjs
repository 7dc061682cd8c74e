// A separate process appending valid events one transaction at a time, as concurrent hook
// workers do. argv: count tag nodeId [projectUuid]
import { monotonicFactory } from 'ulid';
import { EventQueue } from '../../dist/queue/queue.js';

const [count, tag, nodeId, projectUuid] = [
  Number(process.argv[2]),
  process.argv[3],
  process.argv[4],
  process.argv[5] ?? '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e',
];
const ulid = monotonicFactory();
const queue = EventQueue.open({ env: process.env });
const clocks = [];
for (let i = 0; i < count; i++) {
  const wp = `WP${String((i % 90) + 10)}`;
  const { inserted } = queue.enqueue([
    {
      event_id: ulid(),
      event_type: 'WPStatusChanged',
      aggregate_id: wp,
      aggregate_type: 'WorkPackage',
      payload: {
        wp_id: wp,
        feature_slug: `feature-${tag}`,
        from_lane: 'planned',
        to_lane: 'doing',
        actor: 'w',
        transition_key: `${tag}-${i}`,
        source: 'frontmatter',
      },
      timestamp: new Date().toISOString(),
      node_id: nodeId,
      causation_id: null,
      team_slug: 'local',
      project_uuid: projectUuid,
      project_slug: 'demo',
      git: { commit: '0'.repeat(40), branch: 'main', author_date: new Date().toISOString() },
      schema_version: '1.0.0',
    },
  ]);
  clocks.push(inserted[0].lamport_clock);
}
queue.close();
process.stdout.write(JSON.stringify(clocks));
