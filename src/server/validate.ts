/**
 * Per-event validation of the envelope. Returns why an event is rejected (a stable code and a
 * reason naming the value), or null. One bad event never fails the others.
 */
import type { Limits } from './limits.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
const NODE_ID = /^[0-9a-f]{12}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const WP_ID = /^WP\d{2,}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const KNOWN_EVENT_TYPES = new Set(['WPStatusChanged', 'WPCreated', 'FeatureCreated']);

interface Rejection {
  code: string;
  message: string;
}

type ValidationLimits = Pick<Limits, 'envelopeBytes' | 'envelopeDepth' | 'futureSkewMs'>;

const reject = (code: string, message: string): Rejection => ({ code, message });
const invalid = (message: string): Rejection => reject('invalid_envelope', message);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** A step of the walk: where a value sits is kept as a link to its parent, and spelled out only for a rejection. */
interface Step {
  value: unknown;
  depth: number;
  parent: Step | null;
  key: string | number;
  isKey?: boolean;
}

function pathOf(step: Step): string {
  const parts: string[] = [];
  for (let at: Step | null = step; at?.parent; at = at.parent) {
    const key = at.key;
    parts.push(typeof key === 'number' ? `[${key}]` : `.${/^[\w-]{1,64}$/.test(key) ? key : JSON.stringify(key.slice(0, 64))}`);
  }
  const path = parts.reverse().join('').replace(/^\./, '') || 'event';
  return step.isKey ? `${path} (key)` : path;
}

/** Nothing JSON must escape, nothing beyond ASCII: such a string is `length + 2` bytes and can hold no NUL or surrogate. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** The bytes `text` takes in JSON, or the reason it is refused (the path is JSON-escaped, so never carries the bad character itself). */
function measureString(text: string, step: Step): number | Rejection {
  if (PLAIN.test(text)) return text.length + 2;
  if (text.includes('\u0000')) return reject('string_nul', `${pathOf(step)} contains a NUL character`);
  if (LONE_SURROGATE.test(text)) return reject('string_lone_surrogate', `${pathOf(step)} contains a lone UTF-16 surrogate (not valid Unicode)`);
  return Buffer.byteLength(JSON.stringify(text));
}

/**
 * Walks the event without recursion (a 200,000-level nesting must not overflow the stack), adding up
 * the bytes its JSON takes and stopping at the first bound passed. Containers are charged for their
 * punctuation and keys before their children are queued, so a huge array is refused without being walked.
 */
export function checkShape(event: unknown, limits: Pick<Limits, 'envelopeBytes' | 'envelopeDepth'>): Rejection | null {
  const tooLarge = (): Rejection => reject('envelope_too_large', `event is larger than ${limits.envelopeBytes} bytes as JSON`);
  const stack: Step[] = [{ value: event, depth: 0, parent: null, key: '' }];
  let bytes = 0;
  while (stack.length > 0) {
    const step = stack.pop()!;
    const { value, depth } = step;
    if (typeof value === 'string') {
      if (value.length > limits.envelopeBytes) return tooLarge();
      const size = measureString(value, step);
      if (typeof size !== 'number') return size;
      bytes += size;
    } else if (typeof value === 'object' && value !== null) {
      if (depth >= limits.envelopeDepth) return reject('envelope_too_deep', `${pathOf(step)} is nested deeper than ${limits.envelopeDepth} levels`);
      const list = Array.isArray(value) ? (value as unknown[]) : null;
      const keys = list ? null : Object.keys(value);
      const count = list ? list.length : keys!.length;
      bytes += 2 + Math.max(0, count - 1);
      if (bytes > limits.envelopeBytes) return tooLarge();
      for (let i = 0; i < count; i++) {
        const key = list ? i : keys![i]!;
        if (typeof key === 'string') {
          const size = measureString(key, { value: key, depth, parent: step, key, isKey: true });
          if (typeof size !== 'number') return size;
          bytes += size + 1;
          if (bytes > limits.envelopeBytes) return tooLarge();
        }
        stack.push({ value: list ? list[i] : (value as Record<string, unknown>)[key], depth: depth + 1, parent: step, key });
      }
    } else {
      // JSON.parse reads 1e400 as Infinity, which JSON (and so the stored event) writes as null
      bytes += typeof value === 'number' && !Number.isFinite(value) ? 4 : String(value).length;
    }
    if (bytes > limits.envelopeBytes) return tooLarge();
  }
  return null;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/** A real calendar instant (2024-02-30 is not), at most `futureSkewMs` past `now`. */
export function checkTimestamp(value: unknown, now: number, futureSkewMs: number): Rejection | null {
  const match = typeof value === 'string' ? ISO_UTC.exec(value) : null;
  if (!match) return reject('timestamp_invalid', `timestamp must be ISO 8601 UTC (…Z), got ${JSON.stringify(value)}`);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const real = month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour < 24 && minute < 60 && second < 60;
  if (!real) return reject('timestamp_invalid', `timestamp ${JSON.stringify(value)} is not a real date and time`);
  // Date.UTC reads years 0-99 as 1900-1999: either way such an instant is long past
  if (Date.UTC(year, month - 1, day, hour, minute, second) > now + futureSkewMs) {
    return reject(
      'timestamp_in_future',
      `timestamp ${value} is more than ${Math.round(futureSkewMs / 3600_000)} h ahead of the server's clock (${new Date(now).toISOString()})`,
    );
  }
  return null;
}

/** Sorts like the instant it names, to the nanosecond: the board orders events by it. Only for a timestamp checkTimestamp passed. */
export function timestampKey(timestamp: string): string {
  // "YYYY-MM-DDTHH:MM:SS" is 19 characters; a fraction follows its dot, up to the closing Z
  return `${timestamp.slice(0, 19)}.${timestamp.slice(20, -1).padEnd(9, '0')}Z`;
}

/** timestampKey in SQL (SQLite and PostgreSQL alike), for a column of timestamps checkTimestamp passed. */
export function timestampKeySql(column: string): string {
  const fraction = `CASE WHEN length(${column}) > 20 THEN substr(${column}, 21, length(${column}) - 21) ELSE '' END`;
  return `substr(${column}, 1, 19) || '.' || substr(${fraction} || '000000000', 1, 9) || 'Z'`;
}

function checkFields(event: Record<string, unknown>): Rejection | null {
  if (!str(event.event_id) || !ULID.test(event.event_id)) return invalid(`event_id must be a 26-char ULID, got ${JSON.stringify(event.event_id)}`);
  if (!str(event.event_type) || !KNOWN_EVENT_TYPES.has(event.event_type)) return invalid(`unknown event_type ${JSON.stringify(event.event_type)}`);
  if (!str(event.aggregate_id)) return invalid('aggregate_id is required');
  if (!str(event.aggregate_type)) return invalid('aggregate_type is required');
  if (!isObject(event.payload)) return invalid('payload must be an object');
  if (!str(event.node_id) || !NODE_ID.test(event.node_id)) return invalid(`node_id must be 12 lower-case hex chars, got ${JSON.stringify(event.node_id)}`);
  if (!Number.isSafeInteger(event.lamport_clock) || (event.lamport_clock as number) < 1)
    return invalid(`lamport_clock must be an integer >= 1, got ${JSON.stringify(event.lamport_clock)}`);
  if (event.causation_id !== null && event.causation_id !== undefined && !(str(event.causation_id) && ULID.test(event.causation_id)))
    return invalid('causation_id must be a ULID or null');
  if (!str(event.team_slug)) return invalid('team_slug is required');
  if (!str(event.project_uuid) || !UUID_V4.test(event.project_uuid))
    return invalid(`project_uuid must be a UUID v4, got ${JSON.stringify(event.project_uuid)}`);
  if (event.project_slug !== null && event.project_slug !== undefined && !(str(event.project_slug) && KEBAB.test(event.project_slug)))
    return invalid('project_slug must be kebab-case or null');
  if (!isObject(event.git)) return invalid('git must be an object');
  if (event.schema_version !== '1.0.0') return invalid(`unsupported schema_version ${JSON.stringify(event.schema_version)}`);
  if (event.event_type === 'WPStatusChanged') return checkStatusPayload(event.payload, event.aggregate_id);
  return null;
}

function checkStatusPayload(p: Record<string, unknown>, aggregateId: unknown): Rejection | null {
  if (!str(p.wp_id) || !WP_ID.test(p.wp_id)) return invalid(`payload.wp_id must match WPnn, got ${JSON.stringify(p.wp_id)}`);
  if (p.wp_id !== aggregateId) return invalid('payload.wp_id must equal aggregate_id');
  if (!str(p.feature_slug)) return invalid('payload.feature_slug is required');
  if (p.from_lane !== null && !str(p.from_lane)) return invalid('payload.from_lane must be a lane or null');
  if (!str(p.to_lane)) return invalid('payload.to_lane is required');
  return null;
}

/**
 * Whether the event's objects and arrays stay shallower than `envelopeDepth` (as checkShape counts)
 * and a lower bound of its JSON's bytes fits `envelopeBytes`, found without recursion: a string
 * takes at least its length and two quotes, a key its length, quotes and a colon, a container its
 * brackets and commas, anything else a byte. An event past either bound goes to checkShape, which
 * refuses it early; without the bound, it would be stringified whole first.
 */
function withinBounds(event: object, { envelopeDepth, envelopeBytes }: ValidationLimits): boolean {
  const stack: [object, number][] = [[event, 0]];
  let bytes = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (depth >= envelopeDepth) return false;
    const list = Array.isArray(value) ? (value as unknown[]) : null;
    const keys = list ? null : Object.keys(value);
    const count = list ? list.length : keys!.length;
    bytes += 2 + Math.max(0, count - 1);
    for (let i = 0; i < count && bytes <= envelopeBytes; i++) {
      const key = keys?.[i];
      if (key !== undefined) bytes += key.length + 3;
      const child = key === undefined ? list![i] : (value as Record<string, unknown>)[key];
      if (typeof child === 'string') bytes += child.length + 2;
      else if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
      else bytes += 1;
    }
    if (bytes > envelopeBytes) return false;
  }
  return true;
}

/**
 * checkShape's answer for an event, with its JSON when it passes. The JSON is made once and, when it
 * escapes nothing as \u (so no string holds a NUL or a lone surrogate, which JSON.stringify writes as
 * \u escapes) and fits, the walk over every string is skipped: it would find nothing. Anything else
 * takes the walk, which names the problem. Stringifying waits for the depth check: it recurses.
 */
function shapeOf(event: Record<string, unknown>, limits: ValidationLimits): Rejection | string {
  if (!withinBounds(event, limits)) return checkShape(event, limits) ?? JSON.stringify(event);
  const json = JSON.stringify(event);
  if (json.length <= limits.envelopeBytes && !json.includes('\\u') && Buffer.byteLength(json) <= limits.envelopeBytes) return json;
  return checkShape(event, limits) ?? json;
}

/**
 * Why an event is rejected, or its JSON (the text the store keeps). Shape and size first: the
 * field checks (and anything that serializes the event later) may then recurse safely.
 */
export function validatedJson(event: unknown, limits: ValidationLimits, now = Date.now()): Rejection | string {
  if (!isObject(event)) return invalid('event is not a JSON object');
  const shape = shapeOf(event, limits);
  if (typeof shape !== 'string') return shape;
  return checkFields(event) ?? checkTimestamp(event.timestamp, now, limits.futureSkewMs) ?? shape;
}
