/**
 * Per-event validation of the envelope (contract.md). Returns the reason an event is rejected, or
 * null. One bad event never fails the others.
 */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const NODE_ID = /^[0-9a-f]{12}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const WP_ID = /^WP\d{2,}$/;
const MAX_PAYLOAD_BYTES = 64 * 1024;
export const KNOWN_EVENT_TYPES = new Set(['WPStatusChanged', 'WPCreated', 'FeatureCreated']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

export function validateEnvelope(event: unknown): string | null {
  if (!isObject(event)) return 'event is not a JSON object';
  if (!str(event.event_id) || !ULID.test(event.event_id)) return `event_id must be a 26-char ULID, got ${JSON.stringify(event.event_id)}`;
  if (!str(event.event_type) || !KNOWN_EVENT_TYPES.has(event.event_type)) return `unknown event_type ${JSON.stringify(event.event_type)}`;
  if (!str(event.aggregate_id)) return 'aggregate_id is required';
  if (!str(event.aggregate_type)) return 'aggregate_type is required';
  if (!isObject(event.payload)) return 'payload must be an object';
  if (Buffer.byteLength(JSON.stringify(event.payload)) > MAX_PAYLOAD_BYTES) return 'payload is larger than 64 KiB';
  if (!str(event.timestamp) || !ISO_UTC.test(event.timestamp) || Number.isNaN(Date.parse(event.timestamp))) return `timestamp must be ISO 8601 UTC, got ${JSON.stringify(event.timestamp)}`;
  if (!str(event.node_id) || !NODE_ID.test(event.node_id)) return `node_id must be 12 lower-case hex chars, got ${JSON.stringify(event.node_id)}`;
  if (!Number.isSafeInteger(event.lamport_clock) || (event.lamport_clock as number) < 1) return `lamport_clock must be an integer >= 1, got ${JSON.stringify(event.lamport_clock)}`;
  if (event.causation_id !== null && event.causation_id !== undefined && !(str(event.causation_id) && ULID.test(event.causation_id))) return 'causation_id must be a ULID or null';
  if (!str(event.team_slug)) return 'team_slug is required';
  if (!str(event.project_uuid) || !UUID_V4.test(event.project_uuid)) return `project_uuid must be a UUID v4, got ${JSON.stringify(event.project_uuid)}`;
  if (event.project_slug !== null && event.project_slug !== undefined && !(str(event.project_slug) && KEBAB.test(event.project_slug))) return 'project_slug must be kebab-case or null';
  if (!isObject(event.git)) return 'git must be an object';
  if (event.schema_version !== '1.0.0') return `unsupported schema_version ${JSON.stringify(event.schema_version)}`;
  if (event.event_type === 'WPStatusChanged') {
    const p = event.payload;
    if (!str(p.wp_id) || !WP_ID.test(p.wp_id)) return `payload.wp_id must match WPnn, got ${JSON.stringify(p.wp_id)}`;
    if (p.wp_id !== event.aggregate_id) return 'payload.wp_id must equal aggregate_id';
    if (!str(p.feature_slug)) return 'payload.feature_slug is required';
    if (p.from_lane !== null && !str(p.from_lane)) return 'payload.from_lane must be a lane or null';
    if (!str(p.to_lane)) return 'payload.to_lane is required';
  }
  return null;
}
