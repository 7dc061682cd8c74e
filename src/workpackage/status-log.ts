import { creationFrom, laneIdentity } from './lanes.js';
import { normalizeTime } from './time.js';

export interface StatusTransition {
  /** 1-based line in the file. */
  line: number;
  /** The line as written (a merge keeps only lines no parent had). */
  raw: string;
  eventId: string | null;
  wpId: string;
  fromLane: string | null;
  toLane: string;
  at: string | null;
  rawAt: string | null;
  actor: string | null;
}

interface StatusLogProblem {
  line: number;
  message: string;
}

export interface StatusLogParse {
  transitions: StatusTransition[];
  /** Lines of other kinds (annotations, MissionCreated, …): skipped quietly, counted once. */
  skipped: number;
  problems: StatusLogProblem[];
}

/**
 * A status record is a few hundred bytes, but a note or evidence field can carry a pasted log: such
 * a line is still a move. Past this length it is skipped with a warning rather than parsed.
 */
const MAX_STATUS_LINE_CHARS = 64 * 1024 * 1024;

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value.trim() : null;
}

function actorName(value: unknown): string | null {
  if (typeof value === 'string') return text(value);
  if (typeof value === 'object' && value !== null) {
    const actor = value as Record<string, unknown>;
    return text(actor.display) ?? text(actor.id) ?? text(actor.name);
  }
  return null;
}

/**
 * Pure and tolerant: parses JSONL lines, keeping transition lines (those with `to_lane`). A bad line
 * is reported with its number and skipped; it never aborts the rest.
 */
export function parseStatusLines(lines: readonly string[], firstLineNumber = 1, maxChars = MAX_STATUS_LINE_CHARS): StatusLogParse {
  const result: StatusLogParse = { transitions: [], skipped: 0, problems: [] };
  lines.forEach((raw, index) => {
    const line = firstLineNumber + index;
    if (raw.length > maxChars) {
      result.problems.push({ line, message: `line of ${raw.length} characters is over the ${Math.round(maxChars / 1024 / 1024)} MiB limit` });
      return;
    }
    const trimmed = raw.trim();
    if (!trimmed) return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      result.problems.push({ line, message: `not JSON (${(error as Error).message})` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      result.problems.push({ line, message: 'not a JSON object' });
      return;
    }
    const record = value as Record<string, unknown>;
    const toLane = text(record.to_lane);
    if (!toLane) {
      result.skipped++;
      return;
    }
    const wpId = text(record.wp_id);
    if (!wpId) {
      result.problems.push({ line, message: 'transition line without wp_id' });
      return;
    }
    const rawAt = text(record.at) ?? text(record.timestamp);
    result.transitions.push({
      line,
      raw,
      eventId: text(record.event_id),
      wpId,
      fromLane: text(record.from_lane),
      toLane,
      at: normalizeTime(rawAt),
      rawAt,
      actor: actorName(record.actor),
    });
  });
  return result;
}

export function splitLines(content: string): string[] {
  const lines = content.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * Pure: the lines `after` added to `before`. An append (the normal case) is found without comparing
 * line by line; a rewritten file falls back to a multiset difference, which also gives the lines
 * it removed.
 */
export function addedLines(before: string | null, after: string): { lines: string[]; removed: string[]; firstLineNumber: number } {
  if (!before) return { lines: splitLines(after), removed: [], firstLineNumber: 1 };
  if (after.startsWith(before) && (before.endsWith('\n') || after.length === before.length)) {
    return { lines: splitLines(after.slice(before.length)), removed: [], firstLineNumber: splitLines(before).length + 1 };
  }
  const seen = new Map<string, number>();
  for (const line of splitLines(before)) seen.set(line, (seen.get(line) ?? 0) + 1);
  const added: string[] = [];
  for (const line of splitLines(after)) {
    const count = seen.get(line) ?? 0;
    if (count > 0) seen.set(line, count - 1);
    else added.push(line);
  }
  const removed = [...seen].flatMap(([line, count]) => Array<string>(count).fill(line));
  return { lines: added, removed, firstLineNumber: 1 };
}

/** Pure: what a transition line says, whatever its id: WP, from (creation: none), to and time. */
export function lineIdentity(line: StatusTransition): string {
  const from = creationFrom(line.fromLane);
  return `${line.wpId}|${from === null ? '' : laneIdentity(from)}|${laneIdentity(line.toLane)}|${line.at === null ? line.rawAt : Date.parse(line.at)}`;
}
