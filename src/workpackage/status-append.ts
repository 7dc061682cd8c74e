import { GENESIS } from './lanes.js';
import { parseStatusLines, splitLines } from './status-log.js';

/** One move to record in a status log. */
export interface LogMove {
  eventId: string;
  wpId: string;
  /** The canonical lane before the move; null when the WP had none. */
  fromLane: string | null;
  toLane: string;
  now: Date;
  actor: { name: string; email: string | null };
  note: string | null;
  /** The feature's folder name, for a log without a transition line to copy. */
  feature: string;
}

/** The last transition line of a log, parsed, with its exact text (for its JSON style). */
interface TemplateLine {
  record: Record<string, unknown>;
  raw: string;
}

/** Keys that name the feature or the way it is worked on, not this one move: kept as written. */
const CONTEXT_KEYS = new Set([
  'feature_slug',
  'mission_slug',
  'mission_id',
  'mission_number',
  'project_slug',
  'project_uuid',
  'schema_version',
  'execution_mode',
]);
const NOTE_KEYS = ['reason', 'note', 'notes', 'comment', 'message'];
const TIME_KEYS = new Set(['at', 'timestamp']);
const TIME = /^\d{4}-\d{2}-\d{2}([T ])\d{2}:\d{2}:\d{2}(?:[.,](\d+))?([Zz]|[+-]\d{2}:?\d{2})?$/;

/** For a log without a transition line yet: the shape of the oldest transition lines. */
function defaultTemplate(feature: string): TemplateLine {
  return {
    record: { event_id: '', wp_id: '', from_lane: '', to_lane: '', at: '2000-01-01T00:00:00.000+00:00', actor: '', feature_slug: feature },
    raw: '{"event_id":""}',
  };
}

/** Pure: the last transition line of a log's text, or null when it has none. */
export function lastTransitionLine(content: string): TemplateLine | null {
  const lines = splitLines(content);
  const last = parseStatusLines(lines).transitions.at(-1);
  if (!last) return null;
  const raw = lines[last.line - 1]!.trim();
  return { record: JSON.parse(raw) as Record<string, unknown>, raw };
}

/**
 * Pure: `now` written like `template` (fraction digits, `Z` or `+00:00`, `T` or space). A time
 * without a zone gets `Z`: kitty and most readers would take a zoneless time as local time.
 */
export function timeLike(template: unknown, now: Date): string {
  const iso = now.toISOString();
  const match = typeof template === 'string' ? TIME.exec(template.trim()) : null;
  if (!match) return iso;
  const digits = match[2]?.length ?? 0;
  const fraction = digits > 0 ? `.${`${iso.slice(20, 23)}000000000`.slice(0, digits)}` : '';
  const zone = match[3];
  const suffix = zone === undefined ? 'Z' : /^[Zz]$/.test(zone) ? zone : zone.includes(':') ? '+00:00' : '+0000';
  return `${iso.slice(0, 10)}${match[1]}${iso.slice(11, 19)}${fraction}${suffix}`;
}

/** Pure: the actor as a string, or as an object with the template's keys when it uses one. */
export function actorLike(template: unknown, actor: LogMove['actor']): unknown {
  if (typeof template !== 'object' || template === null || Array.isArray(template)) return actor.name;
  const values: Record<string, string> = { display: actor.name, name: actor.name, id: actor.email ?? actor.name, kind: 'human' };
  return Object.fromEntries(Object.keys(template).map((key) => [key, Object.hasOwn(values, key) ? values[key] : null]));
}

function moveValue(key: string, template: Record<string, unknown>, move: LogMove, noteKey: string | undefined): unknown {
  const own: Record<string, unknown> = { event_id: move.eventId, wp_id: move.wpId, from_lane: move.fromLane ?? GENESIS, to_lane: move.toLane };
  if (Object.hasOwn(own, key)) return own[key];
  if (TIME_KEYS.has(key)) return timeLike(template[key], move.now);
  if (key === 'actor') return actorLike(template.actor, move.actor);
  if (CONTEXT_KEYS.has(key)) return template[key];
  if (key === noteKey) return move.note;
  // a flag of the template's move (e.g. `force`) is not raised by a plain move
  return typeof template[key] === 'boolean' ? false : null;
}

/** Pure: the record of `move`, with the template's keys in the template's order. */
export function moveRecord(template: TemplateLine, move: LogMove): { record: Record<string, unknown>; noteKept: boolean } {
  const source = template.record;
  const noteKey = NOTE_KEYS.find((key) => Object.hasOwn(source, key));
  const record = Object.fromEntries(Object.keys(source).map((key) => [key, moveValue(key, source, move, noteKey)]));
  return { record, noteKept: move.note === null || noteKey !== undefined };
}

/** The separators of a JSON line: Python writes `", "` and `": "`, most other tools neither. */
function separatorsOf(raw: string): { item: string; key: string } {
  const spaced = /^\{\s*"(?:[^"\\]|\\.)*"\s*:\s/.test(raw);
  return spaced ? { item: ', ', key: ': ' } : { item: ',', key: ':' };
}

function serialize(value: unknown, seps: { item: string; key: string }): string {
  if (Array.isArray(value)) return `[${value.map((item) => serialize(item, seps)).join(seps.item)}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}${seps.key}${serialize(item, seps)}`)
      .join(seps.item)}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Pure: `record` as one JSON line in the template's style, ASCII-escaped when the template is ASCII. */
export function formatLike(template: TemplateLine, record: Record<string, unknown>): string {
  const { raw } = template;
  const line = serialize(record, separatorsOf(raw));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is all of ASCII; a line with anything else is kept as written
  if (/[^\x00-\x7f]/.test(raw)) return line;
  return line.replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Pure: the text to append to `content` so that `line` becomes its last line, in the file's line
 * ending. Appending, not rewriting, is what keeps every existing byte as it was.
 */
export function lineAddition(content: string, line: string): string {
  const lastBreak = content.lastIndexOf('\n');
  const eol = lastBreak > 0 && content[lastBreak - 1] === '\r' ? '\r\n' : '\n';
  const separator = content === '' || content.endsWith('\n') ? '' : eol;
  return `${separator}${line}${eol}`;
}

/** Pure: what to append to a log's `content` to record `move`, and whether a note had a key to go in. */
export function appendMove(content: string, move: LogMove): { addition: string; record: Record<string, unknown>; noteKept: boolean } {
  const template = lastTransitionLine(content) ?? defaultTemplate(move.feature);
  const { record, noteKept } = moveRecord(template, move);
  return { addition: lineAddition(content, formatLike(template, record)), record, noteKept };
}
